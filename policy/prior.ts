// A vision prior: the policy's camera encoder, trained before the policy on
// labelled views (sim/views.ts) to say where a task's landmarks stand from
// the hand. `train` with `camera_prior` starts the policy's camera encoder
// from it (frozen by default), so the three demonstrations teach what to do
// with where things are, not where things are.
//
// The encoder is the policy's own class with the policy's own parameter
// names (`enc_camera.…`), so its weights drop into a policy unchanged; a
// linear head on its token reads out the landmark offsets (discarded after).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AdamW, Tensor, nn, noGrad, tidy, type Backend } from '../kernels/index.ts';
import { seededRandom, writeFileAtomic } from '../sensors/index.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './checkpoint.ts';
import { CameraEncoder } from './network.ts';
import { learningRate } from './schedule.ts';

export const PRIOR_FORMAT = 'senseact-vision-prior';
const MAX_PRIOR_BYTES = 64 * 1024 * 1024;

const Stats = z.object({ mean: z.array(z.number()).length(3), std: z.array(z.number().positive()).length(3) });
export const PriorMeta = z.object({
  format: z.literal(PRIOR_FORMAT),
  version: z.literal(1),
  task: z.string(),
  /** The encoder's token width: a policy's `width` must equal it. */
  width: z.number().int().positive(),
  image: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
  /** Pixel statistics of the views (per channel, 0–1): the policy normalizes its images with them. */
  image_stats: Stats,
  landmarks: z.array(z.string()),
  views: z.number().int().positive(),
  steps: z.number().int().positive(),
  seconds: z.number(),
  final_loss: z.number(),
  val_loss: z.number().nullable(),
  /** Mean error (m) of the landmark offsets on held-out views the camera sees them in. */
  val_error_m: z.number().nullable(),
});
export type PriorMeta = z.infer<typeof PriorMeta>;

export interface PriorViews {
  /** N images at the policy's size, RGB8, concatenated. */
  images: Uint8Array;
  targets: Float32Array; // [N, T]
  weights: Float32Array; // [N, T]
  count: number;
  width: number;
  height: number;
}

export interface PriorTrainOptions {
  task: string;
  landmarks: string[];
  /** Metres per target unit (sim/views.ts VIEW_SCALE_M) and targets per landmark, for the reported error. */
  scaleM: number;
  perLandmark: number;
  width: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  colorJitter: number;
  backend: Backend;
  onProgress?: (step: number, loss: number) => void;
}

class PriorNet extends nn.Module {
  readonly encoder: CameraEncoder;
  readonly head: nn.Linear;
  constructor(width: number, targets: number, seed: number, backend: Backend) {
    super(backend);
    this.encoder = this.child('enc_camera', new CameraEncoder(width, seed, backend));
    this.head = this.child('prior_head', new nn.Linear(width, targets, { seed, name: 'prior_head', backend }));
  }
  forward(image: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(image));
  }
}

function imageStats(v: PriorViews): { mean: number[]; std: number[] } {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < v.images.length; i += 3)
    for (let c = 0; c < 3; c++) {
      const x = v.images[i + c] / 255;
      sum[c] += x;
      sq[c] += x * x;
    }
  const n = v.images.length / 3;
  const mean = sum.map((s) => s / n);
  return { mean, std: sq.map((s, c) => Math.max(1e-3, Math.sqrt(Math.max(0, s / n - mean[c] ** 2)))) };
}

/** Fills a batch: normalized pixels with the policy's colour jitter, targets, weights. */
function fill(v: PriorViews, rows: number[], stats: { mean: number[]; std: number[] }, jitter: number, rand: (() => number) | null, img: Float32Array, tgt: Float32Array, wts: Float32Array): void {
  const size = v.width * v.height * 3;
  const T = v.targets.length / v.count;
  rows.forEach((r, b) => {
    const gain = rand ? 1 + (rand() * 2 - 1) * jitter : 1;
    const bias = rand ? (rand() * 2 - 1) * jitter * 0.5 : 0;
    for (let i = 0; i < size; i++) {
      const c = i % 3;
      img[b * size + i] = ((v.images[r * size + i] / 255) * gain + bias - stats.mean[c]) / stats.std[c];
    }
    tgt.set(v.targets.subarray(r * T, (r + 1) * T), b * T);
    wts.set(v.weights.subarray(r * T, (r + 1) * T), b * T);
  });
}

function weightedL1(pred: Tensor, target: Tensor, weight: Tensor): Tensor {
  return pred.sub(target).abs().mul(weight).sum().div(weight.sum().addScalar(1e-6));
}

/** Trains the encoder and its read-out on the views (a tenth held out); returns the weights and metadata. */
export async function trainVisionPrior(views: PriorViews, o: PriorTrainOptions): Promise<{ tensors: Record<string, NamedTensor>; meta: PriorMeta }> {
  const T = views.targets.length / views.count;
  if (views.count < 2) throw new Error(`a vision prior needs at least 2 views, got ${views.count}`);
  const rand = seededRandom(o.seed ^ 0x9a17);
  const all = Array.from({ length: views.count }, (_, i) => i);
  const val = all.filter(() => rand() < 0.1);
  const held = new Set(val);
  const train = all.filter((i) => !held.has(i));
  const stats = imageStats(views);
  const net = new PriorNet(o.width, T, o.seed, o.backend);
  const opt = new AdamW(net.parameters(), { lr: o.lr, weightDecay: 1e-4 });
  const { width: W, height: H } = views;
  const B = Math.min(o.batch, train.length);
  const img = new Float32Array(B * W * H * 3);
  const tgt = new Float32Array(B * T);
  const wts = new Float32Array(B * T);
  const t0 = performance.now();
  let last = NaN;
  try {
    for (let step = 0; step < o.steps; step++) {
      const stepRand = seededRandom(Math.imul(o.seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b));
      const rows = Array.from({ length: B }, () => train[Math.floor(stepRand() * train.length)]);
      fill(views, rows, stats, o.colorJitter, stepRand, img, tgt, wts);
      const lr = learningRate(step, o.steps, o.lr, Math.min(50, Math.floor(o.steps / 10)));
      const loss = tidy(() => {
        const l = weightedL1(net.forward(Tensor.fromArray(img, [B, H, W, 3], o.backend)), Tensor.fromArray(tgt, [B, T], o.backend), Tensor.fromArray(wts, [B, T], o.backend));
        l.backward();
        opt.step(lr);
        return l;
      });
      if (step % 10 === 0 || step === o.steps - 1) {
        last = await loss.item();
        if (!Number.isFinite(last)) throw new Error(`vision prior training diverged at step ${step} (loss ${last}); try a lower lr`);
        o.onProgress?.(step + 1, last);
      } else await o.backend.sync();
      loss.dispose();
    }
    const { loss: valLoss, errorM } = await validate(net, views, val, stats, T, o);
    const tensors: Record<string, NamedTensor> = {};
    for (const [name, t] of net.namedParameters()) tensors[name] = { shape: [...t.shape], data: await t.toArray() };
    const meta = PriorMeta.parse({
      format: PRIOR_FORMAT,
      version: 1,
      task: o.task,
      width: o.width,
      image: { width: W, height: H },
      image_stats: stats,
      landmarks: o.landmarks,
      views: views.count,
      steps: o.steps,
      seconds: (performance.now() - t0) / 1000,
      final_loss: last,
      val_loss: valLoss,
      val_error_m: errorM,
    });
    return { tensors, meta };
  } finally {
    opt.dispose();
    net.dispose();
  }
}

async function validate(net: PriorNet, v: PriorViews, rows: number[], stats: { mean: number[]; std: number[] }, T: number, o: PriorTrainOptions): Promise<{ loss: number | null; errorM: number | null }> {
  if (rows.length === 0) return { loss: null, errorM: null };
  let lossSum = 0;
  let errSum = 0;
  let errCount = 0;
  const B = o.batch;
  for (let i = 0; i < rows.length; i += B) {
    const part = rows.slice(i, i + B);
    const n = part.length;
    const img = new Float32Array(n * v.width * v.height * 3);
    const tgt = new Float32Array(n * T);
    const wts = new Float32Array(n * T);
    fill(v, part, stats, 0, null, img, tgt, wts);
    const pred = noGrad(() => tidy(() => net.forward(Tensor.fromArray(img, [n, v.height, v.width, 3], o.backend))));
    const p = await pred.toArray();
    pred.dispose();
    let l = 0;
    let w = 0;
    for (let k = 0; k < p.length; k++) {
      l += Math.abs(p[k] - tgt[k]) * wts[k];
      w += wts[k];
    }
    lossSum += (l / Math.max(w, 1e-6)) * n;
    // Offsets (the first two of each landmark's targets) where the camera sees the landmark.
    for (let r = 0; r < n; r++)
      for (let m = 0; m + 1 < T; m += o.perLandmark) {
        const at = r * T + m;
        if (wts[at] === 0) continue;
        errSum += Math.hypot(p[at] - tgt[at], p[at + 1] - tgt[at + 1]) * o.scaleM;
        errCount++;
      }
  }
  return { loss: lossSum / rows.length, errorM: errCount ? errSum / errCount : null };
}

export function saveVisionPrior(file: string, tensors: Record<string, NamedTensor>, meta: PriorMeta): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, encodeSafetensors(tensors, { format: PRIOR_FORMAT, meta: JSON.stringify(PriorMeta.parse(meta)) }));
}

/** Reads a prior, refusing anything that is not one, with the reason. */
export function loadVisionPrior(file: string): { encoder: Record<string, NamedTensor>; meta: PriorMeta } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such vision prior`);
  const size = fs.statSync(file).size;
  if (size > MAX_PRIOR_BYTES) throw new Error(`${file}: ${size} bytes exceeds the vision prior size limit (${MAX_PRIOR_BYTES})`);
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
  if (metadata.format !== PRIOR_FORMAT) throw new Error(`${file}: not a vision prior (format ${JSON.stringify(metadata.format ?? null)}, expected ${PRIOR_FORMAT})`);
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.meta ?? '');
  } catch {
    throw new Error(`${file}: its metadata is not JSON`);
  }
  const parsed = PriorMeta.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: metadata ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const encoder: Record<string, NamedTensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (name.startsWith('enc_camera.')) encoder[name] = t;
  if (Object.keys(encoder).length === 0) throw new Error(`${file}: holds no enc_camera.* tensors`);
  return { encoder, meta: parsed.data };
}
