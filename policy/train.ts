// Training the multimodal policy on a dataset directory: statistics,
// examples, a held-out split, AdamW with warm-up + cosine, augmentation and
// modality dropout, resumable and deterministic for a seed. Output: the
// checkpoint, its JSON config and a loss-curve SVG, each written atomically.
import fs from 'node:fs';
import path from 'node:path';
import { AdamW, Tensor, WebGpuBackend, createBackend, noGrad, tidy, type Backend } from '../kernels/index.ts';
import { Dataset, seededRandom, writeFileAtomic, type Example, type Layout } from '../sensors/index.ts';
import { CHECKPOINT_VERSION, decodeSafetensors, encodeSafetensors, metaPath, saveCheckpoint, type CheckpointMeta, type NamedTensor } from './checkpoint.ts';
import { PolicyConfig } from './config.ts';
import { actionSpread, allocFeatureBatch, encodeExample, featureDims, makeNormalizer, type FeatureDims, type Normalizer } from './features.ts';
import { lossCurveSvg, type CurvePoint } from './lossCurve.ts';
import { MultimodalPolicy, policyLoss, toInputs } from './network.ts';
import { modalityInfluence } from './influence.ts';
import { learningRate } from './schedule.ts';
import { fitNearest } from './nearest.ts';
import { attachContext } from './context.ts';
import { relabelWaypoints } from './waypoints.ts';
import { loadVisionPrior } from './prior.ts';
import { attachShifts, type ShiftRenderer } from './shifts.ts';
import { TrainRefusal } from './refusal.ts';

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number | null;
  valLoss: number | null;
  lr: number;
}

export interface TrainOptions {
  data: string;
  out: string;
  /** Overrides of the default PolicyConfig (validated). */
  config?: unknown;
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Continue from FILE.train-state if present (default true). */
  resume?: boolean;
  onProgress?: (p: TrainProgress) => void;
  log?: (line: string) => void;
  /** Renders shifted views of dataset frames (augment.rendered_shift); the CLI passes the simulator's. */
  renderShifts?: ShiftRenderer;
}

export interface TrainResult {
  checkpoint: string;
  config: string;
  curve: string;
  steps: number;
  seconds: number;
  backend: string;
  finalLoss: number;
  valLoss: number | null;
  examples: { train: number; val: number };
  resumedFrom: number;
  /** Per modality, how much the outputs change when it is masked (policy/influence.ts); absent for the nearest-neighbour baseline. */
  influence?: Record<string, number>;
}

const LOSS_EVERY = 10;

/** Mixes the seed and the step so any step's batch can be replayed (resume = same run). */
function stepRandom(seed: number, step: number): () => number {
  return seededRandom(Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b));
}

export function splitExamples(examples: Example[], fraction: number, seed: number): { train: Example[]; val: Example[] } {
  // Frames, not episodes, are held out: with three demos an episode split
  // would train on two. Validation loss then measures fit, not generalization;
  // generalization is what `senseact eval` measures on unseen seeds.
  const rand = seededRandom(seed ^ 0x5eed);
  const val: Example[] = [];
  const train: Example[] = [];
  for (const ex of examples) (rand() < fraction ? val : train).push(ex);
  if (train.length === 0) return { train: examples, val: [] };
  return { train, val };
}

async function validationLoss(model: MultimodalPolicy, val: Example[], config: PolicyConfig, norm: Normalizer, dims: FeatureDims, backend: Backend): Promise<number | null> {
  if (val.length === 0) return null;
  let total = 0;
  let count = 0;
  const B = config.train.batch_size;
  for (let i = 0; i < val.length; i += B) {
    const chunk = val.slice(i, i + B);
    const batch = allocFeatureBatch(chunk.length, config, dims);
    chunk.forEach((ex, b) => encodeExample(ex, b, batch, config, norm, dims, null));
    const loss = noGrad(() =>
      tidy(() => {
        const inputs = toInputs(batch, config, dims, backend);
        const target = Tensor.fromArray(batch.actions, [chunk.length, config.chunk, 7], backend);
        const valid = Tensor.fromArray(batch.actionValid, [chunk.length, config.chunk], backend);
        return policyLoss(model, inputs, target, valid);
      }),
    );
    total += (await loss.item()) * chunk.length;
    count += chunk.length;
    loss.dispose();
  }
  return total / count;
}

function stateFile(out: string): string {
  return out.replace(/\.safetensors$/, '') + '.train-state';
}

async function saveState(file: string, named: [string, Tensor][], opt: AdamW, step: number, curve: CurvePoint[], val: CurvePoint[], configJson: string): Promise<void> {
  const tensors: Record<string, NamedTensor> = {};
  const { m, v } = opt.moments();
  for (let i = 0; i < named.length; i++) {
    const [name, t] = named[i];
    tensors[`param/${name}`] = { shape: [...t.shape], data: await t.toArray() };
    tensors[`m/${name}`] = { shape: [...t.shape], data: await m[i].toArray() };
    tensors[`v/${name}`] = { shape: [...t.shape], data: await v[i].toArray() };
  }
  writeFileAtomic(file, encodeSafetensors(tensors, { step: String(step), config: configJson, curve: JSON.stringify(curve), val: JSON.stringify(val) }));
}

export async function trainPolicy(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const config = PolicyConfig.parse(options.config ?? {});
  if (config.augment.rendered_shift) {
    if (config.action.kind !== 'waypoint') throw new TrainRefusal('augment.rendered_shift moves waypoint labels: it needs action.kind "waypoint"');
    // The scene camera sees the hand: a moved wrist view beside a scene view of the hand where it was would contradict itself.
    if (config.scene_camera) throw new TrainRefusal('augment.rendered_shift re-renders the wrist camera only, and the scene camera would still show the hand where it was recorded: use one or the other');
    if (!options.renderShifts) throw new TrainRefusal('augment.rendered_shift needs a renderer of the scenes the dataset was recorded in (`senseact train` passes the simulator\'s)');
  }
  if (config.augment.touch_overload && (config.action.kind !== 'waypoint' || config.action.gripper !== 'delta'))
    throw new TrainRefusal('augment.touch_overload reads "holding the grip" off delta gripper labels: it needs action.kind "waypoint" and action.gripper "delta"');
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const dataset = await Dataset.open(options.data);
  if (dataset.size === 0) throw new TrainRefusal(`${options.data}: no finalized episode logs (*.mcap) to train on`);

  let stats;
  try {
    stats = Dataset.loadStats(options.data);
  } catch {
    stats = await dataset.computeStats();
    dataset.saveStats(stats);
  }
  const { layout, examples } = await dataset.examples({
    rate_hz: config.rate_hz,
    horizon: config.chunk - 1,
    image: config.image,
    smell_history: config.smell_history,
    scene_camera: config.scene_camera,
  });
  if (examples.length === 0) throw new TrainRefusal(`${options.data}: the episodes yield no frames at ${config.rate_hz} Hz`);
  const dims = featureDims(layout, config);
  attachContext(examples, config, layout);
  if (config.augment.view_shift > 0 && config.action.kind !== 'waypoint') throw new TrainRefusal('augment.view_shift moves waypoint labels: it needs action.kind "waypoint"');
  if (config.augment.view_shift > 0 && !layout.focal) throw new TrainRefusal(`${options.data}: augment.view_shift needs the camera's intrinsics (focal length), and ${layout.camera ?? 'no camera stream'} has none`);
  if (config.action.kind === 'waypoint') relabelWaypoints(examples, config.action, config.chunk, config.rate_hz);
  const info = await dataset.info();
  if (config.augment.rendered_shift) {
    const t = performance.now();
    const n = await attachShifts(examples, info.episodes, layout.proprio.names, config, options.renderShifts!);
    log(`rendered ${n} shifted views (${config.augment.rendered_shift.frames}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const norm = makeNormalizer(stats, layout, examples);
  if (config.action.kind === 'waypoint') norm.action = actionSpread(examples);
  const seeds = info.episodes.map((e) => e.seed).filter((s): s is number => typeof s === 'number');
  if (config.kind === 'nearest') return saveNearest(options, config, examples, norm, dims, layout, dataset.size, seeds);
  const { train, val } = splitExamples(examples, config.train.val_fraction, config.train.seed);
  log(`dataset: ${dataset.size} episodes, ${examples.length} frames at ${config.rate_hz} Hz (${train.length} train, ${val.length} validation)`);

  const created = await createBackend({ prefer: options.backend ?? 'auto' });
  const backend = created.backend;
  log(`backend: ${backend.name} — ${created.reason}`);
  const model = new MultimodalPolicy(config, dims, backend);
  if (config.camera_prior) applyPrior(model, config, norm, log);
  // Frozen parameters take no gradient (so no backward through a frozen encoder) and no update.
  const trainable = model.namedParameters().filter(([, t]) => t.requiresGrad);
  const opt = new AdamW(trainable.map(([, t]) => t), { lr: config.train.lr, weightDecay: config.train.weight_decay, clipNorm: config.train.clip_norm });
  log(`model: ${model.parameterCount().toLocaleString('en')} parameters, modalities ${[...model.encoders.keys()].join('+')}`);

  const configJson = JSON.stringify(config);
  const statePath = stateFile(options.out);
  let start = 0;
  let curve: CurvePoint[] = [];
  let valCurve: CurvePoint[] = [];
  if (options.resume !== false && fs.existsSync(statePath)) {
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(statePath), statePath);
    if (metadata.config === configJson) {
      const { m, v } = opt.moments();
      trainable.forEach(([name, t], i) => {
        for (const [prefix, target] of [['param', t], ['m', m[i]], ['v', v[i]]] as const) {
          const entry = tensors[`${prefix}/${name}`];
          if (!entry) throw new Error(`${statePath}: missing ${prefix}/${name}`);
          target.backend.write(target.storage, entry.data);
        }
      });
      start = Number(metadata.step);
      opt.stepCount = start;
      curve = JSON.parse(metadata.curve ?? '[]');
      valCurve = JSON.parse(metadata.val ?? '[]');
      log(`resuming from step ${start} (${path.basename(statePath)})`);
    } else {
      log(`ignoring ${path.basename(statePath)}: it was made with a different config`);
    }
  }

  const B = Math.min(config.train.batch_size, train.length);
  const batch = allocFeatureBatch(B, config, dims);
  /** The loss of the batch as encoded now (inside a tidy). */
  const batchLoss = () => {
    const inputs = toInputs(batch, config, dims, backend);
    const target = Tensor.fromArray(batch.actions, [B, config.chunk, 7], backend);
    const valid = Tensor.fromArray(batch.actionValid, [B, config.chunk], backend);
    return policyLoss(model, inputs, target, valid);
  };
  if (backend instanceof WebGpuBackend && backend.tuner.mode === 'tune') {
    // Tune every kernel shape this run will use (a step, validation, the
    // influence pass) before the first step: a run that tunes then trains
    // with the same kernels, so the same checkpoint, as a later run that
    // finds the choices cached. Randomness is per step, so this draws none.
    const t = performance.now();
    const rand = stepRandom(config.train.seed, -1);
    for (let b = 0; b < B; b++) encodeExample(train[b % train.length], b, batch, config, norm, dims, { rand, config: config.augment, focal: layout.focal });
    tidy(() => batchLoss().backward());
    opt.zeroGrad();
    await validationLoss(model, val, config, norm, dims, backend);
    await modalityInfluence(model, val.length ? val : train, config, norm, dims, backend);
    await backend.sync();
    const tuned = backend.tuner.reports.length;
    log(tuned ? `tuned the kernels of ${tuned} shapes in ${((performance.now() - t) / 1000).toFixed(1)} s (cached for later runs)` : 'kernels: every shape\'s choice was cached');
  }
  const t0 = performance.now();
  let lastLoss = curve.at(-1)?.loss ?? NaN;
  let lastVal: number | null = valCurve.at(-1)?.loss ?? null;
  const total = config.train.steps;
  let pendingLoss: { step: number; read: () => Promise<Float32Array> } | null = null;
  const takeLoss = async () => {
    if (!pendingLoss) return;
    const { step, read } = pendingLoss;
    pendingLoss = null;
    lastLoss = (await read())[0];
    if (!Number.isFinite(lastLoss)) throw new Error(`training diverged at step ${step} (loss ${lastLoss}); try a lower --lr`);
    curve.push({ step, loss: lastLoss });
  };
  try {
    for (let step = start; step < total; step++) {
      const rand = stepRandom(config.train.seed, step);
      for (let b = 0; b < B; b++) encodeExample(train[Math.floor(rand() * train.length)], b, batch, config, norm, dims, { rand, config: config.augment, focal: layout.focal });
      const lr = learningRate(step, total, config.train.lr, config.train.warmup_steps);
      const loss = tidy(() => {
        const l = batchLoss();
        l.backward();
        opt.step(lr);
        return l;
      });
      const lossRead = step % LOSS_EVERY === 0 || step === total - 1 ? backend.readLater(loss) : null;
      loss.dispose();
      // One await per step keeps Dawn's queue drained. settle() submits this
      // step and waits for the previous one only, so the device runs this
      // step while the host records the next; a loss is fetched a step late,
      // once its own step has finished, so reading it never drains the queue.
      if (step === total - 1) await backend.sync();
      else await backend.settle();
      await takeLoss();
      if (lossRead) pendingLoss = { step, read: lossRead };
      if (step === start) await takeLoss(); // the first update already shows a loss
      if ((step + 1) % config.train.val_every === 0 || step === total - 1) {
        lastVal = await validationLoss(model, val, config, norm, dims, backend);
        await takeLoss(); // the curve is saved whole: this step's loss too
        if (lastVal !== null) valCurve.push({ step, loss: lastVal });
        await saveState(statePath, trainable, opt, step + 1, curve, valCurve, configJson);
      }
      options.onProgress?.({ step: step + 1, steps: total, loss: lastLoss, valLoss: lastVal, lr });
    }
    const seconds = (performance.now() - t0) / 1000;
    const weights: Record<string, NamedTensor> = {};
    for (const [name, t] of model.namedParameters()) weights[name] = { shape: [...t.shape], data: await t.toArray() };
    // Measured on the held-out frames (the training frames when there are none).
    const influence = await modalityInfluence(model, val.length ? val : train, config, norm, dims, backend);
    const meta = checkpointMeta(config, dims, norm, layout, {
      dataset: path.resolve(options.data),
      episodes: dataset.size,
      examples: examples.length,
      steps: total,
      seconds,
      backend: backend.name,
      final_loss: lastLoss,
      val_loss: lastVal,
      seeds,
      influence,
    });
    saveCheckpoint(options.out, weights, meta);
    const curveFile = options.out.replace(/\.safetensors$/, '') + '.loss.svg';
    writeFileAtomic(curveFile, lossCurveSvg(curve, valCurve, `training loss (L1, normalized) — ${path.basename(options.out)}`));
    fs.rmSync(statePath, { force: true });
    return result(options.out, curveFile, meta, { train: train.length, val: val.length }, start);
  } finally {
    opt.dispose();
    model.dispose();
    created.dispose();
  }
}



/**
 * Starts the camera encoder from a vision prior: its weights, and its pixel statistics for the
 * policy's images (the encoder was trained on pixels normalized so). Frozen unless told otherwise.
 */
function applyPrior(model: MultimodalPolicy, config: PolicyConfig, norm: Normalizer, log: (line: string) => void): void {
  const prior = config.camera_prior!;
  const { encoder, meta } = loadVisionPrior(prior.path);
  const camera = model.encoders.get('camera');
  if (!camera) throw new TrainRefusal(`camera_prior: ${prior.path} is a camera encoder, and this policy has no camera`);
  if (meta.width !== config.width) throw new Error(`camera_prior: ${prior.path} has width ${meta.width}, the policy's width is ${config.width}`);
  if (meta.image.width !== config.image.width || meta.image.height !== config.image.height)
    throw new Error(`camera_prior: ${prior.path} was trained on ${meta.image.width}×${meta.image.height} images, the policy reads ${config.image.width}×${config.image.height}`);
  camera.loadStateDict(Object.fromEntries(Object.entries(encoder).map(([k, v]) => [k.slice('enc_camera.'.length), v])));
  norm.image = meta.image_stats;
  if (prior.freeze) for (const t of camera.parameters()) t.requiresGrad = false;
  log(`camera encoder: from ${path.basename(prior.path)} (${meta.task}, ${meta.views} views, landmark error ${meta.val_error_m === null ? '—' : `${(meta.val_error_m * 100).toFixed(1)} cm`})${prior.freeze ? ', frozen' : ''}`);
}

async function saveNearest(options: TrainOptions, config: PolicyConfig, examples: Example[], norm: Normalizer, dims: FeatureDims, layout: Layout, episodes: number, seeds: number[]): Promise<TrainResult> {
  const t0 = performance.now();
  const table = fitNearest(examples, config, norm, dims);
  const N = examples.length;
  const meta = checkpointMeta(config, dims, norm, layout, { dataset: path.resolve(options.data), episodes, examples: N, steps: 0, seconds: (performance.now() - t0) / 1000, backend: 'cpu', final_loss: 0, val_loss: null, seeds });
  saveCheckpoint(
    options.out,
    { features: { shape: [N, table.features.length / N], data: table.features }, actions: { shape: [N, table.actions.length / N], data: table.actions } },
    meta,
  );
  options.log?.(`nearest-neighbour baseline: ${N} frames stored, k = ${config.neighbours}`);
  return result(options.out, '', meta, { train: N, val: 0 }, 0);
}

function checkpointMeta(config: PolicyConfig, dims: FeatureDims, normalizer: Normalizer, layout: Layout, training: NonNullable<CheckpointMeta['training']>): CheckpointMeta {
  return { format: 'senseact-policy', version: CHECKPOINT_VERSION, config, dims, normalizer, layout, training };
}

function result(out: string, curve: string, meta: CheckpointMeta, examples: TrainResult['examples'], resumedFrom: number): TrainResult {
  const t = meta.training!;
  return {
    checkpoint: out,
    config: metaPath(out),
    curve,
    steps: t.steps,
    seconds: t.seconds,
    backend: t.backend,
    finalLoss: t.final_loss,
    valLoss: t.val_loss,
    examples,
    resumedFrom,
    ...(t.influence ? { influence: t.influence } : {}),
  };
}
