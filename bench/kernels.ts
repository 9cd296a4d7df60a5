// `senseact bench kernels`: every matmul and convolution shape of the default
// policy (read off a real training step and tick), plus a few large squares,
// timed side by side in one run for
//   ours-tuned    WebGPU backend, autotuned kernels (tuned now if not cached)
//   ours-default  WebGPU backend, the hand-set heuristic (tuning off)
//   tfjs-webgpu   @tensorflow/tfjs-backend-webgpu 4.22 on the same Dawn adapter
//   tfjs-wasm     @tensorflow/tfjs-backend-wasm 4.22 (XNNPACK)
//   ours-cpu      our CPU reference backend
// Wall clock for every implementation alike: R runs queued back to back, then
// one one-element readback that waits for them; R is calibrated per shape so
// a sample lasts ~targetMs; samples rotate over the implementations so load
// drift hits all of them. Medians and p90 over the samples.
import os from 'node:os';
import { CpuBackend, F, Tensor, createBackend, noGrad, type Backend, type Storage, type View } from '../kernels/index.ts';
import { defaultTuneCachePath, fileTuneStore } from '../kernels/webgpu/tuneFile.ts';
import { WebGpuBackend } from '../kernels/webgpu/WebGpuBackend.ts';
import type * as TF from '@tensorflow/tfjs-core';
import { convFlops, convLabel, extraMatmulShapes, matmulFlops, policyConvShapes, policyMatmulShapes, shapeLabel, type ConvShape, type MatmulShape } from './kernelsShapes.ts';
import { loadTfjs, tfBackendInfo, useTfBackend, type Tf } from './tfjsPolicy.ts';

export const KERNEL_IMPLS = ['ours-tuned', 'ours-default', 'tfjs-webgpu', 'tfjs-wasm', 'ours-cpu'] as const;
export type KernelImpl = (typeof KERNEL_IMPLS)[number];

export interface BenchRow {
  op?: string;
  model?: string;
  shape: string;
  impl: string;
  ms_median: number | null;
  ms_p90: number | null;
  gflops: number | null;
  /** Why there is no number (the implementation cannot run this here). */
  skipped?: string;
  samples?: number;
  reps?: number;
  /** The kernel ours ran on WebGPU (tuned choice, or the default). */
  kernel?: string;
}

export interface MachineInfo {
  cpu: string;
  cpus: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started and ended: other processes distort timings. */
  load: [number, number];
}

export interface KernelBenchResult {
  bench: 'kernels';
  machine: MachineInfo;
  adapter: string;
  peers: Record<string, string>;
  date: string;
  rows: BenchRow[];
  ratios: Record<string, unknown>;
  tuning: { mode: 'tune'; cache: string; tuned_now: number; seconds: number };
}

export interface KernelBenchOptions {
  quick?: boolean;
  /** Tuning cache for ours-tuned (default: the user's cache). */
  cache?: string;
  onProgress?: (done: number, total: number, what: string) => void;
  log?: (line: string) => void;
}

// ── shared measurement helpers (bench train and infer use them too) ────────

export function machineInfo(startLoad: number): MachineInfo {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, load: [startLoad, os.loadavg()[0]] };
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

/** A prepared implementation of one op: runs it `reps` times and waits until the last result exists. */
export interface Runner {
  run(reps: number): Promise<void>;
  dispose(): void;
  /** Which kernel it ran (ours on WebGPU), read after the warm-up. */
  kernel?: () => string;
}

interface Contender {
  impl: string;
  kernel?: string;
  runner: Runner | null;
  skipped?: string;
  reps: number;
  times: number[];
}

/** Warms up, calibrates reps per contender, then takes `samples` rotating samples. */
async function measure(contenders: Contender[], samples: number, targetMs: number): Promise<void> {
  for (const c of contenders) {
    if (!c.runner) continue;
    try {
      await c.runner.run(1); // compile, tune, first-touch allocations
      c.kernel = c.runner.kernel?.();
      // Calibrate on the fastest of three single runs: one hiccup (GC, a
      // load spike) must not leave a contender at 1 rep, where each sample
      // would carry a whole submit-and-readback round trip.
      let once = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        await c.runner.run(1);
        once = Math.min(once, performance.now() - t0);
      }
      c.reps = Math.max(1, Math.min(256, Math.round(targetMs / Math.max(once, 0.01))));
    } catch (err) {
      c.skipped = `failed: ${(err as Error).message.split('\n')[0]}`;
      c.runner.dispose();
      c.runner = null;
    }
  }
  const live = contenders.filter((c) => c.runner);
  for (let s = 0; s < samples; s++) {
    const order = s % 2 ? [...live].reverse() : live;
    for (const c of order) {
      const t0 = performance.now();
      await c.runner!.run(c.reps);
      c.times.push((performance.now() - t0) / c.reps);
    }
  }
  for (const c of live) c.runner!.dispose();
}

function rowsOf(contenders: Contender[], op: string, shape: string, flops: number): BenchRow[] {
  return contenders.map((c) => {
    if (c.times.length === 0) return { op, shape, impl: c.impl, ms_median: null, ms_p90: null, gflops: null, skipped: c.skipped ?? 'not run' };
    const med = quantile(c.times, 0.5);
    return { op, shape, impl: c.impl, ms_median: med, ms_p90: quantile(c.times, 0.9), gflops: flops / med / 1e6, samples: c.times.length, reps: c.reps, ...(c.kernel ? { kernel: c.kernel } : {}) };
  });
}

// ── our backends ───────────────────────────────────────────────────────────

function matmulViews(s: MatmulShape, storageA: Storage, storageB: Storage): [View, View] {
  const a: View = { storage: storageA, shape: [s.B, s.M, s.K], strides: s.tA ? [s.M * s.K, 1, s.M] : [s.M * s.K, s.K, 1], offset: 0 };
  const bb = s.bBroadcast ? 0 : s.K * s.N;
  const b: View = { storage: storageB, shape: [s.B, s.K, s.N], strides: s.tB ? [bb, 1, s.K] : [bb, s.N, 1], offset: 0 };
  return [a, b];
}

function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 4294967296 - 0.5;
  }
  return out;
}

function oursMatmul(backend: Backend, s: MatmulShape): Runner {
  const A = backend.alloc(s.B * s.M * s.K);
  const B = backend.alloc((s.bBroadcast ? 1 : s.B) * s.K * s.N);
  backend.write(A, seeded(A.length, 1));
  backend.write(B, seeded(B.length, 2));
  const out = backend.alloc(s.B * s.M * s.N);
  const [a, b] = matmulViews(s, A, B);
  return {
    async run(reps) {
      for (let r = 0; r < reps; r++) backend.matmul(out, a, b);
      await backend.read({ storage: out, shape: [1], strides: [1], offset: 0 });
    },
    dispose() {
      for (const st of [A, B, out]) backend.release(st);
    },
    kernel: backend instanceof WebGpuBackend ? () => backend.matmulChoiceFor(a, b).choice : undefined,
  };
}

function oursConv(backend: Backend, c: ConvShape): Runner {
  const x = Tensor.fromArray(seeded(c.n * c.h * c.w * c.c, 3), [c.n, c.h, c.w, c.c], backend);
  const w = Tensor.fromArray(seeded(c.k * c.k * c.c * c.cout, 4), [c.k, c.k, c.c, c.cout], backend);
  return {
    async run(reps) {
      let y: Tensor | null = null;
      for (let r = 0; r < reps; r++) {
        y?.dispose();
        y = noGrad(() => F.conv2d(x, w, null, { stride: c.stride, pad: c.pad }));
      }
      await backend.read({ storage: y!.storage, shape: [1], strides: [1], offset: 0 });
      y!.dispose();
    },
    dispose() {
      x.dispose();
      w.dispose();
    },
    kernel:
      backend instanceof WebGpuBackend
        ? () => {
            const g = F.convGeometry(x.shape, w.shape, c.stride, c.pad);
            return (['fwd', 'dx', 'dw'] as const).map((pass) => `${pass} ${backend.convChoiceFor(pass, g, c.cout).choice}`).join(', ');
          }
        : undefined,
  };
}

// ── tfjs ───────────────────────────────────────────────────────────────────

/** Waits for a tfjs result by reading one element of it (as ours does). */
async function settle(tf: Tf, t: TF.Tensor): Promise<void> {
  const one = tf.slice(tf.reshape(t, [-1]), [0], [1]);
  await one.data();
  tf.dispose([one, t]);
}

function tfMatmul(tf: Tf, s: MatmulShape): Runner {
  const a = tf.tensor(seeded(s.B * s.M * s.K, 1), s.tA ? [s.B, s.K, s.M] : [s.B, s.M, s.K]) as TF.Tensor3D;
  const b = tf.tensor(seeded(s.B * s.K * s.N, 2), s.tB ? [s.B, s.N, s.K] : [s.B, s.K, s.N]) as TF.Tensor3D;
  return {
    async run(reps) {
      let last: TF.Tensor | null = null;
      for (let r = 0; r < reps; r++) {
        if (last) tf.dispose(last);
        last = tf.matMul(a, b, s.tA, s.tB);
      }
      await settle(tf, last!);
    },
    dispose() {
      tf.dispose([a, b]);
    },
  };
}

function tfConv(tf: Tf, c: ConvShape): Runner {
  const x = tf.tensor4d(seeded(c.n * c.h * c.w * c.c, 3), [c.n, c.h, c.w, c.c]);
  const w = tf.tensor4d(seeded(c.k * c.k * c.c * c.cout, 4), [c.k, c.k, c.c, c.cout]);
  return {
    async run(reps) {
      let last: TF.Tensor | null = null;
      for (let r = 0; r < reps; r++) {
        if (last) tf.dispose(last);
        last = tf.conv2d(x, w, c.stride, c.pad);
      }
      await settle(tf, last!);
    },
    dispose() {
      tf.dispose([x, w]);
    },
  };
}

// ── the benchmark ──────────────────────────────────────────────────────────

export async function benchKernels(opts: KernelBenchOptions = {}): Promise<KernelBenchResult> {
  const startLoad = os.loadavg()[0];
  const log = opts.log ?? (() => {});
  const quick = !!opts.quick;
  const samples = quick ? 3 : 7;
  const targetMs = quick ? 15 : 40;
  const cache = opts.cache ?? defaultTuneCachePath();

  const created = await createBackend({ prefer: 'webgpu', tune: { mode: 'tune', store: fileTuneStore(cache) } });
  const tuned = created.backend as WebGpuBackend;
  const untuned = new WebGpuBackend(tuned.device, { tune: { mode: 'off' } });
  const cpu = new CpuBackend();
  const tf = await loadTfjs();
  const peers: Record<string, string> = {};
  const tfReady: Record<'webgpu' | 'wasm', string | null> = { webgpu: null, wasm: null };
  for (const name of ['webgpu', 'wasm'] as const) {
    tfReady[name] = await useTfBackend(tf, name);
    peers[`tfjs-${name}`] = tfReady[name] ?? tfBackendInfo(tf);
  }

  const policy = await policyMatmulShapes();
  const matmuls = [...policy, ...extraMatmulShapes(quick)];
  const convs = policyConvShapes();
  const total = matmuls.length + convs.length;
  let done = 0;
  const tuneStart = performance.now();
  const tunedBefore = tuned.tuner.reports.length;
  const rows: BenchRow[] = [];

  const runOne = async (op: string, shape: string, flops: number, make: Record<KernelImpl, () => Runner>, cpuTooSlow: boolean) => {
    const contenders: Contender[] = KERNEL_IMPLS.map((impl) => {
      const c: Contender = { impl, runner: null, reps: 1, times: [] };
      const tfName = impl === 'tfjs-webgpu' ? 'webgpu' : impl === 'tfjs-wasm' ? 'wasm' : null;
      if (tfName && tfReady[tfName]) c.skipped = tfReady[tfName]!;
      else if (impl === 'ours-cpu' && cpuTooSlow) c.skipped = 'skipped above 4 GFLOP per call (the CPU reference takes seconds)';
      // tfjs has one active backend: each tfjs runner switches to its own before running.
      else c.runner = tfName ? switching(tf, tfName, make[impl]) : make[impl]();
      return c;
    });
    await measure(contenders, samples, targetMs);
    rows.push(...rowsOf(contenders, op, shape, flops));
    opts.onProgress?.(++done, total, shape);
  };

  for (const s of matmuls) {
    const label = shapeLabel(s);
    log(`matmul ${label}`);
    await runOne('matmul', label, matmulFlops(s), {
      'ours-tuned': () => oursMatmul(tuned, s),
      'ours-default': () => oursMatmul(untuned, s),
      'tfjs-webgpu': () => tfMatmul(tf, s),
      'tfjs-wasm': () => tfMatmul(tf, s),
      'ours-cpu': () => oursMatmul(cpu, s),
    }, matmulFlops(s) > 4e9);
  }
  for (const c of convs) {
    const label = convLabel(c);
    log(`conv2d ${label}`);
    await runOne('conv2d', label, convFlops(c), {
      'ours-tuned': () => oursConv(tuned, c),
      'ours-default': () => oursConv(untuned, c),
      'tfjs-webgpu': () => tfConv(tf, c),
      'tfjs-wasm': () => tfConv(tf, c),
      'ours-cpu': () => oursConv(cpu, c),
    }, false);
  }
  const tunedNow = tuned.tuner.reports.length - tunedBefore;
  const adapter = created.reason;
  untuned.destroy();
  created.dispose();
  const policyShapes = new Set([...policy.map(shapeLabel), ...convs.map(convLabel)]);
  return {
    bench: 'kernels',
    machine: machineInfo(startLoad),
    adapter,
    peers,
    date: new Date().toISOString(),
    rows,
    ratios: kernelRatios(rows, policyShapes),
    tuning: { mode: 'tune', cache, tuned_now: tunedNow, seconds: (performance.now() - tuneStart) / 1000 },
  };
}

/** Wraps a tfjs runner so tfjs is on the right backend whenever it runs. */
function switching(tf: Tf, name: 'webgpu' | 'wasm', make: () => Runner): Runner {
  let inner: Runner | null = null;
  const ensure = async () => {
    if (tf.getBackend() !== name) await tf.setBackend(name);
    inner ??= make();
    return inner;
  };
  return {
    async run(reps) {
      await (await ensure()).run(reps);
    },
    dispose() {
      inner?.dispose(); // tfjs frees a tensor on the backend that holds it
    },
  };
}

const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);

/** Speedups of ours-tuned over each other implementation (>1: ours-tuned faster), over the policy's shapes. */
export function kernelRatios(rows: readonly BenchRow[], policyShapes: ReadonlySet<string>): Record<string, unknown> {
  const byShape = new Map<string, Map<string, BenchRow>>();
  for (const r of rows) {
    const m = byShape.get(r.shape) ?? new Map<string, BenchRow>();
    m.set(r.impl, r);
    byShape.set(r.shape, m);
  }
  const out: Record<string, unknown> = {};
  for (const peer of KERNEL_IMPLS.slice(1)) {
    const xs: number[] = [];
    let worst: { shape: string; ratio: number } | null = null;
    for (const [shape, m] of byShape) {
      if (!policyShapes.has(shape)) continue;
      const ours = m.get('ours-tuned')?.ms_median;
      const theirs = m.get(peer)?.ms_median;
      if (!ours || !theirs) continue;
      const ratio = theirs / ours;
      xs.push(ratio);
      if (!worst || ratio < worst.ratio) worst = { shape, ratio };
    }
    out[`tuned_vs_${peer.replace('-', '_')}`] = { median: quantile(xs, 0.5), geomean: geomean(xs), shapes: xs.length, worst };
  }
  return out;
}

// ── printing ───────────────────────────────────────────────────────────────

const fmtMs = (r: BenchRow | undefined) => (!r || r.ms_median === null ? '—' : r.ms_median < 1 ? r.ms_median.toFixed(3) : r.ms_median < 100 ? r.ms_median.toFixed(2) : r.ms_median.toFixed(0));
const fmtGf = (r: BenchRow | undefined) => (!r || r.gflops === null ? '' : ` (${r.gflops < 10 ? r.gflops.toFixed(2) : r.gflops.toFixed(0)})`);
const fmtRatio = (ours: BenchRow | undefined, peer: BenchRow | undefined) => (ours?.ms_median && peer?.ms_median ? `${(peer.ms_median / ours.ms_median).toFixed(2)}×` : '—');

export function formatKernelBench(r: KernelBenchResult): string {
  const lines: string[] = [];
  lines.push(`bench kernels — ${r.date}`);
  lines.push(`  machine: ${r.machine.cpu} ×${r.machine.cpus}, ${r.machine.platform}, node ${r.machine.node}; load average ${r.machine.load[0].toFixed(1)} → ${r.machine.load[1].toFixed(1)}`);
  lines.push(`  adapter: ${r.adapter}`);
  for (const [k, v] of Object.entries(r.peers)) lines.push(`  ${k}: ${v}`);
  lines.push(`  ms per call, median (GFLOP/s); ratios = peer ms / ours-tuned ms (>1: ours-tuned faster)`);
  const head = ['op', 'shape', ...KERNEL_IMPLS, 'vs default', 'vs tfjs-webgpu', 'vs tfjs-wasm', 'vs cpu', 'tuned kernel (default)'];
  const table: string[][] = [head];
  const shapes = [...new Set(r.rows.map((x) => `${x.op}|${x.shape}`))];
  for (const key of shapes) {
    const [op, shape] = key.split('|');
    const m = new Map(r.rows.filter((x) => x.op === op && x.shape === shape).map((x) => [x.impl, x]));
    const ours = m.get('ours-tuned');
    const kernels = `${ours?.kernel ?? '—'} (${m.get('ours-default')?.kernel ?? '—'})`;
    table.push([op, shape, ...KERNEL_IMPLS.map((i) => fmtMs(m.get(i)) + fmtGf(m.get(i))), ...KERNEL_IMPLS.slice(1).map((i) => fmtRatio(ours, m.get(i))), kernels]);
  }
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) lines.push('  ' + row.map((c, i) => (i < 2 || i === row.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  lines.push('  over the policy shapes (ours-tuned speedup):');
  for (const [k, v] of Object.entries(r.ratios)) {
    const x = v as { median: number; geomean: number; shapes: number; worst: { shape: string; ratio: number } | null };
    lines.push(`    ${k}: median ${x.median.toFixed(2)}×, geomean ${x.geomean.toFixed(2)}× over ${x.shapes} shapes; lowest ${x.worst ? `${x.worst.ratio.toFixed(2)}× (${x.worst.shape})` : '—'}`);
  }
  const skipped = r.rows.filter((x) => x.skipped);
  for (const why of new Set(skipped.map((x) => `${x.impl}: ${x.skipped}`))) lines.push(`  not measured — ${why}`);
  lines.push(`  tuning: ${r.tuning.tuned_now} shapes tuned in this run (cache ${r.tuning.cache})`);
  return lines.join('\n');
}

/** `senseact bench kernels [--json] [--quick]`. */
export async function benchKernelsCommand(opts: { json?: boolean; quick?: boolean }): Promise<void> {
  const progress = (done: number, total: number, what: string) => process.stderr.write(`\r  [${done}/${total}] ${what}`.padEnd(60));
  const result = await benchKernels({ quick: opts.quick, onProgress: opts.json ? undefined : progress });
  if (!opts.json) process.stderr.write('\n');
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(formatKernelBench(result) + '\n');
}
