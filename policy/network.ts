// The multimodal policy network: one encoder per modality → one token each
// (plus a learned readout token), modality embeddings, a learned "missing"
// token wherever a modality is masked, a small pre-LN transformer, and a head
// that predicts a chunk of H actions.
import { F, Tensor, keep, nn, type Backend } from '../kernels/index.ts';
import { MODALITIES, type Modality, type PolicyConfig } from './config.ts';
import { ACTION_DIM, type FeatureBatch, type FeatureDims } from './features.ts';

/** Network inputs as device tensors. */
export interface PolicyInputs {
  image: Tensor; // [B, H, W, 3]
  /** The scene camera [B, H, W, 3] and 1 where its frame is missing [B, 1] (policies with config.scene_camera). */
  scene?: Tensor;
  sceneMissing?: Tensor;
  tactile: Tensor; // [B, T]
  smell: Tensor; // [B, S]
  proprio: Tensor; // [B, P]
  mask: Tensor; // [B, 4], 1 = masked
}

class Mlp extends nn.Module {
  readonly l1: nn.Linear;
  readonly l2: nn.Linear;
  constructor(inDim: number, hidden: number, outDim: number, seed: number, name: string, backend: Backend) {
    super(backend);
    this.l1 = this.child('l1', new nn.Linear(inDim, hidden, { seed, name: `${name}.l1`, backend }));
    this.l2 = this.child('l2', new nn.Linear(hidden, outDim, { seed, name: `${name}.l2`, backend }));
  }
  forward(x: Tensor): Tensor {
    return this.l2.forward(this.l1.forward(x, 'gelu'));
  }
}

/**
 * Small CNN with a spatial-softmax readout (expected keypoint x, y per
 * channel) plus average pooling: few parameters, robust to shifts, the usual
 * choice for visuomotor policies trained on little data.
 */
export class CameraEncoder extends nn.Module {
  readonly c1: nn.Conv2d;
  readonly c2: nn.Conv2d;
  readonly norm: nn.GroupNorm;
  readonly c3: nn.Conv2d;
  readonly proj: nn.Linear;
  private coords: Tensor | null = null;
  constructor(width: number, seed: number, backend: Backend, name = 'cam') {
    super(backend);
    // A 4×4 stride-4 patch stem (as in ConvNeXt/ViT) instead of a 5×5 stride-2
    // conv: 4× fewer positions at full resolution, which is most of the cost
    // of a training step on a CPU driver, for little loss at 64×64.
    this.c1 = this.child('c1', new nn.Conv2d(3, 16, 4, { stride: 4, pad: 0, seed, name: `${name}.c1`, backend }));
    this.c2 = this.child('c2', new nn.Conv2d(16, 32, 3, { stride: 2, pad: 1, seed, name: `${name}.c2`, backend }));
    this.norm = this.child('norm', new nn.GroupNorm(4, 32, 1e-5, backend));
    this.c3 = this.child('c3', new nn.Conv2d(32, 32, 3, { stride: 1, pad: 1, seed, name: `${name}.c3`, backend }));
    this.proj = this.child('proj', new nn.Linear(32 * 3, width, { seed, name: `${name}.proj`, backend }));
  }
  forward(image: Tensor): Tensor {
    const B = image.shape[0];
    const h1 = this.c1.forward(image, 'relu');
    const h2 = this.norm.forward(this.c2.forward(h1)).relu();
    const h3 = this.c3.forward(h2, 'relu'); // [B, h, w, 32]
    const [, h, w, C] = h3.shape;
    const flat = h3.reshape([B, h * w, C]).transpose(1, 2); // [B, C, hw]
    const attention = F.softmax(flat, -1);
    const keypoints = attention.matmul(this.grid(h, w)).reshape([B, 2 * C]); // [B, C, 2] → [B, 2C]
    const pooled = flat.mean(-1); // [B, C]
    return this.proj.forward(Tensor.concat([keypoints, pooled], 1));
  }
  /** Pixel-centre coordinates in [−1, 1], [hw, 2]; made once per size. */
  private grid(h: number, w: number): Tensor {
    if (!this.coords || this.coords.shape[0] !== h * w) {
      this.coords?.dispose();
      const data = new Float32Array(h * w * 2);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          data[(y * w + x) * 2] = ((x + 0.5) / w) * 2 - 1;
          data[(y * w + x) * 2 + 1] = ((y + 0.5) / h) * 2 - 1;
        }
      // A constant owned by the module, outside every tidy scope.
      this.coords = keep(Tensor.fromArray(data, [h * w, 2], this.backend));
    }
    return this.coords;
  }
  override dispose(): void {
    super.dispose();
    this.coords?.dispose();
  }
}

class TransformerLayer extends nn.Module {
  readonly ln1: nn.LayerNorm;
  readonly attn: nn.MultiHeadAttention;
  readonly ln2: nn.LayerNorm;
  readonly ff: Mlp;
  constructor(width: number, heads: number, ffn: number, seed: number, name: string, backend: Backend) {
    super(backend);
    this.ln1 = this.child('ln1', new nn.LayerNorm(width, 1e-5, backend));
    this.attn = this.child('attn', new nn.MultiHeadAttention(width, heads, { seed, name: `${name}.attn`, backend }));
    this.ln2 = this.child('ln2', new nn.LayerNorm(width, 1e-5, backend));
    this.ff = this.child('ff', new Mlp(width, ffn, width, seed, `${name}.ff`, backend));
  }
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.ln1.forward(x)));
    return h.add(this.ff.forward(this.ln2.forward(h)));
  }
}

export class MultimodalPolicy extends nn.Module {
  readonly encoders = new Map<Modality, nn.Module & { forward(x: Tensor): Tensor }>();
  /** The fixed scene camera's encoder: a second token of the camera modality (config.scene_camera). */
  readonly sceneEncoder: CameraEncoder | null = null;
  readonly modalityEmbed: Tensor; // [M + 1, D]: one per modality token, then the readout token
  readonly missing: Tensor; // [M, D]
  readonly layers: TransformerLayer[] = [];
  readonly lnOut: nn.LayerNorm;
  readonly head: nn.Linear;

  constructor(
    readonly config: PolicyConfig,
    readonly dims: FeatureDims,
    backend: Backend,
  ) {
    super(backend);
    const D = config.width;
    const seed = config.train.seed;
    const inputSize: Record<Modality, number> = { camera: 0, tactile: dims.tactile, smell: dims.smell, proprio: dims.proprio };
    for (const m of config.modalities) {
      if (m !== 'camera' && inputSize[m] === 0) continue; // the dataset has no such stream
      const enc = m === 'camera' ? new CameraEncoder(D, seed, backend) : new Mlp(inputSize[m], 64, D, seed, `enc.${m}`, backend);
      this.encoders.set(m, this.child(`enc_${m}`, enc));
    }
    if (config.scene_camera && this.encoders.has('camera')) this.sceneEncoder = this.child('enc_scene', new CameraEncoder(D, seed, backend, 'scene'));
    const M = this.encoders.size + (this.sceneEncoder ? 1 : 0);
    this.modalityEmbed = this.param('modality_embed', nn.kaimingUniform([M + 1, D], D, nn.seedFor(seed, 'modality_embed'), backend, 0.1));
    this.missing = this.param('missing', nn.kaimingUniform([Math.max(M, 1), D], D, nn.seedFor(seed, 'missing'), backend, 0.1));
    for (let l = 0; l < config.layers; l++) this.layers.push(this.child(`layer${l}`, new TransformerLayer(D, config.heads, config.ffn, seed, `layer${l}`, backend)));
    this.lnOut = this.child('ln_out', new nn.LayerNorm(D, 1e-5, backend));
    const K = config.hypotheses;
    this.head = this.child('head', new nn.Linear(D, K * config.chunk * ACTION_DIM + (K > 1 ? K : 0), { seed, name: 'head', backend }));
  }

  /** Normalized action chunk [B, chunk, 7]; with several hypotheses, their mean (influence reads it). */
  forward(x: PolicyInputs): Tensor {
    const { chunks } = this.forwardAll(x);
    return this.config.hypotheses === 1 ? chunks.reshape([chunks.shape[0], this.config.chunk, ACTION_DIM]) : chunks.mean(1);
  }

  /** Every hypothesis [B, K, chunk, 7] and their scores [B, K] (null for one). */
  forwardAll(x: PolicyInputs): { chunks: Tensor; logits: Tensor | null } {
    const out = this.forwardHead(x);
    const B = out.shape[0];
    const K = this.config.hypotheses;
    const C = this.config.chunk * ACTION_DIM;
    if (K === 1) return { chunks: out.reshape([B, 1, this.config.chunk, ACTION_DIM]), logits: null };
    return { chunks: out.slice(1, 0, K * C).reshape([B, K, this.config.chunk, ACTION_DIM]), logits: out.slice(1, K * C, K * C + K) };
  }

  /** The head's output [B, K·chunk·7 (+ K scores when K > 1)]: what the runner reads back, in one piece. */
  forwardHead(x: PolicyInputs): Tensor {
    const B = x.mask.shape[0];
    const D = this.config.width;
    const tokens: Tensor[] = [];
    let i = 0;
    // Masked → the learned "missing" token, so absence is information, not zeros.
    const push = (feature: Tensor, maskCol: Tensor) => {
      const token = Tensor.where(maskCol, this.missing.slice(0, i, i + 1), feature).add(this.modalityEmbed.slice(0, i, i + 1));
      tokens.push(token.reshape([B, 1, D]));
      i++;
    };
    for (const [m, enc] of this.encoders) {
      const input = { camera: x.image, tactile: x.tactile, smell: x.smell, proprio: x.proprio }[m];
      const maskCol = x.mask.slice(1, MODALITIES.indexOf(m), MODALITIES.indexOf(m) + 1); // [B, 1]
      push(enc.forward(input), maskCol);
      if (m === 'camera' && this.sceneEncoder) {
        if (!x.scene || !x.sceneMissing) throw new Error('this policy reads a scene camera: its inputs need scene and sceneMissing');
        push(this.sceneEncoder.forward(x.scene), maskCol.add(x.sceneMissing));
      }
    }
    tokens.push(this.modalityEmbed.slice(0, i, i + 1).reshape([1, 1, D]).expand([B, 1, D]));
    let h = Tensor.concat(tokens, 1); // [B, M + 1, D]
    for (const layer of this.layers) h = layer.forward(h);
    const readout = this.lnOut.forward(h.slice(1, i, i + 1).reshape([B, D]));
    return this.head.forward(readout);
  }
}

/** A feature batch as device tensors, in the shapes the network reads. */
export function toInputs(batch: FeatureBatch, config: PolicyConfig, dims: FeatureDims, backend: Backend): PolicyInputs {
  const B = batch.size;
  const scene = config.scene_camera
    ? { scene: Tensor.fromArray(batch.scene, [B, config.image.height, config.image.width, 3], backend), sceneMissing: Tensor.fromArray(batch.sceneMissing, [B, 1], backend) }
    : {};
  return {
    ...scene,
    image: Tensor.fromArray(batch.image, [B, config.image.height, config.image.width, 3], backend),
    tactile: Tensor.fromArray(batch.tactile, [B, dims.tactile], backend),
    smell: Tensor.fromArray(batch.smell, [B, dims.smell], backend),
    proprio: Tensor.fromArray(batch.proprio, [B, dims.proprio], backend),
    mask: Tensor.fromArray(batch.mask, [B, 4], backend),
  };
}

/** Softness of the winner-take-all (normalized L1 units) and the share every hypothesis keeps (so none starves). */
const WTA_TEMPERATURE = 0.02;
const WTA_FLOOR = 0.05;
/** Weight of the score's cross-entropy beside the chunk's L1. */
const SCORE_WEIGHT = 0.1;

/**
 * The training loss: L1 of the chunk, or with several hypotheses (multiple-choice learning,
 * relaxed winner-take-all) the L1 of each weighted by how near it came to the label, plus the
 * scores' cross-entropy against those weights.
 */
export function policyLoss(model: MultimodalPolicy, inputs: PolicyInputs, target: Tensor, valid: Tensor): Tensor {
  if (model.config.hypotheses === 1) return chunkL1(model.forward(inputs), target, valid);
  const { chunks, logits } = model.forwardAll(inputs);
  return hypothesesLoss(chunks, logits!, target, valid);
}

/** chunks [B, K, H, 7], logits [B, K], target [B, H, 7], valid [B, H]. */
export function hypothesesLoss(chunks: Tensor, logits: Tensor, target: Tensor, valid: Tensor): Tensor {
  const [B, K, H] = chunks.shape;
  const w = valid.reshape([B, 1, H, 1]);
  const errK = chunks.sub(target.reshape([B, 1, H, ACTION_DIM]).expand([B, K, H, ACTION_DIM])).abs().mul(w).sum([2, 3]); // [B, K]
  const perRow = valid.sum(1, true).mulScalar(ACTION_DIM).addScalar(1e-6); // [B, 1]
  const e = errK.detach().div(perRow);
  const best = e.neg().max(1, true).neg();
  const soft = e.sub(best).mulScalar(-1 / WTA_TEMPERATURE).exp();
  const weights = soft.div(soft.sum(1, true)).mulScalar(1 - WTA_FLOOR).addScalar(WTA_FLOOR / K).detach();
  const l1 = errK.mul(weights).sum().div(valid.sum().mulScalar(ACTION_DIM).addScalar(1e-6));
  const top = logits.detach().max(1, true);
  const logp = logits.sub(top).sub(logits.sub(top).exp().sum(1, true).log());
  const ce = logp.mul(weights).sum().mulScalar(-1 / B);
  return l1.add(ce.mulScalar(SCORE_WEIGHT));
}

/** L1 over valid chunk steps (ACT's loss), normalized by the number of valid targets. */
export function chunkL1(pred: Tensor, target: Tensor, valid: Tensor): Tensor {
  const w = valid.reshape([...valid.shape, 1]);
  const err = pred.sub(target).abs().mul(w).sum();
  return err.div(valid.sum().mulScalar(ACTION_DIM).addScalar(1e-6));
}
