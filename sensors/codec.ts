// How samples become MCAP messages, and back.
//
// Encoding choice: every channel uses messageEncoding "json" with a
// "jsonschema" schema. Camera channels use Foxglove's own well-known schemas
// (foxglove.CompressedImage for jpeg/png, foxglove.RawImage for rgb8, taken
// verbatim from @foxglove/schemas), so Foxglove shows the images with no
// extension; our other modalities get small senseact.* JSON schemas whose
// numeric fields Foxglove can plot directly. Binary payloads (image bytes,
// taxel forces as little-endian float32) are base64 strings with
// `contentEncoding: base64`, which is how Foxglove's JSON convention carries
// bytes. Base64 costs 4/3 in size before compression, but the chunk is zstd
// compressed and zstd's entropy stage takes most of that back (6 bits of
// information per base64 character), base64 encoding is native and fast in
// Node, and the alternatives cost more than they save here: protobuf would
// need a FileDescriptorSet toolchain and a codec per message, CBOR is not an
// encoding Foxglove documents for MCAP, and ros2 CDR would tie the log to ROS
// message definitions. `senseact bench record` measures what this costs.
import { CompressedImage, RawImage } from '@foxglove/schemas/jsonschema';
import { z } from 'zod';
import {
  DATA_SCHEMAS,
  MAX_ENCODED_IMAGE_BYTES,
  MAX_IMAGE_SIDE,
  MAX_TAXEL_SIDE,
  SampleError,
  firstIssue,
  isTactileTaxels,
  modalityOf,
  type CameraData,
  type Modality,
  type Sample,
  type TactileData,
} from './schemas.ts';

/** What a channel carries; fixed per stream for the life of a log. */
export type ChannelKind =
  | 'compressed_image'
  | 'raw_image'
  | 'tactile_taxels'
  | 'tactile_compressed_image'
  | 'tactile_raw_image'
  | 'smell'
  | 'proprio'
  | 'action';

export interface SchemaDef {
  name: string;
  encoding: 'jsonschema';
  data: Uint8Array;
}

const timeSchema = {
  type: 'object',
  title: 'time',
  properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0, maximum: 999999999 } },
  description: 'Capture time',
};

const numberArray = { type: 'array', items: { type: 'number' } };
const stringArray = { type: 'array', items: { type: 'string' } };

const TACTILE_SCHEMA = {
  title: 'senseact.TactileTaxels',
  description: 'A tactile pad: rows x cols taxels, three force axes each',
  type: 'object',
  properties: {
    timestamp: timeSchema,
    pad: { type: 'string' },
    rows: { type: 'integer', minimum: 1 },
    cols: { type: 'integer', minimum: 1 },
    forces: {
      type: 'string',
      contentEncoding: 'base64',
      description: 'rows*cols*3 little-endian float32 forces in newtons, (x, y, z) per taxel, row-major',
    },
    total_force: {
      type: 'object',
      description: 'Sum of the taxel forces, N (for plotting)',
      properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' } },
    },
  },
  required: ['timestamp', 'pad', 'rows', 'cols', 'forces'],
};

const SMELL_SCHEMA = {
  title: 'senseact.Smell',
  description: 'An electronic-nose reading',
  type: 'object',
  properties: {
    timestamp: timeSchema,
    channels: stringArray,
    units: { type: 'array', items: { type: 'string', enum: ['ohm', 'voc_index', 'nox_index', 'ppm', 'arb'] } },
    values: numberArray,
    temperature_c: { type: 'number' },
    humidity_pct: { type: 'number' },
    heater_step: { type: 'integer', minimum: 0 },
    warmed_up: { type: 'boolean' },
  },
  required: ['timestamp', 'channels', 'units', 'values', 'temperature_c', 'humidity_pct', 'heater_step', 'warmed_up'],
};

const PROPRIO_SCHEMA = {
  title: 'senseact.Proprio',
  description: 'Joint state and gripper',
  type: 'object',
  properties: {
    timestamp: timeSchema,
    names: stringArray,
    position: numberArray,
    velocity: numberArray,
    effort: numberArray,
    gripper_opening: { type: 'number', description: 'm' },
    gripper_force: { type: 'number', description: 'N' },
    ee_pose: {
      type: 'object',
      properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' }, yaw: { type: 'number' } },
    },
  },
  required: ['timestamp', 'names', 'position', 'velocity', 'effort', 'gripper_opening', 'gripper_force'],
};

const ACTION_SCHEMA = {
  title: 'senseact.Action',
  description: 'End-effector twist in the base frame plus gripper',
  type: 'object',
  properties: {
    timestamp: timeSchema,
    linear: { ...numberArray, minItems: 3, maxItems: 3, description: 'm/s' },
    angular: { ...numberArray, minItems: 3, maxItems: 3, description: 'rad/s' },
    gripper: { type: 'number', minimum: 0, maximum: 1, description: '0 open … 1 closed' },
  },
  required: ['timestamp', 'linear', 'angular', 'gripper'],
};

const enc = new TextEncoder();
const dec = new TextDecoder();

function schemaDef(schema: { title: string }): SchemaDef {
  return { name: schema.title, encoding: 'jsonschema', data: enc.encode(JSON.stringify(schema)) };
}

/** The JSON schema each channel kind is recorded with. */
export const CHANNEL_SCHEMAS: Record<ChannelKind, SchemaDef> = {
  compressed_image: schemaDef(CompressedImage as { title: string }),
  raw_image: schemaDef(RawImage as { title: string }),
  tactile_taxels: schemaDef(TACTILE_SCHEMA),
  tactile_compressed_image: schemaDef(CompressedImage as { title: string }),
  tactile_raw_image: schemaDef(RawImage as { title: string }),
  smell: schemaDef(SMELL_SCHEMA),
  proprio: schemaDef(PROPRIO_SCHEMA),
  action: schemaDef(ACTION_SCHEMA),
};

export const CHANNEL_KINDS = Object.keys(CHANNEL_SCHEMAS) as ChannelKind[];

/** Which channel kind a (validated) sample needs. */
export function channelKindOf(sample: Sample): ChannelKind {
  const modality = modalityOf(sample.stream)!;
  switch (modality) {
    case 'camera':
      return (sample.data as CameraData).encoding === 'rgb8' ? 'raw_image' : 'compressed_image';
    case 'tactile': {
      const t = sample.data as TactileData;
      if (isTactileTaxels(t)) return 'tactile_taxels';
      return t.image.encoding === 'rgb8' ? 'tactile_raw_image' : 'tactile_compressed_image';
    }
    default:
      return modality;
  }
}

export function modalityOfKind(kind: ChannelKind): Modality {
  if (kind === 'compressed_image' || kind === 'raw_image') return 'camera';
  if (kind.startsWith('tactile')) return 'tactile';
  return kind as Modality;
}

function stamp(tNs: number): { sec: number; nsec: number } {
  const t = BigInt(tNs);
  return { sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function f32ToB64(f: Float32Array): string {
  if (LITTLE_ENDIAN) return b64(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  const view = new DataView(new ArrayBuffer(f.length * 4));
  for (let i = 0; i < f.length; i++) view.setFloat32(i * 4, f[i], true);
  return b64(new Uint8Array(view.buffer));
}

function imageJson(img: CameraData, tNs: number): Record<string, unknown> {
  const common = { timestamp: stamp(tNs), frame_id: img.frame_id };
  const extra = img.intrinsics ? { intrinsics: img.intrinsics } : {};
  if (img.encoding === 'rgb8') {
    return { ...common, width: img.width, height: img.height, encoding: 'rgb8', step: img.width * 3, data: b64(img.data), ...extra };
  }
  // width/height are extra fields: Foxglove ignores them, we need them back.
  return { ...common, data: b64(img.data), format: img.encoding, width: img.width, height: img.height, ...extra };
}

/** The JSON message for a validated sample (timestamps travel in the MCAP record too). */
export function sampleToJson(sample: Sample): Record<string, unknown> {
  const kind = channelKindOf(sample);
  const t = sample.t_capture_ns;
  const d = sample.data as Record<string, unknown>;
  switch (kind) {
    case 'compressed_image':
    case 'raw_image':
      return imageJson(sample.data as CameraData, t);
    case 'tactile_compressed_image':
    case 'tactile_raw_image': {
      const td = sample.data as { pad: string; image: CameraData };
      return { ...imageJson(td.image, t), pad: td.pad };
    }
    case 'tactile_taxels': {
      const td = sample.data as { pad: string; rows: number; cols: number; forces: Float32Array };
      let x = 0;
      let y = 0;
      let z = 0;
      for (let i = 0; i < td.forces.length; i += 3) {
        x += td.forces[i];
        y += td.forces[i + 1];
        z += td.forces[i + 2];
      }
      return { timestamp: stamp(t), pad: td.pad, rows: td.rows, cols: td.cols, forces: f32ToB64(td.forces), total_force: { x, y, z } };
    }
    default:
      return { timestamp: stamp(t), ...d };
  }
}

export function encodeSample(sample: Sample): Uint8Array {
  return enc.encode(JSON.stringify(sampleToJson(sample)));
}

// ---------------------------------------------------------------- decoding (untrusted bytes)

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

/** Decodes base64 after bounding the size it would allocate. */
function fromB64(s: string, maxBytes: number, stream: string, path: (string | number)[]): Uint8Array {
  const r = base64.safeParse(s);
  if (!r.success) throw new SampleError(stream, path, 'not a base64 string');
  const bytes = Math.floor((s.length * 3) / 4);
  if (bytes > maxBytes + 2) throw new SampleError(stream, path, `base64 payload of ~${bytes} bytes exceeds ${maxBytes}`);
  const buf = Buffer.from(s, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function toF32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength >> 2);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

const ImageMsg = z.object({
  frame_id: z.string(),
  data: z.string(),
  format: z.string().optional(),
  encoding: z.string().optional(),
  width: z.number().int().min(1).max(MAX_IMAGE_SIDE),
  height: z.number().int().min(1).max(MAX_IMAGE_SIDE),
  intrinsics: z.unknown().optional(),
});

function imageFromJson(j: unknown, stream: string, path: (string | number)[]): unknown {
  const r = ImageMsg.safeParse(j);
  if (!r.success) {
    const { path: p, reason } = firstIssue(r.error);
    throw new SampleError(stream, [...path, ...p], reason);
  }
  const m = r.data;
  const encoding = m.encoding ?? m.format;
  const max = encoding === 'rgb8' ? m.width * m.height * 3 : MAX_ENCODED_IMAGE_BYTES;
  const out: Record<string, unknown> = {
    encoding,
    width: m.width,
    height: m.height,
    frame_id: m.frame_id,
    data: fromB64(m.data, max, stream, [...path, 'data']),
  };
  if (m.intrinsics !== undefined) out.intrinsics = m.intrinsics;
  return out;
}

const TaxelMsg = z.object({
  pad: z.string(),
  rows: z.number().int().min(1).max(MAX_TAXEL_SIDE),
  cols: z.number().int().min(1).max(MAX_TAXEL_SIDE),
  forces: z.string(),
});

/**
 * Rebuilds a validated sample from an MCAP message. The bytes are untrusted:
 * sizes are bounded before anything is allocated, and the result goes through
 * the same zod schema as live samples. Throws SampleError naming the field.
 */
export function decodeSample(
  kind: ChannelKind,
  stream: string,
  bytes: Uint8Array,
  t: { t_capture_ns: number; t_receive_ns: number; seq: number },
): Sample {
  let j: unknown;
  try {
    j = JSON.parse(dec.decode(bytes));
  } catch (err) {
    throw new SampleError(stream, [], `message is not JSON (${(err as Error).message})`);
  }
  if (typeof j !== 'object' || j === null) throw new SampleError(stream, [], 'message is not a JSON object');
  let data: unknown;
  switch (kind) {
    case 'compressed_image':
    case 'raw_image':
      data = imageFromJson(j, stream, ['data']);
      break;
    case 'tactile_compressed_image':
    case 'tactile_raw_image':
      data = { pad: (j as { pad?: unknown }).pad, image: imageFromJson(j, stream, ['data', 'image']) };
      break;
    case 'tactile_taxels': {
      const r = TaxelMsg.safeParse(j);
      if (!r.success) {
        const { path, reason } = firstIssue(r.error);
        throw new SampleError(stream, ['data', ...path], reason);
      }
      const m = r.data;
      const forces = toF32(fromB64(m.forces, m.rows * m.cols * 3 * 4, stream, ['data', 'forces']));
      data = { pad: m.pad, rows: m.rows, cols: m.cols, forces };
      break;
    }
    default: {
      const { timestamp: _ts, ...rest } = j as Record<string, unknown>;
      data = rest;
    }
  }
  const modality = modalityOfKind(kind);
  const r = DATA_SCHEMAS[modality].safeParse(data);
  if (!r.success) {
    const { path, reason } = firstIssue(r.error);
    throw new SampleError(stream, ['data', ...path], reason);
  }
  return { stream, t_capture_ns: t.t_capture_ns, t_receive_ns: t.t_receive_ns, seq: t.seq, data: r.data } as Sample;
}
