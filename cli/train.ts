// `senseact train --data DIR --out FILE.safetensors [--recipe NAME] [--config FILE] [--steps N] [--backend webgpu|cpu] [--seed S] [--members K]`
import fs from 'node:fs';
import { z } from 'zod';
import { PolicyConfig, RECIPES, RECIPE_NAMES, TrainRefusal, trainPolicy } from '../policy/index.ts';
import { readJsonFile } from '../sensors/index.ts';
import { CliError } from './errors.ts';
import { intString, numString, parseFlags, printJson } from './flags.ts';
import { progressBar } from './progress.ts';
import { simShiftRenderer } from './shifts.ts';

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
  const results = [];
  for (const [i, out] of outs.entries()) {
    const train = { ...(config.train as object), seed: (config.train.seed as number) + i };
    results.push(await trainOne(flags, { ...config, train }, out, outs.length > 1 ? `member ${i + 1}/${outs.length}` : ''));
  }
  if (flags.json) printJson(outs.length === 1 ? results[0] : { policy: outs.join(','), members: results });
  else if (outs.length > 1) {
    const seconds = results.reduce((a, r) => a + r.seconds, 0);
    process.stderr.write(`trained an ensemble of ${outs.length} in ${seconds.toFixed(0)} s; run it with --policy ${outs.join(',')}\n`);
  }
}

async function trainOne(flags: z.infer<typeof TrainFlags>, config: Record<string, unknown>, out: string, member: string) {
  const bar = progressBar(member ? `train ${member}` : 'train');
  const log = (line: string) => {
    if (!flags.json) process.stderr.write(line + '\n');
  };
  let result;
  try {
    result = await trainPolicy({
      data: flags.data,
      out,
      config,
      backend: flags.backend,
      resume: !flags.fresh,
      log,
      renderShifts: simShiftRenderer,
      onProgress: (p) => bar.update(p.step, p.steps, `loss ${p.loss?.toFixed(4) ?? '…'}${p.valLoss !== null ? ` val ${p.valLoss.toFixed(4)}` : ''}`),
    });
  } catch (err) {
    if (err instanceof z.ZodError) throw new CliError(`config: ${err.issues[0].path.join('.')}: ${err.issues[0].message}`, 2);
    if (err instanceof TrainRefusal) throw new CliError(err.message, 2);
    throw err;
  } finally {
    bar.stop();
  }
  if (flags.kind === 'nearest') {
    log(`stored ${result.examples.train} frames for the nearest-neighbour baseline in ${result.seconds.toFixed(1)} s`);
    log(`wrote ${result.checkpoint}, ${result.config}`);
  } else {
    log(`trained ${result.steps} steps on ${result.backend} in ${result.seconds.toFixed(1)} s (${((result.seconds * 1000) / Math.max(1, result.steps - result.resumedFrom)).toFixed(0)} ms/step)`);
    log(`final loss ${result.finalLoss.toFixed(4)}${result.valLoss !== null ? `, validation ${result.valLoss.toFixed(4)}` : ''} (L1 on normalized actions)`);
    if (result.influence) {
      const parts = Object.entries(result.influence).map(([m, v]) => `${m} ${v.toFixed(3)}`);
      log(`modality influence (mean |Δ| of the normalized actions when one is masked): ${parts.join(', ')}`);
    }
    log(`wrote ${result.checkpoint}, ${result.config}, ${result.curve}`);
  }
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
