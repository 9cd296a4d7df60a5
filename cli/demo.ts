// `senseact demo`: the whole loop on the embedded simulator — record three
// expert demos, train the multimodal policy, evaluate it and its vision-only
// ablation on held-out seeds, and write demo-output/report.html. Re-running
// reuses what is there unless --fresh; --quick runs every stage, smaller.
// Every file is written atomically, so an interrupt leaves no half-written
// file under a final name; the deployment drill kills its child processes on
// every exit path, Ctrl-C included.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Dataset } from '../sensors/index.ts';
import { loadCheckpoint, trainPolicy, type Modality } from '../policy/index.ts';
import { drillSvg, evaluatePolicy, faultDrill, writeDemoReport, type DemoStage, type DemoReportInput } from '../runtime/index.ts';
import { recordEpisodes } from '../sim/record.ts';
import { createNodeCamera } from '../sim/camera-node.ts';
import { doctorReport, formatDoctor } from './doctor.ts';
import { parseFlags } from './flags.ts';
import { progressBar } from './progress.ts';

const TASK = 'find-smell';
const DemoFlags = z.object({ quick: z.boolean().default(false), fresh: z.boolean().default(false), out: z.string().default('demo-output') });

export async function runDemo(raw: Record<string, unknown> = {}, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  const flags = parseFlags(DemoFlags, raw);
  const out = path.resolve(flags.out);
  const demosDir = path.join(out, 'demos');
  const ckpt = path.join(out, 'policy', `${TASK}${flags.quick ? '-quick' : ''}.safetensors`);
  if (flags.fresh) fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const stages: DemoStage[] = [];
  const t0 = performance.now();
  const stage = async <T>(name: string, fn: () => Promise<{ value: T; status?: DemoStage['status']; detail: string }>): Promise<T> => {
    const s = performance.now();
    log(`\n[${stages.length + 1}] ${name}`);
    const r = await fn();
    const st: DemoStage = { name, seconds: (performance.now() - s) / 1000, status: r.status ?? 'done', detail: r.detail };
    stages.push(st);
    log(`    ${st.status}: ${st.detail} (${st.seconds.toFixed(1)} s)`);
    return r.value;
  };

  log(`senseact demo${flags.quick ? ' --quick' : ''}: ${TASK}, output in ${out}`);
  await stage('doctor', async () => {
    const report = await doctorReport();
    log(formatDoctor(report).replace(/^/gm, '    '));
    return { value: null, detail: `backend ${report.backend}` };
  });

  const demos = await stage('record 3 expert demonstrations', async () => {
    const ds = fs.existsSync(demosDir) ? await Dataset.open(demosDir) : null;
    if (ds && ds.size >= 3) {
      const info = await ds.info();
      return { value: info.episodes, status: 'reused', detail: `${info.episodes.length} logs already in ${demosDir}` };
    }
    fs.mkdirSync(demosDir, { recursive: true });
    const camera = await createNodeCamera();
    const bar = progressBar('record');
    try {
      await recordEpisodes({ task: TASK, driver: 'full', episodes: 3, firstSeed: 0, outDir: demosDir, camera, onEpisode: (done, r) => bar.update(done, 3, `seed ${r.seed}: ${r.success ? 'success' : r.failure}`) });
    } finally {
      bar.stop();
    }
    const info = await (await Dataset.open(demosDir)).info();
    return { value: info.episodes, detail: `${info.episodes.length} episodes (${info.episodes.map((e) => `${e.duration_s.toFixed(0)} s`).join(', ')}) in ${demosDir}` };
  });

  const training = await stage('train the multimodal policy', async () => {
    if (fs.existsSync(ckpt)) {
      const t = loadCheckpoint(ckpt).meta.training!;
      return { value: { steps: t.steps, seconds: t.seconds, backend: t.backend, finalLoss: t.final_loss, valLoss: t.val_loss }, status: 'reused', detail: `${ckpt} (${t.steps} steps, loss ${t.final_loss.toFixed(4)})` };
    }
    const bar = progressBar('train');
    try {
      const r = await trainPolicy({
        data: demosDir,
        out: ckpt,
        config: flags.quick ? { train: { steps: 20, val_every: 10 } } : {},
        log: (l) => log(`    ${l}`),
        onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss?.toFixed(4) ?? '…'}`),
      });
      return { value: r, detail: `${r.steps} steps on ${r.backend} in ${r.seconds.toFixed(0)} s, loss ${r.finalLoss.toFixed(4)}` };
    } finally {
      bar.stop();
    }
  });

  const episodes = flags.quick ? 2 : 20;
  const evals: DemoReportInput['evals'] = [];
  for (const [label, mask] of [
    ['fused (camera+touch+smell+proprio)', []],
    ['vision-only ablation (touch, smell masked)', ['tactile', 'smell']],
  ] as [string, Modality[]][]) {
    await stage(`evaluate: ${label}`, async () => {
      const bar = progressBar('eval');
      let ok = 0;
      try {
        const r = await evaluatePolicy({ policy: ckpt, task: TASK, episodes, seed: 1000, mask, onEpisode: (d, n, o) => bar.update(d, n, `${(ok += o.success ? 1 : 0)}/${d} succeeded`) });
        evals.push({ label, ...r });
        const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
        return { value: r, detail: `${r.result.successes}/${r.result.episodes} = ${pct(r.result.success_rate)} [${pct(r.result.ci95[0])}, ${pct(r.result.ci95[1])}] on seeds ${r.result.seeds[0]}…` };
      } finally {
        bar.stop();
      }
    });
  }

  const drill = await stage('deploy with a sensor dropout', async () => {
    const r = await faultDrill({
      bin: path.resolve(import.meta.dirname, '../bin/senseact.mjs'),
      policy: ckpt,
      task: TASK,
      seed: 2000,
      duration_s: 3,
      before_s: flags.quick ? 3 : 6,
      after_s: flags.quick ? 6 : 8,
      log: (l) => log(`    ${l}`),
    });
    const dt = (t: number | null) => (t === null ? 'never' : `${(t - r.fault.at_s).toFixed(1)} s after the fault`);
    const ok = r.safe_stop_at_s !== null && r.resumed_at_s !== null && r.sigterm_exit === 0;
    return {
      value: r,
      status: ok ? 'done' : 'failed',
      detail: `${r.fault.topic} stopped for ${r.fault.duration_s} s: safe stop ${dt(r.safe_stop_at_s)}, resumed ${dt(r.resumed_at_s)}; SIGTERM → exit ${r.sigterm_exit}`,
    };
  });

  const curveFile = ckpt.replace(/\.safetensors$/, '.loss.svg');
  const report = writeDemoReport(out, {
    task: TASK,
    stages,
    demos: demos.map((d) => ({ file: d.file, seed: d.seed ?? -1, success: d.success ?? null, duration_s: d.duration_s })),
    training: { ...training, curveSvg: fs.existsSync(curveFile) ? fs.readFileSync(curveFile, 'utf8') : null },
    evals,
    drillSvg: drillSvg(drill),
  });
  log('\nsummary');
  for (const s of stages) log(`  ${s.name.padEnd(48)} ${s.status.padEnd(14)} ${s.seconds.toFixed(1).padStart(7)} s`);
  log(`\nreport: ${report}\ndone in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
