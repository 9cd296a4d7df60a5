// Scripted controllers, so the runtime can be run and tested without a trained
// checkpoint: `--policy scripted:NAME[?key=value&...]`.
//
//   scripted:wave   the end effector moves up and down (linear z = A·sin(2πt/T))
//                   and yaws back and forth; gripper fixed. Uses no sensors.
//   scripted:still  zero twist, gripper fixed.
//
// Parameters: amplitude (m/s, default 0.05), period_s (4), yaw (rad/s, 0.2),
// gripper (0..1, 0), camera (1: the policy "uses" the camera stream, so it is
// subscribed and required), and two test hooks for slow inference:
// delay_ms (an asynchronous delay, like a GPU or a remote model) and busy_ms
// (a blocking busy-wait, like a slow CPU model).
import type { ActionData, Frame } from '../sensors/index.ts';
import type { CheckpointMeta, Controller } from '../policy/index.ts';

export const SCRIPTED_NAMES = ['wave', 'still'] as const;
export type ScriptedName = (typeof SCRIPTED_NAMES)[number];

export interface ScriptedParams {
  amplitude: number;
  period_s: number;
  yaw: number;
  gripper: number;
  camera: boolean;
  delay_ms: number;
  busy_ms: number;
}

const DEFAULTS: ScriptedParams = { amplitude: 0.05, period_s: 4, yaw: 0.2, gripper: 0, camera: false, delay_ms: 0, busy_ms: 0 };

export function isScriptedSpec(spec: string): boolean {
  return spec.startsWith('scripted:');
}

/** Parses `scripted:NAME[?k=v&...]`; throws an Error naming the bad part. */
export function parseScriptedSpec(spec: string): { name: ScriptedName; params: ScriptedParams } {
  const body = spec.slice('scripted:'.length);
  const [name, query = ''] = body.split('?', 2);
  if (!(SCRIPTED_NAMES as readonly string[]).includes(name)) throw new Error(`--policy: unknown scripted controller '${name}' (one of: ${SCRIPTED_NAMES.join(', ')})`);
  const params = { ...DEFAULTS };
  for (const [k, v] of new URLSearchParams(query)) {
    if (!(k in DEFAULTS)) throw new Error(`--policy: unknown parameter '${k}' for scripted:${name} (one of: ${Object.keys(DEFAULTS).join(', ')})`);
    if (k === 'camera') {
      params.camera = v === '1' || v === 'true';
      continue;
    }
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`--policy: ${k}=${v} must be a number ≥ 0`);
    if (k === 'gripper' && x > 1) throw new Error(`--policy: gripper=${v} must be in 0..1`);
    (params as unknown as Record<string, number>)[k] = x;
  }
  if (params.period_s <= 0) throw new Error('--policy: period_s must be > 0');
  return { name: name as ScriptedName, params };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptedController implements Controller {
  readonly kind: string;
  readonly backendName = 'cpu';
  readonly trainedSeeds: readonly number[] = [];
  readonly layout: CheckpointMeta['layout'];
  private t0: number | null = null;
  private readonly latencies: number[] = [];

  constructor(
    readonly name: ScriptedName,
    readonly params: ScriptedParams,
  ) {
    this.kind = `scripted:${name}`;
    this.layout = {
      camera: params.camera ? 'camera/wrist' : null,
      scene_camera: null,
      image: { width: 64, height: 64 },
      tactile: { streams: ['tactile/left', 'tactile/right'], taxels: [48, 48] },
      smell: { stream: 'smell', channels: [], history: 8 },
      proprio: { stream: 'proprio', names: [] },
      action: { stream: null, horizon: 0, names: [] },
    };
  }

  static fromSpec(spec: string): ScriptedController {
    const { name, params } = parseScriptedSpec(spec);
    return new ScriptedController(name, params);
  }

  reset(): void {
    this.t0 = null;
  }

  async act(frame: Frame): Promise<ActionData> {
    const start = performance.now();
    const p = this.params;
    if (p.busy_ms > 0) while (performance.now() - start < p.busy_ms);
    if (p.delay_ms > 0) await sleep(p.delay_ms);
    this.t0 ??= frame.t_ns;
    const t = (frame.t_ns - this.t0) / 1e9;
    const w = (2 * Math.PI) / p.period_s;
    const a: ActionData =
      this.name === 'still'
        ? { linear: [0, 0, 0], angular: [0, 0, 0], gripper: p.gripper }
        : { linear: [0, 0, p.amplitude * Math.sin(w * t)], angular: [0, 0, p.yaw * Math.cos(w * t)], gripper: p.gripper };
    this.latencies.push(performance.now() - start);
    if (this.latencies.length > 1000) this.latencies.splice(0, 500);
    return a;
  }

  latency(): { p50: number; p99: number } {
    const s = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN);
    return { p50: q(0.5), p99: q(0.99) };
  }

  dispose(): void {}
}
