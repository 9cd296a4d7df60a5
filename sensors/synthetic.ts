// Synthetic sensor streams with the rates and shapes of the real ones, for
// tests, benchmarks and crash drills. Values are smooth functions of capture
// time (never frozen, never out of range); nothing here pretends to be a
// simulator.
import jpeg from 'jpeg-js';
import { DEFAULT_STREAMS, type CameraData, type Sample } from './schemas.ts';

export interface MixOptions {
  /** Capture time of the first sample, ns. */
  t0_ns: number;
  /** Capture → receive latency added to every sample, ns (default 1 ms). */
  latency_ns?: number;
  camera_hz?: number;
  tactile_hz?: number;
  smell_hz?: number;
  proprio_hz?: number;
  /** Actions at this rate (default 0: none). */
  action_hz?: number;
  /** Camera frames to cycle through (default: one tiny 8×6 rgb8 frame per phase). */
  frames?: CameraData[];
  /** A fixed scene camera (camera/scene) at this rate (default 0: none), cycling through these frames (default: `frames` reversed). */
  scene_hz?: number;
  scene_frames?: CameraData[];
  taxel_rows?: number;
  taxel_cols?: number;
  smell_channels?: number;
  joints?: number;
  /** Smell reports warmed_up = false for this long after t0, s (default 0). */
  smell_warmup_s?: number;
}

/**
 * A deterministic test card: gradients plus a moving square, with per-pixel
 * noise of ±`noise` levels (a real sensor's noise is what makes real JPEG
 * frames distinct and nearly incompressible), then JPEG-encoded.
 */
export function testCard(width: number, height: number, phase: number, quality = 80, noise = 6): CameraData {
  const rgba = Buffer.alloc(width * height * 4);
  const sq = (phase * 37) % Math.max(1, width - Math.floor(height / 4));
  let h = (phase + 1) * 0x9e3779b1;
  const rand = () => {
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return ((h >>> 0) / 4294967296) * 2 - 1;
  };
  const px = (v: number) => Math.max(0, Math.min(255, Math.round(v + noise * rand())));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inSquare = x >= sq && x < sq + height / 4 && y >= height / 3 && y < height / 3 + height / 4;
      rgba[i] = px(inSquare ? 240 : (x * 255) / width);
      rgba[i + 1] = px(inSquare ? 30 : (y * 255) / height);
      rgba[i + 2] = px(((x + y + phase * 16) * 3) & 255);
      rgba[i + 3] = 255;
    }
  }
  const encoded = jpeg.encode({ data: rgba, width, height }, quality);
  return { encoding: 'jpeg', width, height, frame_id: 'wrist_camera', data: new Uint8Array(encoded.data) };
}

function tinyFrame(phase: number): CameraData {
  const data = new Uint8Array(8 * 6 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + phase * 71) & 255;
  return { encoding: 'rgb8', width: 8, height: 6, frame_id: 'wrist_camera', data };
}

interface Source {
  stream: string;
  periodNs: number;
  next: number;
  seq: number;
  make: (t: number, seq: number) => unknown;
}

/** Every sample of the mix captured in [t0, t0 + seconds), in capture order. */
export function* syntheticMix(options: MixOptions, seconds: number): Generator<Sample> {
  const t0 = options.t0_ns;
  const latency = options.latency_ns ?? 1e6;
  const frames = options.frames ?? [tinyFrame(0), tinyFrame(1), tinyFrame(2)];
  const rows = options.taxel_rows ?? 4;
  const cols = options.taxel_cols ?? 4;
  const channels = options.smell_channels ?? 4;
  const joints = options.joints ?? 7;
  const names = Array.from({ length: joints }, (_, i) => `joint${i + 1}`);
  const chNames = Array.from({ length: channels }, (_, i) => `mox${i}`);
  const units = chNames.map(() => 'ohm' as const);
  const s = (t: number) => (t - t0) / 1e9;
  const taxels = (t: number, side: number) => {
    const f = new Float32Array(rows * cols * 3);
    for (let i = 0; i < f.length; i += 3) {
      f[i] = 0.05 * Math.sin(s(t) * 3 + i + side);
      f[i + 1] = 0.05 * Math.cos(s(t) * 2 + i);
      f[i + 2] = 1 + Math.sin(s(t) + i * 0.1 + side);
    }
    return f;
  };
  const sources: Source[] = [];
  const add = (stream: string, hz: number | undefined, make: Source['make']) => {
    if (hz && hz > 0) sources.push({ stream, periodNs: 1e9 / hz, next: 0, seq: 0, make });
  };
  add(DEFAULT_STREAMS.camera, options.camera_hz ?? 30, (_t, seq) => frames[seq % frames.length]);
  const sceneFrames = options.scene_frames ?? [...frames].reverse();
  add(DEFAULT_STREAMS.sceneCamera, options.scene_hz ?? 0, (_t, seq) => ({ ...sceneFrames[seq % sceneFrames.length], frame_id: 'scene_camera' }));
  add(DEFAULT_STREAMS.tactileLeft, options.tactile_hz ?? 100, (t) => ({ pad: 'left', rows, cols, forces: taxels(t, 0) }));
  add(DEFAULT_STREAMS.tactileRight, options.tactile_hz ?? 100, (t) => ({ pad: 'right', rows, cols, forces: taxels(t, 1) }));
  add(DEFAULT_STREAMS.smell, options.smell_hz ?? 2, (t, seq) => ({
    channels: chNames,
    units,
    values: chNames.map((_, i) => 20000 + 5000 * Math.sin(s(t) * 0.3 + i)),
    temperature_c: 24 + 0.1 * Math.sin(s(t)),
    humidity_pct: 40 + Math.sin(s(t) * 0.1),
    heater_step: seq % 10,
    warmed_up: s(t) >= (options.smell_warmup_s ?? 0),
  }));
  add(DEFAULT_STREAMS.proprio, options.proprio_hz ?? 100, (t) => ({
    names,
    position: names.map((_, i) => 0.5 * Math.sin(s(t) * 0.5 + i)),
    velocity: names.map((_, i) => 0.25 * Math.cos(s(t) * 0.5 + i)),
    effort: names.map((_, i) => 2 * Math.sin(s(t) + i)),
    gripper_opening: 0.04 + 0.03 * Math.sin(s(t)),
    gripper_force: 5 + 5 * Math.sin(s(t) * 0.7),
    ee_pose: { x: 0.4 + 0.1 * Math.sin(s(t)), y: 0.1 * Math.cos(s(t)), z: 0.3, yaw: 0.2 * Math.sin(s(t) * 0.3) },
  }));
  add(DEFAULT_STREAMS.action, options.action_hz ?? 0, (t) => ({
    linear: [0.1 * Math.cos(s(t)), -0.1 * Math.sin(s(t)), 0.02 * Math.sin(s(t) * 2)],
    angular: [0, 0, 0.1 * Math.sin(s(t) * 0.3)],
    gripper: 0.5 + 0.5 * Math.sin(s(t) * 0.7),
  }));
  const end = seconds * 1e9;
  for (;;) {
    let best: Source | null = null;
    for (const src of sources) if (src.next < end && (!best || src.next < best.next)) best = src;
    if (!best) return;
    const t = Math.round(t0 + best.next);
    yield { stream: best.stream, t_capture_ns: t, t_receive_ns: t + latency, seq: best.seq, data: best.make(t, best.seq) } as Sample;
    best.seq++;
    best.next = best.seq * best.periodNs;
  }
}
