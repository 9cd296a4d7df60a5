// Camera images to pixels: decode jpeg/png/rgb8 to rgb8 (H×W×3, row-major,
// top row first) and resize for the policy. Encoded sizes are read from the
// file header and bounded before the decoder allocates anything.
import jpeg from 'jpeg-js';
import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import { MAX_IMAGE_SIDE, type CameraData } from './schemas.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** width*height*3 bytes. */
  data: Uint8Array;
}

export class ImageError extends Error {
  override name = 'ImageError';
}

/** Width and height from a PNG IHDR or a JPEG SOFn header, without decoding. */
export function encodedImageSize(bytes: Uint8Array, encoding: 'jpeg' | 'png'): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === 'png') {
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    if (bytes.length < 24 || sig.some((b, i) => bytes[i] !== b)) throw new ImageError('not a PNG (bad signature)');
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new ImageError('not a JPEG (no SOI marker)');
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) throw new ImageError(`corrupt JPEG marker at byte ${i}`);
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = view.getUint16(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > bytes.length) break;
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    i += 2 + len;
  }
  throw new ImageError('JPEG has no frame header (SOF)');
}

/** Decodes any camera payload to rgb8, checking it matches the declared size. */
export function decodeImage(img: CameraData): RgbImage {
  const { width, height } = img;
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw new ImageError(`image ${width}x${height} exceeds ${MAX_IMAGE_SIDE}`);
  if (img.encoding === 'rgb8') {
    if (img.data.length !== width * height * 3) throw new ImageError(`rgb8 ${width}x${height} needs ${width * height * 3} bytes, got ${img.data.length}`);
    return { width, height, data: img.data };
  }
  const real = encodedImageSize(img.data, img.encoding);
  if (real.width !== width || real.height !== height) {
    throw new ImageError(`declared ${width}x${height} but the ${img.encoding} header says ${real.width}x${real.height}`);
  }
  if (img.encoding === 'jpeg') {
    const out = jpeg.decode(img.data, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: (MAX_IMAGE_SIDE * MAX_IMAGE_SIDE) / 1e6,
      maxMemoryUsageInMB: 512,
    });
    return { width: out.width, height: out.height, data: out.data };
  }
  const png = decodePng(img.data);
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  if (png.palette) {
    const expanded = convertIndexedToRgb(png);
    const ch = expanded.length / n;
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = expanded[p * ch + c];
    return { width: png.width, height: png.height, data: rgb };
  }
  const ch = png.channels;
  const shift = png.depth === 16 ? 8 : 0;
  const scale = png.depth < 8 ? 255 / ((1 << png.depth) - 1) : 1;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      // Grey (1–2 channels) fills all three; alpha is dropped.
      const src = ch >= 3 ? png.data[p * ch + c] : png.data[p * ch];
      rgb[p * 3 + c] = Math.round((src >> shift) * scale);
    }
  }
  return { width: png.width, height: png.height, data: rgb };
}

/** Bilinear resize of an rgb8 image (area-averaged when shrinking by 2× or more). */
export function resizeRgb(src: RgbImage, width: number, height: number, out = new Uint8Array(width * height * 3)): Uint8Array {
  if (src.width === width && src.height === height) {
    out.set(src.data);
    return out;
  }
  const sx = src.width / width;
  const sy = src.height / height;
  if (sx >= 2 && sy >= 2) {
    // Box filter: average every source pixel that falls in the target cell.
    for (let y = 0; y < height; y++) {
      const y0 = Math.floor(y * sy);
      const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
      for (let x = 0; x < width; x++) {
        const x0 = Math.floor(x * sx);
        const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
        let r = 0;
        let g = 0;
        let b = 0;
        for (let yy = y0; yy < y1; yy++) {
          let i = (yy * src.width + x0) * 3;
          for (let xx = x0; xx < x1; xx++, i += 3) {
            r += src.data[i];
            g += src.data[i + 1];
            b += src.data[i + 2];
          }
        }
        const n = (y1 - y0) * (x1 - x0);
        const o = (y * width + x) * 3;
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      }
    }
    return out;
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(src.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(src.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(src.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(src.width - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = src.data[(y0 * src.width + x0) * 3 + c];
        const b = src.data[(y0 * src.width + x1) * 3 + c];
        const d = src.data[(y1 * src.width + x0) * 3 + c];
        const e = src.data[(y1 * src.width + x1) * 3 + c];
        out[(y * width + x) * 3 + c] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
  return out;
}
