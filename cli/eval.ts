// `senseact eval --policy FILE --task T --episodes N --seed S [--mask …] [--json] [--report FILE] [--trace FILE.jsonl]`
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MODALITIES, missingPolicyFile, policyFiles } from '../policy/index.ts';
import { TraceWriter, evaluatePolicy, formatRate, milestoneLabel, pct, writeEvalReport, writeStrips } from '../runtime/index.ts';
import { TASK_NAMES } from '../sim/index.ts';
import { CliError } from './errors.ts';
import { intString, parseFlags, printJson } from './flags.ts';
import { progressBar } from './progress.ts';

const EvalFlags = z.object({
  policy: z.string().min(1),
  task: z.enum(TASK_NAMES, { message: `--task must be one of: ${TASK_NAMES.join(', ')}` }),
  episodes: intString('--episodes', 1, 10_000),
  seed: intString('--seed', 0, 0xffffffff),
  mask: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []))
    .pipe(z.array(z.enum(MODALITIES, { message: `--mask takes a comma-separated list of: ${MODALITIES.join(', ')}` }))),
  backend: z.enum(['webgpu', 'cpu', 'auto'], { message: '--backend must be webgpu, cpu or auto' }).default('auto'),
  report: z.string().optional(),
  strips: z.string().optional(),
  trace: z.string().min(1, '--trace needs a file name').optional(),
  json: z.boolean().default(false),
});

export async function evalCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(EvalFlags, raw);
  const missing = missingPolicyFile(flags.policy);
  if (missing) throw new CliError(`--policy: no such checkpoint: ${missing}`);
  if (flags.trace && !fs.existsSync(path.dirname(path.resolve(flags.trace)))) throw new CliError(`--trace: no such directory: ${path.dirname(flags.trace)}`, 2);
  const trace = flags.trace ? new TraceWriter(flags.trace) : null;
  const bar = progressBar(`eval ${flags.task}`);
  let successes = 0;
  const { result, outcomes } = await (async () => {
    try {
      return await evaluatePolicy({
        policy: flags.policy,
        task: flags.task,
        episodes: flags.episodes,
        seed: flags.seed,
        mask: flags.mask,
        backend: flags.backend,
        trace: trace ? (record) => trace.write(record) : undefined,
        onEpisode: (done, total, o) => {
          if (o.success) successes++;
          // For a parent process that reports progress (the demo runs evals as children).
          if (process.env.SENSEACT_PROGRESS_LINES === '1') process.stderr.write(`episode done ${done}/${total}\n`);
          bar.update(done, total, `${successes}/${done} succeeded (seed ${o.seed}: ${o.success ? 'success' : o.failure})`);
        },
      });
    } catch (err) {
      trace?.discard();
      throw new CliError((err as Error).message);
    } finally {
      bar.stop();
    }
  })();
  trace?.close();
  // An ensemble's report and loss curve are its first member's, the report named for the ensemble.
  const files = policyFiles(flags.policy);
  const stem = files[0].replace(/\.safetensors$/, '');
  const report = flags.report ?? stem + `${files.length > 1 ? `.ensemble-${files.length}` : ''}.eval-${flags.task}${flags.mask.length ? '-mask-' + flags.mask.join('+') : ''}.html`;
  writeEvalReport(report, result, outcomes, stem + '.loss.svg');
  if (flags.strips) writeStrips(path.dirname(flags.strips), path.basename(flags.strips), outcomes);
  if (flags.json) printJson(result);
  else {
    process.stderr.write(
      `${flags.task}: ${result.successes}/${result.episodes} = ${pct(result.success_rate)} success, 95% CI [${pct(result.ci95[0])}, ${pct(result.ci95[1])}], ` +
        `mean ${result.mean_steps.toFixed(1)} steps, latency p50 ${result.latency_ms.p50.toFixed(1)} ms / p99 ${result.latency_ms.p99.toFixed(1)} ms` +
        `${Object.keys(result.failures).length ? `; failures ${JSON.stringify(result.failures)}` : ''}\n` +
        Object.entries(result.milestones)
          .map(([name, m]) => `  ${milestoneLabel(name)}: ${formatRate(m.count, result.episodes, m.ci95)}\n`)
          .join('') +
        `report: ${report}\n` +
        (flags.trace ? `trace: ${flags.trace}\n` : ''),
    );
  }
}
