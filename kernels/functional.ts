// Composite ops built from the primitives; their gradients come for free.
import type { Activation, ConvGeometry, NormGeometry } from './backend.ts';
import { isGradEnabled } from './autograd.ts';
import { Tensor } from './tensor.ts';

export function softmax(x: Tensor, axis = -1): Tensor {
  const shifted = x.sub(x.max(axis, true).detach());
  const e = shifted.exp();
  return e.div(e.sum(axis, true));
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = x.sub(x.max(axis, true).detach());
  return shifted.sub(shifted.exp().sum(axis, true).log());
}

/** Mean cross-entropy of logits [N, C] against target probabilities (one-hot) [N, C]. */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return logSoftmax(logits, -1).mul(targets).sum(-1).mean().neg();
}

export function oneHot(classes: readonly number[], numClasses: number, backend = undefined as Tensor['backend'] | undefined): Tensor {
  const data = new Float32Array(classes.length * numClasses);
  classes.forEach((c, i) => (data[i * numClasses + c] = 1));
  return Tensor.fromArray(data, [classes.length, numClasses], backend);
}

export function l1Loss(pred: Tensor, target: Tensor): Tensor {
  return pred.sub(target).abs().mean();
}

export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  return pred.sub(target).square().mean();
}

/**
 * (x − mean)·rstd over each group of x (see NormGeometry) as one backend
 * primitive, forward and backward: the composite form (two means, a
 * subtraction, a square, a square root, a division) was about ten dispatches
 * forward and twenty backward per norm (a [160, 64] layer norm with its scale
 * and shift: 11 → 3 forward, 30 → 14 backward), about a quarter of the
 * policy's training step.
 */
function normalizeGroups(x: Tensor, geo: NormGeometry, eps: number): Tensor {
  const be = x.backend;
  const xc = x.contiguous();
  const y = Tensor.empty(x.shape, be);
  const rstd = Tensor.empty([geo.a * geo.g], be);
  be.normalize(y.storage, rstd.storage, xc, geo, eps);
  if (xc !== x) xc.dispose();
  return Tensor.record(y, [x], (grad) => {
    const dx = Tensor.empty(x.shape, be);
    const gd = grad.contiguous();
    be.normalizeBackward(dx.storage, gd, y, rstd.storage, geo);
    if (gd !== grad) gd.dispose();
    return [dx];
  });
}

/** Normalizes over the last axis, then scales and shifts per feature. */
export function layerNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps = 1e-5): Tensor {
  const c = x.shape[x.rank - 1];
  let y = normalizeGroups(x, { a: x.size / c, b: 1, g: 1, k: c }, eps);
  if (gamma) y = y.mul(gamma);
  if (beta) y = y.add(beta);
  return y;
}

/** Group norm over NHWC input: statistics per (sample, group) across H, W and the group's channels. */
export function groupNorm(x: Tensor, groups: number, gamma: Tensor | null, beta: Tensor | null, eps = 1e-5): Tensor {
  const [n, h, w, c] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  let y = normalizeGroups(x, { a: n, b: h * w, g: groups, k: c / groups }, eps);
  if (gamma) y = y.mul(gamma);
  if (beta) y = y.add(beta);
  return y;
}

export function convGeometry(input: readonly number[], kernel: readonly number[], stride: number, pad: number): ConvGeometry {
  const [n, h, w, c] = input;
  const [kh, kw, ci] = kernel;
  if (ci !== c) throw new Error(`conv2d: input has ${c} channels, kernel expects ${ci}`);
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  if (oh <= 0 || ow <= 0) throw new Error(`conv2d: kernel ${kh}×${kw} does not fit input ${h}×${w} with pad ${pad}`);
  return { n, h, w, c, kh, kw, stride, pad, oh, ow };
}

/** Patches of NHWC input as rows: [N·OH·OW, KH·KW·C]. Its gradient is col2im. */
export function im2col(x: Tensor, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n * g.oh * g.ow, g.kh * g.kw * g.c], x.backend);
  x.backend.im2col(out.storage, x, g);
  return Tensor.record(out, [x], (grad) => [col2im(grad, g)]);
}

export function col2im(cols: Tensor, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.h, g.w, g.c], cols.backend);
  cols.backend.col2im(out.storage, cols.contiguous(), g);
  return Tensor.record(out, [cols], (grad) => [im2col(grad, g)]);
}

/**
 * 2-D convolution, NHWC input, weight [KH, KW, C_in, C_out], with a fused
 * bias + activation epilogue. One backend primitive per pass (forward, input
 * gradient, weight gradient); the backend runs each as im2col + matmul or as
 * an implicit GEMM that reads the input directly, whichever its tuner chose.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, options: { stride?: number; pad?: number; act?: Activation } = {}): Tensor {
  const g = convGeometry(x.shape, weight.shape, options.stride ?? 1, options.pad ?? 0);
  const cout = weight.shape[3];
  const w = weight.contiguous();
  const act = options.act ?? 'none';
  const wantsGrad = isGradEnabled() && (x.requiresGrad || w.requiresGrad || !!bias?.requiresGrad);
  // With gradients, the activation runs as its own op so backward sees its input.
  const fusedAct = wantsGrad ? 'none' : act;
  const out = Tensor.empty([g.n * g.oh * g.ow, cout], x.backend);
  x.backend.conv2d(out.storage, x, w, g, { bias, act: fusedAct });
  const inputs = bias ? [x, w, bias] : [x, w];
  const z = Tensor.record(out, inputs, (grad) => {
    const gd = grad.contiguous();
    const dx = x.requiresGrad ? conv2dBackwardInput(gd, w, g) : null;
    const dw = w.requiresGrad ? conv2dBackwardWeight(x, gd, g).reshape(w.shape) : null;
    const db = bias?.requiresGrad ? gd.sumTo(bias.shape) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
  const y = z.reshape([g.n, g.oh, g.ow, cout]);
  if (fusedAct === act || act === 'none') return y;
  return act === 'relu' ? y.relu() : y.gelu();
}

/** ∂L/∂x of conv2d from ∂L/∂y as [N·OH·OW, C_out] (first-order: not itself differentiable). */
export function conv2dBackwardInput(grad: Tensor, weight: Tensor, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.n, g.h, g.w, g.c], grad.backend);
  grad.backend.conv2dBackwardInput(out.storage, grad, weight, g);
  return out;
}

/** ∂L/∂w of conv2d as [KH·KW·C_in, C_out] (first-order: not itself differentiable). */
export function conv2dBackwardWeight(x: Tensor, grad: Tensor, g: ConvGeometry): Tensor {
  const out = Tensor.empty([g.kh * g.kw * g.c, grad.shape[1]], grad.backend);
  grad.backend.conv2dBackwardWeight(out.storage, x, grad, g);
  return out;
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, act: Activation = 'none'): Tensor {
  return x.matmul(weight, { bias, act });
}

/** L2 norm over every element of every tensor, as a device scalar (no readback). */
export function globalNorm(tensors: readonly Tensor[]): Tensor {
  let total: Tensor | null = null;
  for (const t of tensors) {
    const s = t.square().sum();
    total = total ? total.add(s) : s;
  }
  return (total ?? Tensor.zeros([])).sqrt();
}
