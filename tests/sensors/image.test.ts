import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodedImageSize, resizeRgb, testCard, type CameraData } from '../../sensors/index.ts';

function rgbRamp(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([x * 10, y * 20, (x + y) * 5], (y * w + x) * 3);
  return d;
}

describe('camera images', () => {
  it('decodes PNG (rgb, rgba, grey, 16-bit) to rgb8 exactly', () => {
    const rgb = rgbRamp(7, 5);
    const cam = (data: Uint8Array): CameraData => ({ encoding: 'png', width: 7, height: 5, frame_id: 'c', data });
    expect(decodeImage(cam(encodePng({ width: 7, height: 5, data: rgb, channels: 3 }))).data).toEqual(rgb);
    const rgba = new Uint8Array(7 * 5 * 4);
    for (let p = 0; p < 35; p++) rgba.set([...rgb.subarray(p * 3, p * 3 + 3), 128], p * 4);
    expect(decodeImage(cam(encodePng({ width: 7, height: 5, data: rgba, channels: 4 }))).data).toEqual(rgb);
    const grey = Uint8Array.from({ length: 35 }, (_, i) => i * 7);
    const g = decodeImage(cam(encodePng({ width: 7, height: 5, data: grey, channels: 1 })));
    expect(Array.from(g.data.subarray(0, 6))).toEqual([0, 0, 0, 7, 7, 7]);
    const deep = Uint16Array.from({ length: 35 * 3 }, (_, i) => rgb[i] * 257);
    expect(decodeImage(cam(encodePng({ width: 7, height: 5, data: deep, channels: 3, depth: 16 }))).data).toEqual(rgb);
  });

  it('decodes JPEG close to the source and reads sizes from headers without decoding', () => {
    const card = testCard(64, 48, 0, 95, 0);
    expect(encodedImageSize(card.data, 'jpeg')).toEqual({ width: 64, height: 48 });
    const png = encodePng({ width: 7, height: 5, data: rgbRamp(7, 5), channels: 3 });
    expect(encodedImageSize(png, 'png')).toEqual({ width: 7, height: 5 });
    const img = decodeImage(card);
    expect(img.data.length).toBe(64 * 48 * 3);
    const ref = jpeg.decode(card.data, { useTArray: true, formatAsRGBA: false });
    expect(Buffer.from(img.data).equals(Buffer.from(ref.data))).toBe(true);
  });

  it('rejects an image whose header disagrees with its declared size, or that is not what it claims', () => {
    const card = testCard(64, 48, 0);
    expect(() => decodeImage({ ...card, width: 640, height: 480 })).toThrow(/declared 640x480 but the jpeg header says 64x48/);
    expect(() => decodeImage({ ...card, encoding: 'png' })).toThrow(/not a PNG/);
    expect(() => decodeImage({ ...card, data: new Uint8Array([1, 2, 3, 4]) })).toThrow(/not a JPEG/);
  });

  it('resizes: identity, exact 2x box average, and bilinear upscaling of a constant', () => {
    const src = { width: 4, height: 2, data: rgbRamp(4, 2) };
    expect(resizeRgb(src, 4, 2)).toEqual(src.data);
    const half = resizeRgb(src, 2, 1);
    // Box of x 0..1, y 0..1 for channel 0: (0 + 10 + 0 + 10) / 4 = 5.
    expect(Array.from(half)).toEqual([5, 10, 5, 25, 10, 15]);
    const flat = { width: 3, height: 3, data: new Uint8Array(27).fill(77) };
    expect(resizeRgb(flat, 5, 4).every((v) => v === 77)).toBe(true);
  });
});
