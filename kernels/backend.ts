// The one interface every backend implements: a handful of primitives over
// flat f32 storage. Tensors, autograd and nn are written against this, so a
// backend is one folder and every op exists on both.
import type { MapOp } from './ops.ts';

export interface Storage {
  /** Number of elements. */
  readonly length: number;
  refs: number;
}

/** A strided window onto a storage. */
export interface View {
  storage: Storage;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

export type Activation = 'none' | 'relu' | 'gelu';

export interface MatmulOptions {
  bias?: View | null;
  act?: Activation;
}

/** NHWC convolution geometry shared by im2col and col2im. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  oh: number;
  ow: number;
}

/**
 * Groups of a normalization: dense x viewed as [A, B, G, K], each (a, g)
 * normalized over its B·K elements. Layer norm is [rows, 1, 1, C]; group
 * norm over NHWC is [N, H·W, groups, C/groups].
 */
export interface NormGeometry {
  a: number;
  b: number;
  g: number;
  k: number;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count for bias correction. */
  step: number;
}

export interface MemoryStats {
  /** Bytes held by live tensors. */
  inUseBytes: number;
  /** Bytes of every buffer this backend owns, in use or pooled. */
  allocatedBytes: number;
  dispatches: number;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  alloc(length: number): Storage;
  release(storage: Storage): void;
  /** Overwrites the whole storage with `data` (in order with queued work). */
  write(storage: Storage, data: Float32Array | Float64Array): void;
  /** Reads a view as a dense row-major array. */
  read(view: View): Promise<Float32Array>;
  /**
   * Records a copy of the view now, in order with the queued work, and
   * returns what fetches it later: a loop can read step k's loss once step
   * k has finished (after the next settle) instead of draining the queue.
   */
  readLater(view: View): () => Promise<Float32Array>;
  fill(storage: Storage, value: number): void;
  /** out[i] = op(inputs[..][i], scalars) with broadcasting through strides; `out` may be a strided view. */
  map(op: MapOp, out: View, inputs: View[], scalars?: readonly number[]): void;
  /** Reduces the trailing `reduceRank` axes of `input`; `out` is dense with numel(outer shape) elements. */
  reduce(op: 'sum' | 'max', out: Storage, input: View, reduceRank: number): void;
  /** out[b] = act(a[b] @ b[b] + bias); a: [B,M,K], b: [B,K,N] (any strides), out dense [B,M,N]. */
  matmul(out: Storage, a: View, b: View, options?: MatmulOptions): void;
  im2col(out: Storage, input: View, g: ConvGeometry): void;
  col2im(out: Storage, cols: View, g: ConvGeometry): void;
  /**
   * NHWC convolution: out [N·OH·OW, Cout] = act(im2col(x) @ w + bias), w a
   * view of [KH, KW, C, Cout]. A backend may materialize im2col or read x
   * directly (implicit GEMM); both compute the same thing.
   */
  conv2d(out: Storage, x: View, w: View, g: ConvGeometry, options?: MatmulOptions): void;
  /** Input gradient: out [N, H, W, C] = col2im(grad @ wᵀ), grad [N·OH·OW, Cout]. */
  conv2dBackwardInput(out: Storage, grad: View, w: View, g: ConvGeometry): void;
  /** Weight gradient: out [KH·KW·C, Cout] = im2col(x)ᵀ @ grad. */
  conv2dBackwardWeight(out: Storage, x: View, grad: View, g: ConvGeometry): void;
  /** out[i, :] = table[idx[i], :] ; table dense [R, D], idx holds integer-valued floats. */
  gather(out: Storage, table: View, idx: View, rows: number, dim: number): void;
  /** out[r, :] = Σ_{i: idx[i] = r} grad[i, :] ; out dense [R, D]. */
  scatterAdd(out: Storage, grad: View, idx: View, rows: number, dim: number): void;
  random(out: Storage, dist: 'uniform' | 'normal', seed: number, counter: number): void;
  /** y = (x − mean)·rstd over each group of dense x, rstd[a·G + g] = 1/√(var + eps) (population variance). */
  normalize(y: Storage, rstd: Storage, x: View, geo: NormGeometry, eps: number): void;
  /** normalize's input gradient from its output y: dx = rstd·(dy − mean(dy) − y·mean(dy·y)) per group. */
  normalizeBackward(dx: Storage, dy: View, y: View, rstd: Storage, geo: NormGeometry): void;
  /** Fused AdamW: param, m, v updated in place; grad scaled by scale[0] (clipping) first. */
  adamw(param: Storage, grad: View, m: Storage, v: Storage, scale: Storage | null, h: AdamWHyper): void;
  /** Submits queued work (no-op on CPU). */
  flush(): void;
  /**
   * Submits queued work and waits until the device has finished it. A loop
   * that never awaits (no readback, no sync) starves Dawn's event processing
   * and its per-submission resources pile up: await this (or a readback) at
   * least once per training step.
   */
  sync(): Promise<void>;
  /**
   * Submits queued work and waits until the work submitted *before* it has
   * finished: the device runs this step while the host records the next.
   * A loop may await this instead of sync() once per step.
   */
  settle(): Promise<void>;
  memory(): MemoryStats;
  destroy(): void;
}
