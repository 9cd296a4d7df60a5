// `senseact bench infer`: one policy tick — upload one frame's features,
// forward the default network at batch 1, read the action chunk back — p50
// and p99 over many ticks, ours (WebGPU tuned, CPU) against the same network
// in tfjs (webgpu on the same Dawn adapter, wasm, cpu).
import os from 'node:os';
import { CpuBackend, createBackend, type Backend } from '../kernels/index.ts';
import { defaultTuneCachePath, fileTuneStore } from '../kernels/webgpu/tuneFile.ts';
import { defaultConfig } from '../policy/index.ts';
import { machineInfo, quantile, type BenchRow, type MachineInfo } from './kernels.ts';
import { SIM_DIMS, policyWorkload, syntheticBatch } from './trainPolicy.ts';
import { TfPolicy, loadTfjs, tfBackendInfo, useTfBackend, type Tf } from './tfjsPolicy.ts';
import { timeSteps, type StepImpl } from './train.ts';

export interface InferBenchResult {
  bench: 'infer';
  machine: MachineInfo;
  adapter: string;
  peers: Record<string, string>;
  date: string;
  rows: (BenchRow & { ms_p50: number | null; ms_p99: number | null; ticks: number })[];
  ratios: Record<string, number | null>;
}

export async function benchInfer(opts: { quick?: boolean; ticks?: number; cache?: string; log?: (l: string) => void } = {}): Promise<InferBenchResult> {
  const startLoad = os.loadavg()[0];
  const log = opts.log ?? (() => {});
  const ticks = opts.ticks ?? (opts.quick ? 30 : 200);
  const config = defaultConfig();
  const model = 'policy tick (batch 1)';
  const shape = `${config.image.width}×${config.image.height} image + touch, smell, proprio → ${config.chunk}×7 actions`;
  const peers: Record<string, string> = {};
  const impls: StepImpl[] = [];
  const skipped: InferBenchResult['rows'] = [];
  let adapter = 'none';
  let created: Awaited<ReturnType<typeof createBackend>> | null = null;
  try {
    created = await createBackend({ prefer: 'webgpu', tune: { mode: 'tune', store: fileTuneStore(opts.cache ?? defaultTuneCachePath()) } });
    adapter = created.reason;
    impls.push(oursTick('ours-webgpu', created.backend));
  } catch (err) {
    skipped.push({ model, shape, impl: 'ours-webgpu', ms_median: null, ms_p90: null, gflops: null, ms_p50: null, ms_p99: null, ticks: 0, skipped: (err as Error).message });
  }
  impls.push(oursTick('ours-cpu', new CpuBackend()));
  const tf = await loadTfjs();
  for (const name of ['webgpu', 'wasm', 'cpu'] as const) {
    const why = await useTfBackend(tf, name);
    if (why) {
      skipped.push({ model, shape, impl: `tfjs-${name}`, ms_median: null, ms_p90: null, gflops: null, ms_p50: null, ms_p99: null, ticks: 0, skipped: why });
      continue;
    }
    peers[`tfjs-${name}`] = tfBackendInfo(tf);
    impls.push(tfTick(tf, name, config));
  }
  const times = await timeSteps(impls, 10, ticks, log);
  const rows: InferBenchResult['rows'] = impls.map((i) => {
    const t = times.get(i)!;
    return { model, shape, impl: i.impl, ms_median: quantile(t, 0.5), ms_p90: quantile(t, 0.9), gflops: null, ms_p50: quantile(t, 0.5), ms_p99: quantile(t, 0.99), ticks: t.length };
  });
  rows.push(...skipped);
  for (const i of impls) i.dispose();
  created?.dispose();
  const p = (impl: string, k: 'ms_p50' | 'ms_p99') => rows.find((r) => r.impl === impl)?.[k] ?? null;
  const ratio = (a: string, b: string, k: 'ms_p50' | 'ms_p99') => (p(a, k) && p(b, k) ? p(b, k)! / p(a, k)! : null);
  const ratios: Record<string, number | null> = {};
  for (const ours of ['ours-webgpu', 'ours-cpu'])
    for (const peer of ['tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu']) {
      ratios[`${ours}_vs_${peer}_p50`.replace(/-/g, '_')] = ratio(ours, peer, 'ms_p50');
      ratios[`${ours}_vs_${peer}_p99`.replace(/-/g, '_')] = ratio(ours, peer, 'ms_p99');
    }
  return { bench: 'infer', machine: machineInfo(startLoad), adapter, peers, date: new Date().toISOString(), rows, ratios };
}

function oursTick(impl: string, backend: Backend): StepImpl {
  const work = policyWorkload(backend, { batch: 1 });
  return {
    impl,
    step: async () => (await work.tick())[0],
    dispose: () => work.dispose(),
  };
}

function tfTick(tf: Tf, name: 'webgpu' | 'wasm' | 'cpu', config: ReturnType<typeof defaultConfig>): StepImpl {
  let model: TfPolicy | null = null;
  const one = syntheticBatch(1, config, SIM_DIMS, 2);
  return {
    impl: `tfjs-${name}`,
    async step() {
      if (tf.getBackend() !== name) await tf.setBackend(name);
      model ??= new TfPolicy(tf, config, SIM_DIMS);
      const out = tf.tidy(() => model!.forward(model!.inputs(one)));
      const v = (await out.data())[0];
      out.dispose();
      return v;
    },
    dispose: () => model?.dispose(),
  };
}

export function formatInferBench(r: InferBenchResult): string {
  const lines = [`bench infer — ${r.date}`];
  lines.push(`  machine: ${r.machine.cpu} ×${r.machine.cpus}, ${r.machine.platform}, node ${r.machine.node}; load average ${r.machine.load[0].toFixed(1)} → ${r.machine.load[1].toFixed(1)}`);
  lines.push(`  adapter: ${r.adapter}`);
  for (const [k, v] of Object.entries(r.peers)) lines.push(`  ${k}: ${v}`);
  lines.push(`  ${r.rows[0]?.model}: ${r.rows[0]?.shape}`);
  const best = Math.min(...r.rows.filter((x) => x.ms_p50 !== null).map((x) => x.ms_p50!));
  lines.push(`  ${'impl'.padEnd(14)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ticks'.padStart(6)}  p50 vs fastest`);
  for (const x of r.rows) {
    if (x.ms_p50 === null) lines.push(`  ${x.impl.padEnd(14)} not measured: ${x.skipped}`);
    else lines.push(`  ${x.impl.padEnd(14)} ${x.ms_p50.toFixed(2).padStart(8)} ${x.ms_p99!.toFixed(2).padStart(8)} ${String(x.ticks).padStart(6)}  ${(x.ms_p50 / best).toFixed(2)}×`);
  }
  lines.push('  ratios (peer / ours; >1: ours faster):');
  for (const [k, v] of Object.entries(r.ratios)) if (v !== null) lines.push(`    ${k}: ${v.toFixed(2)}×`);
  return lines.join('\n');
}

/** `senseact bench infer [--json] [--quick]`. */
export async function benchInferCommand(opts: { json?: boolean; quick?: boolean }): Promise<void> {
  const result = await benchInfer({ quick: opts.quick, log: opts.json ? undefined : (l) => process.stderr.write(l + '\n') });
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(formatInferBench(result) + '\n');
}
