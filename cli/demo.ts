// `senseact demo`: the whole loop on the embedded simulator — record three
// expert demos, train the multimodal policy, evaluate it and its vision-only
// ablation on held-out seeds, and write demo-output/report.html. Re-running
// reuses what is there unless --fresh; --quick runs every stage, smaller.
// Every file is written atomically, so an interrupt leaves no half-written
// file under a final name; the deployment drill kills its child processes on
// every exit path, Ctrl-C included.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Dataset, writeFileAtomic } from '../sensors/index.ts';
import { PolicyConfig, RECIPES, loadCheckpoint, trainPolicy, type Modality } from '../policy/index.ts';
import { simShiftRenderer } from './shifts.ts';
import { EvalResult, drillSvg, faultDrill, formatRate, milestoneLabel, writeDemoReport, type DemoStage } from '../runtime/index.ts';
import { SIM_ROBOT, recordEpisodes } from '../sim/record.ts';
import { createNodeCamera } from '../sim/camera-node.ts';
import { doctorReport, formatDoctor } from './doctor.ts';
import { parseFlags } from './flags.ts';
import { progressBar } from './progress.ts';

const TASK = 'find-smell';
const BIN = path.resolve(import.meta.dirname, '../bin/senseact.mjs');
const children = new Set<ChildProcess>();
const killChildren = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));

/** `senseact eval … --json` in a child process; `onEpisode` fires per finished episode (from its stderr). */
function evalChild(args: string[], onEpisode: () => void): Promise<EvalResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SENSEACT_PROGRESS_LINES: '1' } });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      for (const _ of String(d).matchAll(/^episode done/gm)) onEpisode();
    });
    child.on('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`eval exited ${code}: ${stderr.split('\n').filter((l) => l.startsWith('senseact:')).join(' ') || stderr.slice(-500)}`));
      try {
        resolve(EvalResult.parse(JSON.parse(stdout)));
      } catch (err) {
        reject(new Error(`eval printed no result: ${(err as Error).message}`));
      }
    });
  });
}

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

  const onSignal = () => {
    killChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`senseact demo${flags.quick ? ' --quick' : ''}: ${TASK}, output in ${out}`);
  await stage('doctor', async () => {
    const report = await doctorReport();
    log(formatDoctor(report).replace(/^/gm, '    '));
    return { value: null, detail: `backend ${report.backend}` };
  });

  // Fresh demonstrations make any saved policy stale.
  let recorded = false;
  const demos = await stage('record 3 expert demonstrations', async () => {
    const ds = fs.existsSync(demosDir) ? await Dataset.open(demosDir) : null;
    if (ds && ds.size >= 3) {
      const info = await ds.info();
      // Demonstrations of an older scene (another SIM_ROBOT) would teach a policy a task that no longer exists.
      const stale = info.episodes.filter((e) => e.robot !== SIM_ROBOT);
      if (stale.length === 0) return { value: info.episodes, status: 'reused', detail: `${info.episodes.length} logs already in ${demosDir}` };
      // Kept, not deleted: recorded data is never thrown away.
      const aside = `${demosDir}.old-${Date.now()}`;
      fs.renameSync(demosDir, aside);
      log(`    re-recording: ${stale.length} logs were made by ${stale[0].robot ?? 'an unknown robot'}, not ${SIM_ROBOT}; moved to ${aside}`);
    }
    fs.mkdirSync(demosDir, { recursive: true });
    recorded = true;
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

  // The few-shot recipe (docs/policy.md); --quick keeps it and trains 20 steps.
  const recipe = flags.quick ? { ...RECIPES['few-shot'], train: { steps: 20, val_every: 10 } } : RECIPES['few-shot'];
  const training = await stage('train the multimodal policy (few-shot recipe)', async () => {
    if (fs.existsSync(ckpt) && !recorded) {
      // A checkpoint this senseact cannot use (an older format, a damaged file) is trained again, not fatal.
      let meta: ReturnType<typeof loadCheckpoint>['meta'] | null = null;
      try {
        meta = loadCheckpoint(ckpt).meta;
      } catch (err) {
        log(`    not reusing ${ckpt}: ${(err as Error).message}`);
      }
      let t = meta?.training ?? null;
      if (t && JSON.stringify(meta!.config) !== JSON.stringify(PolicyConfig.parse(recipe))) {
        log(`    not reusing ${ckpt}: trained with another configuration than the few-shot recipe`);
        t = null;
      }
      if (t) return { value: { steps: t.steps, seconds: t.seconds, backend: t.backend, finalLoss: t.final_loss, valLoss: t.val_loss, ...(t.influence ? { influence: t.influence } : {}) }, status: 'reused', detail: `${ckpt} (${t.steps} steps, loss ${t.final_loss.toFixed(4)})` };
    }
    const bar = progressBar('train');
    try {
      const r = await trainPolicy({
        data: demosDir,
        out: ckpt,
        config: recipe,
        renderShifts: simShiftRenderer,
        log: (l) => log(`    ${l}`),
        onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss?.toFixed(4) ?? '…'}`),
      });
      return { value: r, detail: `${r.steps} steps on ${r.backend} in ${r.seconds.toFixed(0)} s, loss ${r.finalLoss.toFixed(4)}` };
    } finally {
      bar.stop();
    }
  });

  // The policy and its ablation are evaluated at the same time, each in its
  // own process: one core each on a 2-core machine halves the wall time.
  const episodes = flags.quick ? 2 : 20;
  const variants: [string, string, Modality[]][] = [
    ['fused (camera+touch+smell, tool height, fingers and grip)', 'fused', []],
    ['vision-only ablation (touch, smell masked)', 'vision-only', ['tactile', 'smell']],
  ];
  const evals = await stage(`evaluate on ${episodes} held-out seeds: fused and vision-only, in parallel`, async () => {
    const bar = progressBar('eval');
    const done = [0, 0];
    const runs = variants.map(([label, slug, mask], i) =>
      evalChild(
        ['eval', '--policy', ckpt, '--task', TASK, '--episodes', String(episodes), '--seed', '1000', '--json', '--report', path.join(out, `eval-${slug}.html`), '--strips', path.join(out, `camera-${slug}`), ...(mask.length ? ['--mask', mask.join(',')] : [])],
        () => {
          done[i]++;
          bar.update(done[0] + done[1], 2 * episodes, `fused ${done[0]}/${episodes}, vision-only ${done[1]}/${episodes}`);
        },
      ).then((result) => ({ label, result, images: fs.readdirSync(out).filter((f) => f.startsWith(`camera-${slug}-`)).map((f) => ({ file: path.join(out, f), caption: f.includes('-success-') ? `a success (${f.replace(/.*-seed/, 'seed ').replace('.png', '')})` : `a failure (${f.replace(/.*-seed/, 'seed ').replace('.png', '')})` })) })),
    );
    try {
      const results = await Promise.all(runs);
      const success = results.map((r) => `${r.label.split(' ')[0]} ${formatRate(r.result.successes, r.result.episodes, r.result.ci95)}`).join('; ');
      // Milestones (sim/task.ts) say what each policy got right on the way, where few episodes succeed.
      const milestones = Object.keys(results[0].result.milestones).map(
        (name) => `${milestoneLabel(name)}: ${results.map((r) => `${r.label.split(' ')[0]} ${formatRate(r.result.milestones[name]?.count ?? 0, r.result.episodes)}`).join('; ')}`,
      );
      for (const line of milestones) log(`    ${line}`);
      return { value: results, detail: [success, ...milestones].join('. ') };
    } finally {
      bar.stop();
    }
  });

  const drill = await stage('deploy with a sensor dropout', async () => {
    const r = await faultDrill({
      bin: path.resolve(import.meta.dirname, '../bin/senseact.mjs'),
      policy: ckpt,
      task: TASK,
      seed: 2000,
      duration_s: 3,
      before_s: flags.quick ? 3 : 6,
      after_s: 10,
      log: (l) => log(`    ${l}`),
    });
    writeFileAtomic(path.join(out, 'deploy-timeline.json'), JSON.stringify(r, null, 1) + '\n');
    const dt = (t: number | null) => (t === null ? 'never' : `${(t - r.fault.at_s).toFixed(1)} s after the fault`);
    const ok = r.safe_stop_at_s !== null && r.resumed_at_s !== null && r.sigterm_exit === 0;
    const reasons = [...new Set(r.timeline.map((s) => s.stop_reason).filter(Boolean))];
    if (reasons.length) log(`    stop reasons seen: ${reasons.join('; ')}`);
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
  const nameWidth = Math.max(...stages.map((s) => s.name.length));
  for (const s of stages) log(`  ${s.name.padEnd(nameWidth)}  ${s.status.padEnd(14)} ${s.seconds.toFixed(1).padStart(7)} s`);
  log(`\nreport: ${report}\ndone in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
