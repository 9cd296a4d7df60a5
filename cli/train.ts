// `senseact train --data DIR --out FILE.safetensors [--recipe NAME] [--config FILE] [--steps N] [--backend webgpu|cpu] [--seed S] [--members K [--jobs J]]`
import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { PolicyConfig, RECIPES, RECIPE_NAMES } from '../policy/index.ts';
import { readJsonFile } from '../sensors/index.ts';
import { CliError } from './errors.ts';
import { intString, numString, parseFlags, printJson } from './flags.ts';
import { progressBar } from './progress.ts';
import { progressText, summaryLines, trainJob, type MemberJob } from './trainJob.ts';
import { trainMembers } from './trainMembers.ts';

const TrainFlags = z.object({
  data: z.string().min(1),
  out: z.string().regex(/\.safetensors$/, '--out must end in .safetensors'),
  steps: intString('--steps', 1, 1_000_000).optional(),
  backend: z.enum(['webgpu', 'cpu', 'auto'], { message: '--backend must be webgpu, cpu or auto' }).default('auto'),
  seed: intString('--seed', 0, 2 ** 31 - 1).default(0),
  lr: numString('--lr', 1e-7, 1).optional(),
  batch: intString('--batch', 1, 4096).optional(),
  modalities: z.string().optional(),
  kind: z.enum(['multimodal', 'nearest'], { message: '--kind must be multimodal or nearest' }).default('multimodal'),
  config: z.string().min(1).optional(),
  recipe: z.enum(RECIPE_NAMES, { message: `--recipe must be one of: ${RECIPE_NAMES.join(', ')}` }).optional(),
  members: intString('--members', 1, 16).default(1),
  jobs: intString('--jobs', 1, 16).optional(),
  fresh: z.boolean().default(false),
  json: z.boolean().default(false),
});

export async function trainCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(TrainFlags, raw);
  if (!fs.existsSync(flags.data) || !fs.statSync(flags.data).isDirectory()) throw new CliError(`--data: not a directory: ${flags.data}`);
  // A recipe, then a config file over it (a field by field merge one level deep), then the flags.
  let base: Record<string, unknown> = flags.recipe ? structuredClone(RECIPES[flags.recipe]) : {};
  if (flags.config) {
    if (!fs.existsSync(flags.config)) throw new CliError(`--config: no such file: ${flags.config}`);
    try {
      // Validated whole here so the error names the file and the field; the flags below override it.
      base = mergeConfig(base, readJsonFile(flags.config, asWritten));
    } catch (err) {
      throw new CliError(`--config: ${(err as Error).message}`, 2);
    }
  }
  const baseTrain = (base.train ?? {}) as Record<string, unknown>;
  const config = {
    ...base,
    kind: flags.kind === 'multimodal' && base.kind ? base.kind : flags.kind,
    train: { ...baseTrain, seed: raw.seed === undefined ? (baseTrain.seed ?? flags.seed) : flags.seed, ...(flags.steps ? { steps: flags.steps } : {}), ...(flags.lr ? { lr: flags.lr } : {}), ...(flags.batch ? { batch_size: flags.batch } : {}) },
    ...(flags.modalities ? { modalities: flags.modalities.split(',').map((s) => s.trim()) } : {}),
  };
  if (flags.members > 1 && flags.kind === 'nearest') throw new CliError('--members: an ensemble is of trained networks; the nearest-neighbour table has no training seed', 2);
  // An ensemble (policy/ensemble.ts): the same training from seeds seed, seed+1, …, one checkpoint each.
  const outs = flags.members === 1 ? [flags.out] : Array.from({ length: flags.members }, (_, i) => flags.out.replace(/\.safetensors$/, `-m${i}.safetensors`));
  const jobs: MemberJob[] = outs.map((out, i) => ({ data: flags.data, out, config: { ...config, train: { ...config.train, seed: (config.train.seed as number) + i } }, backend: flags.backend, resume: !flags.fresh }));
  // Members side by side, each in its own process: by default as many as the machine has cores.
  const parallel = Math.min(flags.jobs ?? os.availableParallelism(), jobs.length);
  const started = performance.now();
  let results;
  if (parallel > 1) results = await trainMembers(jobs, parallel, flags.kind, flags.json);
  else {
    results = [];
    for (const [i, job] of jobs.entries()) results.push(await trainHere(job, flags.kind, flags.json, outs.length > 1 ? `member ${i + 1}/${outs.length}` : ''));
  }
  if (flags.json) printJson(outs.length === 1 ? results[0] : { policy: outs.join(','), members: results });
  else if (outs.length > 1) {
    const seconds = results.reduce((a, r) => a + r.seconds, 0);
    const wall = (performance.now() - started) / 1000;
    process.stderr.write(`trained an ensemble of ${outs.length} in ${wall.toFixed(0)} s (${seconds.toFixed(0)} s of training, ${parallel} at a time); run it with --policy ${outs.join(',')}\n`);
  }
}

async function trainHere(job: MemberJob, kind: 'multimodal' | 'nearest', quiet: boolean, member: string) {
  const bar = progressBar(member ? `train ${member}` : 'train');
  const log = (line: string) => {
    if (!quiet) process.stderr.write(line + '\n');
  };
  let result;
  try {
    result = await trainJob(job, { log, onProgress: (p) => bar.update(p.step, p.steps, progressText(p)) });
  } finally {
    bar.stop();
  }
  for (const line of summaryLines(result, kind)) log(line);
  return result;
}

/** Validates a --config file whole, and yields it as written: its parsed form has every default filled in, which would undo a recipe. */
const asWritten = {
  safeParse(v: unknown) {
    const r = PolicyConfig.partial().strict().safeParse(v);
    return r.success ? { success: true as const, data: v as Record<string, unknown> } : r;
  },
};

/** `over` on top of `base`: objects merged one level deep (so {"train": {"steps": 50}} keeps the rest of train), the rest replaced. */
function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    out[k] = v && b && typeof v === 'object' && typeof b === 'object' && !Array.isArray(v) ? { ...(b as object), ...(v as object) } : v;
  }
  return out;
}
