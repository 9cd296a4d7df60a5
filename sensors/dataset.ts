// A Dataset is a directory of episode logs (NAME.mcap, one per demo or
// rollout). It reports what each episode holds, replays episodes into frames
// at a chosen control rate through the same Stream + Synchronizer the robot
// runs live, computes normalization statistics, and builds training batches.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ManualClock, nsToS } from './clock.ts';
import { readJsonFile, writeFileAtomic } from './files.ts';
import { decodeImage, resizeRgb } from './image.ts';
import { LogReader, scanLog, type LogChannel } from './log-reader.ts';
import {
  DEFAULT_STREAMS,
  isTactileTaxels,
  modalityOf,
  type ActionData,
  type CameraData,
  type EpisodeMeta,
  type Modality,
  type ProprioData,
  type Sample,
  type SmellData,
  type TactileData,
} from './schemas.ts';
import { Stream, type StreamConfigInput } from './stream.ts';
import { Synchronizer, type Frame, type SynchronizerOptions } from './synchronizer.ts';

export type Progress = (done: number, total: number, what: string) => void;

// ---------------------------------------------------------------- info

export interface StreamInfo {
  name: string;
  modality: Modality | null;
  kind: string | null;
  schema: string;
  count: number;
  /** (count − 1) / (last − first capture). */
  rate_hz: number;
  /** Largest interval between consecutive captures, s. */
  max_gap_s: number;
  /** Intervals longer than twice the median interval. */
  gaps: number;
  /** First capture, s after the episode start. */
  first_s: number;
  duration_s: number;
}

export interface EpisodeInfo {
  file: string;
  task: string | null;
  seed: number | null;
  success: boolean | null;
  operator: string | null;
  robot: string | null;
  duration_s: number;
  start_ns: number | null;
  end_ns: number | null;
  messages: number;
  streams: StreamInfo[];
  /** Set when the episode metadata is missing or invalid. */
  meta_error: string | null;
  /** Set when the log was produced by `senseact dataset repair`. */
  repaired: boolean;
}

export interface UnfinalizedInfo {
  file: string;
  recoverable_messages: number;
  stopped: string | null;
  hint: string;
}

export interface DatasetInfo {
  dir: string;
  episodes: EpisodeInfo[];
  unfinalized: UnfinalizedInfo[];
  /** Finalized-looking logs that fail to read (damaged): run repair on them. */
  unreadable: { file: string; error: string }[];
}

function streamInfo(ch: LogChannel, captures: number[], episodeStart: number): StreamInfo {
  captures.sort((a, b) => a - b);
  const n = captures.length;
  const intervals: number[] = [];
  for (let i = 1; i < n; i++) intervals.push(captures[i] - captures[i - 1]);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted.length ? sorted[sorted.length >> 1] : 0;
  const span = n >= 2 ? captures[n - 1] - captures[0] : 0;
  return {
    name: ch.stream,
    modality: ch.modality,
    kind: ch.kind,
    schema: ch.schema,
    count: n,
    rate_hz: span > 0 ? ((n - 1) * 1e9) / span : 0,
    max_gap_s: sorted.length ? nsToS(sorted[sorted.length - 1]) : 0,
    gaps: median > 0 ? intervals.filter((d) => d > 2 * median).length : 0,
    first_s: n ? nsToS(captures[0] - episodeStart) : 0,
    duration_s: nsToS(span),
  };
}

/** Counts, rates, gaps and durations of one finalized log (reads timestamps only, no decoding). */
export async function episodeInfo(file: string): Promise<EpisodeInfo> {
  const reader = await LogReader.open(file, { recover: false });
  try {
    const captures = new Map<number, number[]>();
    for (const c of reader.channels) captures.set(c.id, []);
    let messages = 0;
    for await (const { channel, message } of reader.messages()) {
      captures.get(channel.id)!.push(Number(message.publishTime));
      messages++;
    }
    let start = Infinity;
    let end = -Infinity;
    for (const list of captures.values()) {
      for (const t of list) {
        if (t < start) start = t;
        if (t > end) end = t;
      }
    }
    const has = Number.isFinite(start);
    const streams = reader.channels
      .map((c) => streamInfo(c, captures.get(c.id)!, has ? start : 0))
      .sort((a, b) => a.name.localeCompare(b.name));
    const meta = reader.episode.meta;
    const raw = reader.episode.raw;
    return {
      file: path.basename(file),
      task: meta?.task ?? (typeof raw.task === 'string' ? raw.task : null),
      seed: meta?.seed ?? (typeof raw.seed === 'number' ? raw.seed : null),
      success: meta ? meta.success : typeof raw.success === 'boolean' ? raw.success : null,
      operator: meta?.operator ?? null,
      robot: meta?.robot ?? null,
      duration_s: has ? nsToS(end - start) : 0,
      start_ns: has ? start : null,
      end_ns: has ? end : null,
      messages,
      streams,
      meta_error: reader.episode.error,
      repaired: reader.episode.repair !== null,
    };
  } finally {
    await reader.close();
  }
}

// ---------------------------------------------------------------- episodes

export interface Episode {
  file: string;
  meta: EpisodeMeta | null;
  info: EpisodeInfo;
  /** Every decoded sample per stream, sorted by capture time. */
  series: Map<string, Sample[]>;
  /** Messages that failed to decode (named field), skipped. */
  decode_errors: string[];
}

export async function loadEpisode(file: string): Promise<Episode> {
  const info = await episodeInfo(file);
  const reader = await LogReader.open(file, { recover: false });
  const series = new Map<string, Sample[]>();
  const errors: string[] = [];
  try {
    for (const c of reader.channels) if (c.kind) series.set(c.stream, []);
    for await (const s of reader.samples({ onError: (e) => errors.push(e.message) })) series.get(s.stream)!.push(s);
  } finally {
    await reader.close();
  }
  for (const list of series.values()) list.sort((a, b) => a.t_capture_ns - b.t_capture_ns);
  return { file, meta: reader.episode.meta, info, series, decode_errors: errors };
}

export interface FrameOptions {
  /** Control rate of the replay, Hz. */
  rate_hz: number;
  /** Streams to synchronize (default: every stream except actions). */
  streams?: string[];
  /** 'all_present' (default) starts at the first tick where every stream has a sample. */
  start?: 'all_present' | 'first_sample';
  /**
   * Put the ticks on this grid (ns; ticks at grid_ns + k/rate_hz), from the
   * first one at or after the start: examples() passes the first recorded
   * action's time, so frames fall on the control ticks the robot acted at,
   * where a live controller sees its frames too.
   */
  grid_ns?: number;
  sync?: SynchronizerOptions;
  /** Health config per stream; by default each stream expects its recorded rate. */
  stream_config?: Record<string, StreamConfigInput>;
}

/**
 * Replays an episode the way the robot saw it: samples enter their Streams in
 * receive order on a manual clock, and at each control tick t the
 * Synchronizer builds the frame from what was known at t.
 */
export function* episodeFrames(ep: Episode, options: FrameOptions): Generator<Frame> {
  if (!(options.rate_hz > 0 && options.rate_hz <= 1000)) throw new Error(`rate_hz must be in (0, 1000], got ${options.rate_hz}`);
  const names = options.streams ?? [...ep.series.keys()].filter((n) => modalityOf(n) !== 'action').sort();
  const clock = new ManualClock(0);
  const streams = names.map((name) => {
    if (!ep.series.has(name)) throw new Error(`${path.basename(ep.file)} has no stream '${name}'`);
    const info = ep.info.streams.find((s) => s.name === name);
    const cfg: StreamConfigInput = { ...(info && info.rate_hz > 0 ? { expected_hz: info.rate_hz } : {}), ...options.stream_config?.[name] };
    return new Stream(name, { clock, config: cfg });
  });
  const sync = new Synchronizer(streams, options.sync);
  const all = names.flatMap((n) => ep.series.get(n)!);
  all.sort((a, b) => a.t_receive_ns - b.t_receive_ns || a.t_capture_ns - b.t_capture_ns);
  if (all.length === 0) return;
  const firsts = names.map((n) => ep.series.get(n)![0]?.t_receive_ns ?? Infinity);
  const start = options.start === 'first_sample' ? Math.min(...firsts) : Math.max(...firsts);
  const end = Math.max(...all.map((s) => s.t_receive_ns), ...all.map((s) => s.t_capture_ns));
  if (!Number.isFinite(start)) return;
  const dt = 1e9 / options.rate_hz;
  const first = options.grid_ns === undefined ? start : options.grid_ns + Math.ceil((start - options.grid_ns) / dt - 1e-9) * dt;
  const byName = new Map(streams.map((s) => [s.name, s]));
  let next = 0;
  for (let k = 0; ; k++) {
    const t = Math.round(first + k * dt);
    if (t > end) break;
    while (next < all.length && all[next].t_receive_ns <= t) {
      const s = all[next++];
      clock.set(s.t_receive_ns);
      byName.get(s.stream)!.push(s);
    }
    clock.set(t);
    yield sync.frame(t);
  }
}

export async function listLogs(dir: string): Promise<{ finalized: string[]; partial: string[] }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`not a directory: ${dir}`);
  const names = fs.readdirSync(dir).sort();
  return {
    finalized: names.filter((n) => n.endsWith('.mcap')).map((n) => path.join(dir, n)),
    partial: names.filter((n) => n.endsWith('.mcap.partial')).map((n) => path.join(dir, n)),
  };
}

// ---------------------------------------------------------------- normalization statistics

const VectorStats = z.object({
  names: z.array(z.string()),
  count: z.number().int().nonnegative(),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  min: z.array(z.number()),
  max: z.array(z.number()),
});
export type VectorStats = z.infer<typeof VectorStats>;

export const NormStats = z.object({
  version: z.literal(1),
  created_at: z.string(),
  episodes: z.number().int().nonnegative(),
  proprio: VectorStats.nullable(),
  action: VectorStats.nullable(),
  /** Per tactile stream: statistics per force axis (x, y, z) over all taxels. */
  tactile: z.record(z.string(), VectorStats),
  /** Per smell stream: statistics per channel. */
  smell: z.record(z.string(), VectorStats.extend({ units: z.array(z.string()) })),
  /** Per camera stream: per-channel RGB statistics in [0, 1]. */
  camera: z.record(z.string(), VectorStats.extend({ frames: z.number().int().nonnegative() })),
});
export type NormStats = z.infer<typeof NormStats>;

export const STATS_FILE = 'norm_stats.json';

/** Welford accumulator over fixed-width vectors (the dataset's statistics; policy/ uses it for labels it derives). */
export class Accumulator {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  constructor(readonly names: string[]) {
    const n = names.length;
    this.mean = new Float64Array(n);
    this.m2 = new Float64Array(n);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n).fill(-Infinity);
  }
  /** Adds one observation per dimension, read as v[offset + i*stride]. */
  add(v: ArrayLike<number>, offset = 0, stride = 1): void {
    this.count++;
    for (let i = 0; i < this.names.length; i++) {
      const x = v[offset + i * stride];
      const d = x - this.mean[i];
      this.mean[i] += d / this.count;
      this.m2[i] += d * (x - this.mean[i]);
      if (x < this.min[i]) this.min[i] = x;
      if (x > this.max[i]) this.max[i] = x;
    }
  }
  result(): VectorStats {
    const n = this.names.length;
    const has = this.count > 0;
    return {
      names: this.names,
      count: this.count,
      mean: Array.from(this.mean),
      std: Array.from({ length: n }, (_, i) => (this.count > 1 ? Math.sqrt(this.m2[i] / this.count) : 0)),
      min: has ? Array.from(this.min) : new Array(n).fill(0),
      max: has ? Array.from(this.max) : new Array(n).fill(0),
    };
  }
}

export const ACTION_NAMES = ['linear.x', 'linear.y', 'linear.z', 'angular.x', 'angular.y', 'angular.z', 'gripper'];

export function proprioNames(p: ProprioData): string[] {
  return [
    ...p.names.map((n) => `position.${n}`),
    ...p.names.map((n) => `velocity.${n}`),
    ...p.names.map((n) => `effort.${n}`),
    'gripper_opening',
    'gripper_force',
  ];
}

/** The proprio vector the policy sees: positions, velocities, efforts, gripper opening and force. */
export function proprioVector(p: ProprioData, out: Float32Array = new Float32Array(p.names.length * 3 + 2)): Float32Array {
  const n = p.names.length;
  for (let i = 0; i < n; i++) {
    out[i] = p.position[i];
    out[n + i] = p.velocity[i];
    out[2 * n + i] = p.effort[i];
  }
  out[3 * n] = p.gripper_opening;
  out[3 * n + 1] = p.gripper_force;
  return out;
}

export function actionVector(a: ActionData, out: Float32Array = new Float32Array(7), offset = 0): Float32Array {
  out[offset] = a.linear[0];
  out[offset + 1] = a.linear[1];
  out[offset + 2] = a.linear[2];
  out[offset + 3] = a.angular[0];
  out[offset + 4] = a.angular[1];
  out[offset + 5] = a.angular[2];
  out[offset + 6] = a.gripper;
  return out;
}

// ---------------------------------------------------------------- training examples and batches

export interface ExampleOptions {
  /** Control rate at which frames are taken and actions are spaced, Hz. */
  rate_hz: number;
  /** H: action targets are the action at t plus the next H actions (H+1 in all). */
  horizon: number;
  /** Camera images are decoded and resized to this size (default 128×96). */
  image?: { width: number; height: number };
  /** Smell samples in the history window (default 8). */
  smell_history?: number;
  /** A second, fixed camera stream to read beside the wrist camera (e.g. camera/scene); its absence from the dataset is an error. */
  scene_camera?: string | null;
  start?: FrameOptions['start'];
  sync?: SynchronizerOptions;
}

/** The observation streams a layout reads, in mask order: cameras, tactile pads, smell, proprio (absent ones left out). */
export function observationStreams(layout: Pick<Layout, 'camera' | 'scene_camera' | 'tactile' | 'smell' | 'proprio'>): string[] {
  return [layout.camera, layout.scene_camera, ...layout.tactile.streams, layout.smell.stream, layout.proprio.stream].filter((n): n is string => !!n);
}

/** Shapes shared by every example of a dataset. */
export interface Layout {
  /** The wrist camera (camera/wrist when the dataset has it, else its first other camera stream). */
  camera: string | null;
  /** The fixed scene camera read beside it (ExampleOptions.scene_camera), or null; same image size. */
  scene_camera: string | null;
  image: { width: number; height: number };
  /** The camera's vertical focal length over its image height (fy / height), from its intrinsics (absent without them). */
  focal?: number;
  /** Per tactile stream: its value count (rows × cols × 3) and, for datasets that recorded it, its grid. */
  tactile: { streams: string[]; taxels: number[]; grids?: { rows: number; cols: number }[] };
  smell: { stream: string | null; channels: string[]; history: number };
  proprio: { stream: string | null; names: string[] };
  action: { stream: string | null; horizon: number; names: string[] };
}

/** One training example: the frame at t and its action-chunk targets. Masks: 1 = missing/untrusted. */
export interface Example {
  episode: number;
  t_ns: number;
  /** H×W×3 uint8 (zeros when masked). */
  image: Uint8Array;
  /** The scene camera's H×W×3 image, when the layout has one and its frame is there (absent = missing). */
  scene_image?: Uint8Array;
  /** Concatenated pads, each rows*cols*3 forces in N. */
  tactile: Float32Array;
  /** history × channels, oldest first, zero-padded at the front. */
  smell: Float32Array;
  /** 1 where a smell history entry holds a sample. */
  smell_valid: Uint8Array;
  /** Age of each smell history entry, s (0 when invalid). */
  smell_age_s: Float32Array;
  proprio: Float32Array;
  /** (H+1)×7: action at t, then the next H, spaced 1/rate_hz. */
  actions: Float32Array;
  /** 1 where an action target exists (0 past the episode end). */
  action_valid: Uint8Array;
  /** Masked modalities: [camera, tactile, smell, proprio]. */
  mask: Uint8Array;
  /** The tool's pose [x, y, z, yaw] from proprio's ee_pose, when the robot reports one (waypoint actions need it). */
  pose?: Float32Array;
}

export const MASK_ORDER = ['camera', 'tactile', 'smell', 'proprio'] as const;

/** A batch: every field is a flat typed array with its shape beside it (row-major). */
export interface Batch {
  size: number;
  episode: Int32Array;
  t_ns: Float64Array;
  image: { data: Uint8Array; shape: [number, number, number, number] };
  tactile: { data: Float32Array; shape: [number, number] };
  smell: { data: Float32Array; shape: [number, number, number] };
  smell_valid: { data: Uint8Array; shape: [number, number] };
  proprio: { data: Float32Array; shape: [number, number] };
  actions: { data: Float32Array; shape: [number, number, number] };
  action_valid: { data: Uint8Array; shape: [number, number] };
  mask: { data: Uint8Array; shape: [number, number] };
}

function nearestIndex(list: Sample[], t: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t_capture_ns < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(list[lo - 1].t_capture_ns - t) <= Math.abs(list[lo].t_capture_ns - t)) return lo - 1;
  return lo;
}

/**
 * One frame → the example the policy sees (actions left zero): the decoded,
 * resized camera image, each pad's forces, the smell history window, the
 * proprio vector and the modality masks. Shared by training (dataset replay)
 * and inference (live frames), so both see exactly the same thing.
 */
export function frameToExample(frame: Frame, layout: Layout, imageCache?: Map<Sample, Uint8Array>): Example {
  const { width, height } = layout.image;
  const taxelTotal = layout.tactile.taxels.reduce((a, b) => a + (b ?? 0), 0);
  const C = layout.smell.channels.length;
  const K = layout.smell.history;
  const P = layout.proprio.names.length;
  const H1 = layout.action.horizon + 1;
  const ex: Example = {
    episode: 0,
    t_ns: frame.t_ns,
    image: new Uint8Array(width * height * 3),
    tactile: new Float32Array(taxelTotal),
    smell: new Float32Array(K * C),
    smell_valid: new Uint8Array(K),
    smell_age_s: new Float32Array(K),
    proprio: new Float32Array(P),
    actions: new Float32Array(H1 * 7),
    action_valid: new Uint8Array(H1),
    mask: new Uint8Array(4).fill(1),
  };
  // Frames repeat across ticks (30 Hz cameras, 20 Hz ticks): decode each once.
  const pixels = (sample: Sample): Uint8Array => {
    let px = imageCache?.get(sample);
    if (!px) {
      px = resizeRgb(decodeImage(sample.data as CameraData), width, height);
      if (imageCache && imageCache.size >= 4) imageCache.delete(imageCache.keys().next().value!);
      imageCache?.set(sample, px);
    }
    return px;
  };
  const cam = layout.camera ? frame.slots[layout.camera] : undefined;
  if (cam?.sample && !cam.masked) {
    ex.image.set(pixels(cam.sample));
    ex.mask[0] = 0;
  }
  const scene = layout.scene_camera ? frame.slots[layout.scene_camera] : undefined;
  if (scene?.sample && !scene.masked) ex.scene_image = pixels(scene.sample);
  let off = 0;
  let tactileOk = layout.tactile.streams.length > 0;
  for (const [i, name] of layout.tactile.streams.entries()) {
    const slot = frame.slots[name];
    const n = layout.tactile.taxels[i] ?? 0;
    if (slot?.sample && !slot.masked) {
      const t = slot.sample.data as TactileData;
      if (isTactileTaxels(t) && t.forces.length === n) ex.tactile.set(t.forces, off);
      else tactileOk = false;
    } else tactileOk = false;
    off += n;
  }
  ex.mask[1] = tactileOk ? 0 : 1;
  const sm = layout.smell.stream ? frame.slots[layout.smell.stream] : undefined;
  if (sm?.sample && !sm.masked) {
    const hist = sm.history.slice(-K);
    for (let j = 0; j < hist.length; j++) {
      const row = K - hist.length + j;
      const d = hist[j].data as SmellData;
      if (d.values.length !== C) continue;
      ex.smell.set(d.values, row * C);
      ex.smell_valid[row] = 1;
      ex.smell_age_s[row] = nsToS(frame.t_ns - hist[j].t_capture_ns);
    }
    ex.mask[2] = 0;
  }
  const pr = layout.proprio.stream ? frame.slots[layout.proprio.stream] : undefined;
  if (pr?.sample && !pr.masked) {
    const p = pr.sample.data as ProprioData;
    if (p.names.length * 3 + 2 === P) {
      proprioVector(p, ex.proprio);
      ex.mask[3] = 0;
      if (p.ee_pose) ex.pose = Float32Array.of(p.ee_pose.x, p.ee_pose.y, p.ee_pose.z, p.ee_pose.yaw);
    }
  }
  return ex;
}

export class Dataset {
  private constructor(
    readonly dir: string,
    readonly files: string[],
    readonly partial: string[],
  ) {}

  static async open(dir: string): Promise<Dataset> {
    const { finalized, partial } = await listLogs(dir);
    return new Dataset(dir, finalized, partial);
  }

  get size(): number {
    return this.files.length;
  }

  async info(onProgress?: Progress): Promise<DatasetInfo> {
    const episodes: EpisodeInfo[] = [];
    const total = this.files.length + this.partial.length;
    const unreadable: DatasetInfo['unreadable'] = [];
    for (const [i, f] of this.files.entries()) {
      onProgress?.(i, total, path.basename(f));
      try {
        episodes.push(await episodeInfo(f));
      } catch (err) {
        unreadable.push({ file: path.basename(f), error: `${(err as Error).message}; try \`senseact dataset repair ${f}\`` });
      }
    }
    const unfinalized: UnfinalizedInfo[] = [];
    for (const [i, f] of this.partial.entries()) {
      onProgress?.(this.files.length + i, total, path.basename(f));
      const scan = await scanLog(f);
      unfinalized.push({
        file: path.basename(f),
        recoverable_messages: scan.messages,
        stopped: scan.stopped,
        hint: `not finalized (crash?): run \`senseact dataset repair ${f}\``,
      });
    }
    onProgress?.(total, total, 'done');
    return { dir: this.dir, episodes, unfinalized, unreadable };
  }

  async episode(i: number): Promise<Episode> {
    const f = this.files[i];
    if (f === undefined) throw new Error(`episode ${i} out of range (dataset has ${this.files.length})`);
    return loadEpisode(f);
  }

  /** Normalization statistics over every sample of every episode (camera: up to `cameraFrames` per episode). */
  async computeStats(options: { cameraFrames?: number; onProgress?: Progress } = {}): Promise<NormStats> {
    const cameraFrames = options.cameraFrames ?? 16;
    let proprio: Accumulator | null = null;
    const action = new Accumulator(ACTION_NAMES);
    const tactile = new Map<string, Accumulator>();
    const smell = new Map<string, { acc: Accumulator; units: string[] }>();
    const camera = new Map<string, { acc: Accumulator; frames: number }>();
    const vec = new Float32Array(7);
    for (let e = 0; e < this.files.length; e++) {
      options.onProgress?.(e, this.files.length, path.basename(this.files[e]));
      const ep = await this.episode(e);
      for (const [name, list] of ep.series) {
        const modality = modalityOf(name);
        if (modality === 'proprio') {
          for (const s of list) {
            const p = s.data as ProprioData;
            proprio ??= new Accumulator(proprioNames(p));
            if (proprioNames(p).length !== proprio.names.length) throw new Error(`${ep.info.file}: ${name} has ${p.names.length} joints, earlier episodes differ`);
            proprio.add(proprioVector(p));
          }
        } else if (modality === 'action') {
          for (const s of list) action.add(actionVector(s.data as ActionData, vec));
        } else if (modality === 'tactile') {
          for (const s of list) {
            const t = s.data as TactileData;
            if (!isTactileTaxels(t)) continue;
            let acc = tactile.get(name);
            if (!acc) tactile.set(name, (acc = new Accumulator(['x', 'y', 'z'])));
            for (let i = 0; i < t.forces.length; i += 3) acc.add(t.forces, i, 1);
          }
        } else if (modality === 'smell') {
          for (const s of list) {
            const d = s.data as SmellData;
            let entry = smell.get(name);
            if (!entry) smell.set(name, (entry = { acc: new Accumulator(d.channels), units: d.units }));
            if (d.values.length !== entry.acc.names.length) throw new Error(`${ep.info.file}: ${name} channel count changed`);
            entry.acc.add(d.values);
          }
        } else if (modality === 'camera' && list.length > 0) {
          let entry = camera.get(name);
          if (!entry) camera.set(name, (entry = { acc: new Accumulator(['r', 'g', 'b']), frames: 0 }));
          const step = Math.max(1, Math.floor(list.length / cameraFrames));
          for (let i = 0; i < list.length && entry.frames < cameraFrames * (e + 1); i += step) {
            const img = decodeImage(list[i].data as CameraData);
            // Every 7th pixel is plenty for channel means and spreads.
            const px = new Float32Array(3);
            for (let p = 0; p < img.width * img.height; p += 7) {
              px[0] = img.data[p * 3] / 255;
              px[1] = img.data[p * 3 + 1] / 255;
              px[2] = img.data[p * 3 + 2] / 255;
              entry.acc.add(px);
            }
            entry.frames++;
          }
        }
      }
    }
    options.onProgress?.(this.files.length, this.files.length, 'done');
    return NormStats.parse({
      version: 1,
      created_at: new Date().toISOString(),
      episodes: this.files.length,
      proprio: proprio?.result() ?? null,
      action: action.count ? action.result() : null,
      tactile: Object.fromEntries([...tactile].map(([k, a]) => [k, a.result()])),
      smell: Object.fromEntries([...smell].map(([k, v]) => [k, { ...v.acc.result(), units: v.units }])),
      camera: Object.fromEntries([...camera].map(([k, v]) => [k, { ...v.acc.result(), frames: v.frames }])),
    });
  }

  /** Writes statistics to DIR/norm_stats.json atomically. */
  saveStats(stats: NormStats): string {
    const file = path.join(this.dir, STATS_FILE);
    writeFileAtomic(file, JSON.stringify(NormStats.parse(stats), null, 2) + '\n');
    return file;
  }

  /** Reads DIR/norm_stats.json, validated; errors name the file and field. */
  static loadStats(dir: string): NormStats {
    return readJsonFile(path.join(dir, STATS_FILE), NormStats);
  }

  /** Fixes the example shapes from the first episode that has each stream. */
  async layout(options: ExampleOptions): Promise<Layout> {
    const infos = await Promise.all(this.files.map((f) => episodeInfo(f)));
    const names = new Set(infos.flatMap((i) => i.streams.map((s) => s.name)));
    const sorted = [...names].sort();
    const of = (m: Modality) => sorted.filter((n) => modalityOf(n) === m);
    const cameras = of('camera');
    const scene = options.scene_camera ?? null;
    if (scene && !cameras.includes(scene)) throw new Error(`${this.dir}: scene camera ${scene} is not among the dataset's camera streams (${cameras.join(', ') || 'none'}); record with the scene camera (\`senseact sim run --scene-camera\`) or drop scene_camera from the config`);
    const layout: Layout = {
      camera: cameras.includes(DEFAULT_STREAMS.camera) ? DEFAULT_STREAMS.camera : (cameras.find((n) => n !== scene && n !== DEFAULT_STREAMS.sceneCamera) ?? null),
      scene_camera: scene,
      image: options.image ?? { width: 128, height: 96 },
      tactile: { streams: of('tactile'), taxels: [], grids: [] },
      smell: { stream: of('smell')[0] ?? null, channels: [], history: options.smell_history ?? 8 },
      proprio: { stream: of('proprio')[0] ?? null, names: [] },
      action: { stream: of('action')[0] ?? null, horizon: options.horizon, names: ACTION_NAMES },
    };
    for (let e = 0; e < this.files.length; e++) {
      const ep = await this.episode(e);
      for (const [i, name] of layout.tactile.streams.entries()) {
        const first = ep.series.get(name)?.[0];
        if (first && layout.tactile.taxels[i] === undefined) {
          const t = first.data as TactileData;
          if (!isTactileTaxels(t)) throw new Error(`${ep.info.file}: ${name} is a tactile image; batches take taxel pads only`);
          layout.tactile.taxels[i] = t.rows * t.cols * 3;
          layout.tactile.grids![i] = { rows: t.rows, cols: t.cols };
        }
      }
      const smell = layout.smell.stream ? ep.series.get(layout.smell.stream)?.[0] : undefined;
      if (smell && layout.smell.channels.length === 0) layout.smell.channels = (smell.data as SmellData).channels;
      const prop = layout.proprio.stream ? ep.series.get(layout.proprio.stream)?.[0] : undefined;
      if (prop && layout.proprio.names.length === 0) layout.proprio.names = proprioNames(prop.data as ProprioData);
      const cam = layout.camera ? (ep.series.get(layout.camera)?.[0]?.data as CameraData | undefined) : undefined;
      if (cam?.intrinsics && layout.focal === undefined && cam.height > 0) layout.focal = cam.intrinsics.fy / cam.height;
      if (layout.tactile.taxels.filter((x) => x !== undefined).length === layout.tactile.streams.length && (!layout.smell.stream || layout.smell.channels.length) && (!layout.proprio.stream || layout.proprio.names.length)) break;
    }
    return layout;
  }

  /**
   * Training examples of every episode at the control rate: per frame the
   * decoded camera image, each pad's forces, a smell history window, the
   * proprio vector, and the action at t plus the next H actions as targets.
   */
  async examples(options: ExampleOptions, onProgress?: Progress): Promise<{ layout: Layout; examples: Example[] }> {
    if (!(Number.isInteger(options.horizon) && options.horizon >= 0 && options.horizon <= 1000)) {
      throw new Error(`horizon must be an integer in 0..1000, got ${options.horizon}`);
    }
    const layout = await this.layout(options);
    const K = layout.smell.history;
    const H1 = options.horizon + 1;
    const dt = 1e9 / options.rate_hz;
    const examples: Example[] = [];
    for (let e = 0; e < this.files.length; e++) {
      onProgress?.(e, this.files.length, path.basename(this.files[e]));
      const ep = await this.episode(e);
      const observed = observationStreams(layout).filter((n) => ep.series.has(n));
      const actions = layout.action.stream ? (ep.series.get(layout.action.stream) ?? []) : [];
      const actionPeriod = actions.length >= 2 ? (actions[actions.length - 1].t_capture_ns - actions[0].t_capture_ns) / (actions.length - 1) : dt;
      const imageCache = new Map<Sample, Uint8Array>();
      const sync: SynchronizerOptions = {
        ...options.sync,
        slots: { ...(layout.smell.stream ? { [layout.smell.stream]: { history: K } } : {}), ...options.sync?.slots },
      };
      const grid_ns = actions.length ? actions[0].t_capture_ns : undefined;
      for (const frame of episodeFrames(ep, { rate_hz: options.rate_hz, streams: observed, start: options.start, grid_ns, sync })) {
        const ex = frameToExample(frame, layout, imageCache);
        ex.episode = e;
        if (actions.length) {
          const last = actions[actions.length - 1];
          for (let k = 0; k < H1; k++) {
            const tk = frame.t_ns + k * dt;
            const a = actions[nearestIndex(actions, tk)];
            const valid = Math.abs(a.t_capture_ns - tk) <= Math.max(dt, actionPeriod) / 2 + 1 && tk <= last.t_capture_ns + actionPeriod / 2;
            // Past the end the last action is repeated (and marked invalid), as ACT pads its chunks.
            actionVector((valid ? a : last).data as ActionData, ex.actions, k * 7);
            ex.action_valid[k] = valid ? 1 : 0;
          }
        }
        examples.push(ex);
      }
    }
    onProgress?.(this.files.length, this.files.length, 'done');
    return { layout, examples };
  }
}

/** mulberry32: a small seeded PRNG, so shuffles replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Collates examples into batches (shuffled with a seed unless shuffle is false). */
export function* batches(
  layout: Layout,
  examples: Example[],
  options: { batch_size: number; seed?: number; shuffle?: boolean; drop_last?: boolean },
): Generator<Batch> {
  const B = options.batch_size;
  if (!(Number.isInteger(B) && B >= 1)) throw new Error(`batch_size must be a positive integer, got ${B}`);
  const order = examples.map((_, i) => i);
  if (options.shuffle !== false) {
    const rand = seededRandom(options.seed ?? 0);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const { width, height } = layout.image;
  const T = layout.tactile.taxels.reduce((a, b) => a + (b ?? 0), 0);
  const K = layout.smell.history;
  const C = layout.smell.channels.length;
  const P = layout.proprio.names.length;
  const H1 = layout.action.horizon + 1;
  for (let start = 0; start < order.length; start += B) {
    const idx = order.slice(start, start + B);
    if (idx.length < B && options.drop_last) break;
    const n = idx.length;
    const batch: Batch = {
      size: n,
      episode: new Int32Array(n),
      t_ns: new Float64Array(n),
      image: { data: new Uint8Array(n * height * width * 3), shape: [n, height, width, 3] },
      tactile: { data: new Float32Array(n * T), shape: [n, T] },
      smell: { data: new Float32Array(n * K * C), shape: [n, K, C] },
      smell_valid: { data: new Uint8Array(n * K), shape: [n, K] },
      proprio: { data: new Float32Array(n * P), shape: [n, P] },
      actions: { data: new Float32Array(n * H1 * 7), shape: [n, H1, 7] },
      action_valid: { data: new Uint8Array(n * H1), shape: [n, H1] },
      mask: { data: new Uint8Array(n * 4), shape: [n, 4] },
    };
    idx.forEach((ei, b) => {
      const ex = examples[ei];
      batch.episode[b] = ex.episode;
      batch.t_ns[b] = ex.t_ns;
      batch.image.data.set(ex.image, b * ex.image.length);
      batch.tactile.data.set(ex.tactile, b * T);
      batch.smell.data.set(ex.smell, b * K * C);
      batch.smell_valid.data.set(ex.smell_valid, b * K);
      batch.proprio.data.set(ex.proprio, b * P);
      batch.actions.data.set(ex.actions, b * H1 * 7);
      batch.action_valid.data.set(ex.action_valid, b * H1);
      batch.mask.data.set(ex.mask, b * 4);
    });
    yield batch;
  }
}
