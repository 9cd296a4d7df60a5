// `senseact bench sim`: simulated seconds per wall-clock second.
// - physics only (no camera), the scripted expert on every task, with
//   Rapier's deterministic build (ours) against its ordinary build (the
//   peer: the same step loop, faster float code, no bit-exact replay);
// - with the wrist camera rendering at 30 Hz (three WebGPURenderer on Dawn).
// Medians over repeats, all measured in this one run on this machine.
import os from 'node:os';
import { SimEnv, TASK_NAMES, runEpisode, type CameraSource } from '../sim/index.ts';
import type { RapierBuild } from '../sim/rapier.ts';

export interface SimBenchOptions {
  /** Seeds per task per measurement. */
  seeds?: number;
  repeats?: number;
  /** Sim seconds of camera-on running per repeat. */
  cameraSeconds?: number;
  /** Skip the untimed warm-up passes (for a quick smoke run; numbers are then noisier). */
  noWarmup?: boolean;
  /** Creates the camera; null → the camera line reports why it is missing. */
  camera?: () => Promise<CameraSource>;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface SimBenchResult {
  bench: 'sim';
  machine: { cpus: number; cpu: string; node: string };
  physics_only: { ours_x_realtime: number; peer_x_realtime: number; ratio: number; spread: { ours: number[]; peer: number[] }; sim_s: number };
  camera_30hz: { x_realtime: number; spread: number[]; sim_s: number; resolution: string } | { skipped: string };
  goals: { physics_only_x: number; camera_x: number };
  peer: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function physicsRate(build: RapierBuild, seeds: number): Promise<{ rate: number; simS: number }> {
  let sim = 0;
  const t0 = performance.now();
  for (const task of TASK_NAMES) {
    const env = new SimEnv({ task, physics: build });
    for (let s = 0; s < seeds; s++) sim += (await runEpisode(env, 1000 + s, 'full')).ticks / 20;
    env.close();
  }
  return { rate: sim / ((performance.now() - t0) / 1000), simS: sim };
}

export async function benchSim(opts: SimBenchOptions = {}): Promise<SimBenchResult> {
  const seeds = opts.seeds ?? 2;
  const repeats = opts.repeats ?? 3;
  const total = repeats * 3;
  let done = 0;
  const ours: number[] = [];
  const peer: number[] = [];
  let simS = 0;
  // Warm both builds (WASM compile, JIT) before timing.
  if (!opts.noWarmup) {
    await physicsRate('deterministic', 1);
    await physicsRate('fast', 1);
  }
  for (let r = 0; r < repeats; r++) {
    // Alternate the order so drift in machine load hits both alike.
    const a = await physicsRate(r % 2 ? 'fast' : 'deterministic', seeds);
    opts.onProgress?.(++done, total, 'physics');
    const b = await physicsRate(r % 2 ? 'deterministic' : 'fast', seeds);
    opts.onProgress?.(++done, total, 'physics');
    (r % 2 ? peer : ours).push(a.rate);
    (r % 2 ? ours : peer).push(b.rate);
    simS = a.simS;
  }
  let camera: SimBenchResult['camera_30hz'] = { skipped: 'camera not created' };
  if (!opts.camera) camera = { skipped: 'no camera factory given' };
  else {
    let cam: CameraSource | null = null;
    try {
      cam = await opts.camera();
    } catch (err) {
      camera = { skipped: `no WebGPU for the camera: ${(err as Error).message}` };
    }
    if (cam) {
      const env = new SimEnv({ task: 'pick-place', camera: cam });
      const rates: number[] = [];
      const seconds = opts.cameraSeconds ?? 6;
      for (let r = 0; r < repeats; r++) {
        let sim = 0;
        const t0 = performance.now();
        let seed = 2000 + r;
        while (sim < seconds) sim += (await runEpisode(env, seed++, 'full')).ticks / 20;
        rates.push(sim / ((performance.now() - t0) / 1000));
        opts.onProgress?.(++done, total, 'camera');
      }
      const w = cam as unknown as { width?: number; height?: number };
      env.close();
      camera = { x_realtime: median(rates), spread: rates, sim_s: seconds, resolution: `${w.width ?? '?'}x${w.height ?? '?'}` };
    }
  }
  const o = median(ours);
  const p = median(peer);
  return {
    bench: 'sim',
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    physics_only: { ours_x_realtime: o, peer_x_realtime: p, ratio: o / p, spread: { ours, peer }, sim_s: simS },
    camera_30hz: camera,
    goals: { physics_only_x: 10, camera_x: 1 },
    peer: '@dimforge/rapier3d-compat 0.21.0 (non-deterministic build), same env and expert loop',
  };
}

export function formatSimBench(r: SimBenchResult): string {
  const f = (x: number) => x.toFixed(1);
  const lines = [
    `bench sim — ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}`,
    `physics only (4 tasks, scripted expert, ${f(r.physics_only.sim_s)} sim s per repeat):`,
    `  deterministic Rapier (ours)  ${f(r.physics_only.ours_x_realtime)}× real time   [${r.physics_only.spread.ours.map(f).join(', ')}]`,
    `  ordinary Rapier (peer)       ${f(r.physics_only.peer_x_realtime)}× real time   [${r.physics_only.spread.peer.map(f).join(', ')}]`,
    `  ours / peer = ${r.physics_only.ratio.toFixed(2)}   (goal ≥ ${r.goals.physics_only_x}× real time)`,
  ];
  if ('skipped' in r.camera_30hz) lines.push(`camera at 30 Hz: skipped (${r.camera_30hz.skipped})`);
  else lines.push(`camera at 30 Hz (${r.camera_30hz.resolution}, pick-place): ${f(r.camera_30hz.x_realtime)}× real time   [${r.camera_30hz.spread.map(f).join(', ')}]   (goal ≥ ${r.goals.camera_x}×)`);
  return lines.join('\n');
}
