// `senseact pretrain --task T --out FILE.safetensors [--layouts N] [--per-layout N] [--steps N] [--seed S] [--backend b]`:
// a vision prior for the policy's camera encoder, learned from simulator views of random layouts
// (sim/views.ts, policy/prior.ts). Layout seeds start at 500000, away from demonstrations and
// evaluations. Then `train --config '{"camera_prior": {"path": "FILE.safetensors"}}'`.
import { z } from 'zod';
import { createBackend } from '../kernels/index.ts';
import { defaultConfig, saveVisionPrior, trainVisionPrior } from '../policy/index.ts';
import { resizeRgb } from '../sensors/index.ts';
import { TASK_NAMES, VIEW_SCALE_M, VIEW_TARGETS_PER_LANDMARK, createNodeCamera, landmarkNames, renderViews } from '../sim/index.ts';
import { CliError } from './errors.ts';
import { intString, parseFlags, printJson } from './flags.ts';
import { progressBar } from './progress.ts';

export const PRIOR_SEED_BASE = 500_000;

const PretrainFlags = z.object({
  task: z.enum(TASK_NAMES, { message: `--task must be one of: ${TASK_NAMES.join(', ')}` }),
  out: z.string().regex(/\.safetensors$/, '--out must end in .safetensors'),
  layouts: intString('--layouts', 1, 100_000).default(120),
  perLayout: intString('--per-layout', 1, 10_000).default(40),
  steps: intString('--steps', 1, 1_000_000).default(3000),
  batch: intString('--batch', 1, 4096).default(64),
  seed: intString('--seed', 0, 2 ** 31 - 1).default(0),
  backend: z.enum(['webgpu', 'cpu', 'auto'], { message: '--backend must be webgpu, cpu or auto' }).default('auto'),
  json: z.boolean().default(false),
});

export async function pretrainCommand(raw: Record<string, unknown>): Promise<void> {
  const flags = parseFlags(PretrainFlags, raw);
  const log = (line: string) => {
    if (!flags.json) process.stderr.write(line + '\n');
  };
  // The policy's defaults say the image size and token width the encoder must have.
  const policy = defaultConfig();
  const { width: W, height: H } = policy.image;
  const names = await landmarkNames(flags.task);
  if (names.length === 0) throw new CliError(`--task: ${flags.task} names no landmarks for a vision prior`, 2);
  const count = flags.layouts * flags.perLayout;
  const T = names.length * VIEW_TARGETS_PER_LANDMARK;
  const images = new Uint8Array(count * W * H * 3);
  const targets = new Float32Array(count * T);
  const weights = new Float32Array(count * T);
  const camera = await createNodeCamera();
  const renderBar = progressBar('render');
  const t0 = performance.now();
  let n = 0;
  try {
    for await (const v of renderViews({ task: flags.task, camera, layouts: flags.layouts, perLayout: flags.perLayout, seed: PRIOR_SEED_BASE + flags.seed * flags.layouts })) {
      resizeRgb({ width: v.image.width, height: v.image.height, data: v.image.data as Uint8Array }, W, H, images.subarray(n * W * H * 3, (n + 1) * W * H * 3));
      targets.set(v.targets, n * T);
      weights.set(v.weights, n * T);
      n++;
      renderBar.update(n, count, `${flags.task}`);
    }
  } finally {
    renderBar.stop();
    camera.dispose();
  }
  const renderS = (performance.now() - t0) / 1000;
  log(`rendered ${count} views of ${flags.layouts} ${flags.task} layouts in ${renderS.toFixed(0)} s (landmarks: ${names.join(', ')})`);
  const created = await createBackend({ prefer: flags.backend });
  const bar = progressBar('pretrain');
  try {
    const { tensors, meta } = await trainVisionPrior(
      { images, targets, weights, count, width: W, height: H },
      {
        task: flags.task,
        landmarks: names,
        scaleM: VIEW_SCALE_M,
        perLandmark: VIEW_TARGETS_PER_LANDMARK,
        width: policy.width,
        steps: flags.steps,
        batch: flags.batch,
        lr: policy.train.lr,
        seed: flags.seed,
        colorJitter: policy.augment.color_jitter,
        backend: created.backend,
        onProgress: (step, loss) => bar.update(step, flags.steps, `loss ${loss.toFixed(4)}`),
      },
    );
    bar.stop();
    saveVisionPrior(flags.out, tensors, meta);
    if (flags.json) printJson({ out: flags.out, render_seconds: renderS, ...meta });
    else {
      log(`trained ${meta.steps} steps on ${created.backend.name} in ${meta.seconds.toFixed(0)} s: loss ${meta.final_loss.toFixed(4)}, held-out ${meta.val_loss?.toFixed(4) ?? '—'}`);
      if (meta.val_error_m !== null) log(`held-out landmark error where the camera sees it: ${(meta.val_error_m * 100).toFixed(1)} cm`);
      log(`wrote ${flags.out}; use it with train --config '{"camera_prior": {"path": "${flags.out}"}}'`);
    }
  } finally {
    bar.stop();
    created.dispose();
  }
}
