// Checkpoints: weights as .safetensors (readable by any safetensors reader)
// and, beside it, FILE.json with the config, feature layout and
// normalization — written atomically, validated on load, refused with a
// message that says what is wrong.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeFileAtomic } from '../sensors/index.ts';
import { PolicyConfig } from './config.ts';

const MAX_HEADER = 16 * 1024 * 1024;
const MAX_FILE = 2 * 1024 * 1024 * 1024;

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * 2: smell read against the episode's first reading, motion history in the
 * proprio features. A version-1 checkpoint would be fed inputs it was not
 * trained on, so it is refused, not guessed at.
 */
export const CHECKPOINT_VERSION = 2;

const Stats = z.object({ mean: z.array(z.number()), std: z.array(z.number()) });
export const CheckpointMeta = z.object({
  format: z.literal('senseact-policy'),
  version: z.literal(CHECKPOINT_VERSION, { error: (i) => `format version ${JSON.stringify(i.input)} is not ${CHECKPOINT_VERSION} (made by an older senseact, whose smell and proprio inputs differ); retrain the policy` }),
  config: PolicyConfig,
  dims: z.object({ tactile: z.number().int().min(0), smellChannels: z.number().int().min(0), smell: z.number().int().min(0), proprio: z.number().int().min(0), history: z.number().int().min(0).default(0), proprio_keep: z.array(z.number().int().min(0)).optional(), grip_force: z.number().int().min(0).optional() }),
  normalizer: z.object({ image: Stats, scene: Stats.optional(), tactile: Stats, smell: Stats, proprio: Stats, action: Stats }),
  /** The dataset layout the policy was trained on: streams, sizes, channel and joint names. */
  layout: z.object({
    camera: z.string().nullable(),
    scene_camera: z.string().nullable().default(null),
    image: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
    tactile: z.object({ streams: z.array(z.string()), taxels: z.array(z.number().int().min(0)), grids: z.array(z.object({ rows: z.number().int().positive(), cols: z.number().int().positive() })).optional() }),
    smell: z.object({ stream: z.string().nullable(), channels: z.array(z.string()), history: z.number().int().positive() }),
    proprio: z.object({ stream: z.string().nullable(), names: z.array(z.string()) }),
    action: z.object({ stream: z.string().nullable(), horizon: z.number().int().min(0), names: z.array(z.string()) }),
  }),
  training: z
    .object({
      dataset: z.string(),
      episodes: z.number().int(),
      examples: z.number().int(),
      steps: z.number().int(),
      seconds: z.number(),
      backend: z.string(),
      final_loss: z.number(),
      val_loss: z.number().nullable(),
      seeds: z.array(z.number()).default([]),
      /** Per modality: mean |Δ| of the normalized action chunk when it is masked (policy/influence.ts). */
      influence: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
});
export type CheckpointMeta = z.infer<typeof CheckpointMeta>;

export function metaPath(file: string): string {
  return file.replace(/\.safetensors$/, '') + '.json';
}

/** Serializes tensors in the safetensors format: u64 LE header size, JSON header, raw little-endian data. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // The spec allows trailing spaces; 8-byte alignment keeps the data aligned.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, at);
    at += d.byteLength;
  }
  return out;
}

const HeaderEntry = z.object({ dtype: z.literal('F32'), shape: z.array(z.number().int().min(0)), data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]) });

export function decodeSafetensors(bytes: Buffer, where = 'checkpoint'): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${where}: ${bytes.length} bytes is too short to be a safetensors file`);
  const headerSize = bytes.readBigUInt64LE(0);
  if (headerSize > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) throw new Error(`${where}: header size ${headerSize} exceeds the file (${bytes.length} bytes) or the ${MAX_HEADER}-byte limit`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + Number(headerSize)).toString('utf8'));
  } catch (err) {
    throw new Error(`${where}: header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + Number(headerSize);
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, NamedTensor> = {};
  let covered = 0;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const r = HeaderEntry.safeParse(raw);
    if (!r.success) throw new Error(`${where}: tensor '${name}': ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
    const [begin, end] = r.data.data_offsets;
    const count = r.data.shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength || end - begin !== count * 4) {
      throw new Error(`${where}: tensor '${name}' offsets [${begin}, ${end}) do not hold shape [${r.data.shape.join(',')}] within ${dataLength} data bytes`);
    }
    const copy = new Float32Array(count);
    new Uint8Array(copy.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = { shape: r.data.shape, data: copy };
    covered += end - begin;
  }
  if (covered !== dataLength) throw new Error(`${where}: ${dataLength - covered} data bytes are not covered by any tensor (truncated or corrupt)`);
  const metadata = z.record(z.string(), z.string()).safeParse(header.__metadata__ ?? {});
  if (!metadata.success) throw new Error(`${where}: __metadata__ must map strings to strings`);
  return { tensors, metadata: metadata.data };
}

export function saveCheckpoint(file: string, tensors: Record<string, NamedTensor>, meta: CheckpointMeta): void {
  const checked = CheckpointMeta.parse(meta);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, encodeSafetensors(tensors, { format: 'senseact-policy', config: JSON.stringify(checked.config) }));
  writeFileAtomic(metaPath(file), JSON.stringify(checked, null, 2) + '\n');
}

export function loadCheckpoint(file: string): { tensors: Record<string, NamedTensor>; meta: CheckpointMeta } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such checkpoint`);
  const size = fs.statSync(file).size;
  if (size > MAX_FILE) throw new Error(`${file}: ${size} bytes exceeds the checkpoint size limit`);
  const { tensors } = decodeSafetensors(fs.readFileSync(file), file);
  const mp = metaPath(file);
  if (!fs.existsSync(mp)) throw new Error(`${file}: its config ${path.basename(mp)} is missing beside it`);
  return { tensors, meta: readJsonFile(mp, CheckpointMeta, MAX_HEADER) };
}
