// Shared machinery for the op-by-op kernel tests: seeded data, fast-check
// shape arbitraries, a comparator that never lets NaN through, and a runner
// that evaluates one computation (forward, then backward of a random
// weighting of its outputs) on a backend and reads everything back.
import fc from 'fast-check';
import { createBackend, keep, tidy, Tensor, webgpuRequired, type Backend, type CreatedBackend } from '../../kernels/index.ts';
import { seededRandom } from '../../sensors/index.ts';

// ── the WebGPU backend under test ──────────────────────────────────────────

/**
 * One poisoned WebGPU backend for a test file, or null (with a printed
 * reason) when there is no adapter. With SENSEACT_REQUIRE_WEBGPU=1 a missing
 * adapter throws, so the file fails instead of skipping — the same contract
 * as tests/helpers/gpu.ts.
 */
export async function gpuBackendForTests(): Promise<CreatedBackend | null> {
  try {
    return await createBackend({ prefer: 'webgpu', poison: true });
  } catch (err) {
    if (webgpuRequired()) throw new Error(`SENSEACT_REQUIRE_WEBGPU=1 but no WebGPU backend: ${(err as Error).message}`);
    console.warn(`[senseact tests] WebGPU op tests skipped: ${(err as Error).message}`);
    return null;
  }
}

// ── seeded data ────────────────────────────────────────────────────────────

/** mulberry32 (sensors' seededRandom): a tiny seeded PRNG for test data, not the kernels' RNG. */
export const prng = seededRandom;

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Uniform values in [lo, hi). */
export function uniform(shape: readonly number[], seed: number, lo = -2, hi = 2): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: numel(shape) }, () => lo + (hi - lo) * r());
}

/** Values with |x| in [lo, hi) and a random sign: away from 0 (kinks of relu/abs, poles of div/log). */
export function awayFromZero(shape: readonly number[], seed: number, lo = 0.25, hi = 2): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: numel(shape) }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r()));
}

/** Distinct values in random order: no ties for max/argmax. Scaled to [-spread, spread]. */
export function distinct(shape: readonly number[], seed: number, spread = 2): Float32Array {
  const n = numel(shape);
  const r = prng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Float32Array.from(order, (k) => (n === 1 ? 0 : -spread + (2 * spread * k) / (n - 1)));
}

// ── comparison ─────────────────────────────────────────────────────────────

/**
 * How close float32 results must be (the issue's bar: relative error 1e-4).
 *
 * - 'elementwise': |got − want| ≤ rtol · max(1, |want|) for every element.
 *   The max(1, ·) is an absolute floor of rtol for values below 1. Without it
 *   a result near zero would demand impossible relative accuracy: WGSL's
 *   exp/log/tanh carry a few ulp of error (~1e-7 absolute at unit scale), and
 *   symlog computes log(1 + |x|) on the GPU where the CPU uses log1p, which
 *   at |x| = 1e-4 is a 1e-3 *relative* but only ~1e-8 absolute difference.
 * - 'norm': max|got − want| ≤ rtol · max(1, max|want|). Used for results of
 *   long sums (reductions, matmul, conv, normalizations and every gradient
 *   that goes through sumTo): their rounding error scales with the size of
 *   the summed terms, not with the (possibly cancelled, near-zero) sum, so
 *   an elementwise relative bound would flag correct kernels while a
 *   norm-relative bound still catches any wrong or unwritten element.
 *
 * Both fail on any NaN or ±Infinity on either side and on a length mismatch.
 */
export type Tolerance = 'elementwise' | 'norm' | 'exact';

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  bound: number;
  why: string;
}

export const RTOL = 1e-4;

export function findMismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = 'elementwise', rtol = RTOL): Mismatch | null {
  if (got.length !== want.length) return { index: -1, got: got.length, want: want.length, bound: 0, why: 'length differs' };
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i]) || !Number.isFinite(want[i])) return { index: i, got: got[i], want: want[i], bound: 0, why: 'not finite' };
    scale = Math.max(scale, Math.abs(want[i]));
  }
  for (let i = 0; i < want.length; i++) {
    if (tol === 'exact') {
      if (!Object.is(got[i], want[i])) return { index: i, got: got[i], want: want[i], bound: 0, why: 'not bit-identical' };
      continue;
    }
    const bound = rtol * (tol === 'norm' ? scale : Math.max(1, Math.abs(want[i])));
    const err = Math.abs(got[i] - want[i]);
    // Written so that a NaN error (impossible after the finiteness check, but cheap to guard) fails.
    if (!(err <= bound)) return { index: i, got: got[i], want: want[i], bound, why: `|error| ${err.toExponential(3)} > ${bound.toExponential(3)}` };
  }
  return null;
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol: Tolerance = 'elementwise', rtol = RTOL): void {
  const m = findMismatch(got, want, tol, rtol);
  if (m) {
    throw new Error(`${label}: ${m.why} at element ${m.index} (got ${m.got}, want ${m.want}; ${tol} tolerance, rtol ${rtol}, n = ${want.length})`);
  }
}

// ── running one computation on a backend ───────────────────────────────────

export interface InputSpec {
  shape: readonly number[];
  data: Float32Array;
  /** Whether to differentiate with respect to this input (default true). */
  grad?: boolean;
}

export type OpFn = (xs: Tensor[], backend: Backend) => Tensor | Tensor[];

export interface Evaluated {
  outputs: Float32Array[];
  shapes: number[][];
  /** One entry per input with grad (null when no gradient reached it). */
  grads: (Float32Array | null)[];
}

/** The random weights w_k of the scalar loss Σ_k sum(w_k ⊙ y_k): the same numbers on every backend. */
export function lossWeights(size: number, seed: number, k: number): Float32Array {
  return uniform([size], (seed * 7919 + k * 104729 + 17) >>> 0, -1, 1);
}

/**
 * Evaluates fn on `backend`. With `grad`, inputs are trainable leaves and the
 * scalar Σ_k sum(w_k ⊙ y_k) is backpropagated, so each input gradient is a
 * random vector–Jacobian product (every entry of the Jacobian contributes).
 * Everything runs in tidy(); tensors are read after the scope and disposed,
 * and the backend's live bytes must then be back where they started.
 */
export async function evaluate(backend: Backend, inputs: readonly InputSpec[], fn: OpFn, options: { grad: boolean; seed?: number }): Promise<Evaluated> {
  const before = backend.memory().inUseBytes;
  const seed = options.seed ?? 1;
  const leaves = inputs.map((s) => {
    const t = keep(Tensor.fromArray(s.data, s.shape, backend));
    if (options.grad && s.grad !== false) t.trainable();
    return t;
  });
  let outs: Tensor[] = [];
  let failed = false;
  try {
    outs = tidy(() => {
      const y = fn(leaves, backend);
      const ys = Array.isArray(y) ? y : [y];
      if (options.grad) {
        let loss: Tensor | null = null;
        ys.forEach((t, k) => {
          const w = Tensor.fromArray(lossWeights(t.size, seed, k), t.shape, backend);
          const term = t.mul(w).sum();
          loss = loss ? loss.add(term) : term;
        });
        loss!.backward();
      }
      return ys;
    });
    const outputs: Float32Array[] = [];
    for (const t of outs) outputs.push(await t.toArray());
    const grads: (Float32Array | null)[] = [];
    for (const l of leaves) if (l.requiresGrad) grads.push(l.grad ? await l.grad.toArray() : null);
    return { outputs, shapes: outs.map((t) => [...t.shape]), grads };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    for (const t of outs) t.dispose();
    for (const l of leaves) l.dispose();
    // Every tensor made inside tidy() must be gone now; an op that allocates
    // outside its result (and never frees it) shows up here. Not checked
    // after an error: tidy() does not clean up a scope that threw.
    const leaked = backend.memory().inUseBytes - before;
    if (!failed && leaked !== 0) throw new Error(`${leaked} bytes still live on the ${backend.name} backend after the computation was disposed`);
  }
}

export interface ParityOptions {
  /** Differentiate too (default true); 'both' also runs a forward pass without gradients. */
  grad?: boolean | 'both';
  /** Tolerance for outputs and for gradients (defaults: 'elementwise' and 'norm'). */
  tol?: Tolerance;
  gradTol?: Tolerance;
  seed?: number;
}

/** Runs fn on both backends and demands the WebGPU results equal the CPU reference. */
export async function expectParity(cpu: Backend, gpu: Backend, label: string, inputs: readonly InputSpec[], fn: OpFn, options: ParityOptions = {}): Promise<void> {
  const modes = options.grad === 'both' ? [false, true] : [options.grad ?? true];
  for (const grad of modes) {
    const want = await evaluate(cpu, inputs, fn, { grad, seed: options.seed });
    const got = await evaluate(gpu, inputs, fn, { grad, seed: options.seed });
    const shapes = `inputs ${inputs.map((i) => `[${i.shape.join(',')}]`).join(' ')}`;
    want.outputs.forEach((w, k) => {
      if (got.shapes[k].join(',') !== want.shapes[k].join(',')) throw new Error(`${label} (${shapes}): output ${k} has shape [${got.shapes[k]}] on WebGPU, [${want.shapes[k]}] on CPU`);
      expectClose(got.outputs[k], w, `${label} (${shapes}) output ${k}${grad ? '' : ' without grad'}`, options.tol ?? 'elementwise');
    });
    want.grads.forEach((w, k) => {
      const g = got.grads[k];
      if ((w === null) !== (g === null)) throw new Error(`${label} (${shapes}): gradient ${k} is ${g === null ? 'missing' : 'present'} on WebGPU but not on CPU`);
      if (w && g) expectClose(g, w, `${label} (${shapes}) d/d input ${k}`, options.gradTol ?? 'norm');
    });
  }
}

// ── shape arbitraries ──────────────────────────────────────────────────────

/** Largest dim per rank, so shapes stay small yet cross the 256-thread workgroup size. */
const DIM_CAP = [1, 600, 40, 13, 7, 5, 4];

/** A shape of rank in [minRank, maxRank] with dims drawn toward awkward sizes (1, primes, 256 ± 1). */
export function shapeArb(minRank = 1, maxRank = 4): fc.Arbitrary<number[]> {
  return fc.integer({ min: minRank, max: maxRank }).chain((rank) => {
    const cap = DIM_CAP[rank] ?? 3;
    const dim = fc.oneof(fc.integer({ min: 1, max: cap }), fc.constantFrom(...[1, 3, 5, 7, 255, 257].filter((d) => d <= cap)));
    return fc.array(dim, { minLength: rank, maxLength: rank });
  });
}

/**
 * Shapes that broadcast together: each drops some leading axes of a common
 * shape (rank mismatch) and sets some axes to 1 (size-1 stretching), on one
 * side or the other.
 */
export function broadcastShapesArb(count: number, maxRank = 4): fc.Arbitrary<number[][]> {
  return shapeArb(1, maxRank).chain((full) =>
    fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: full.length }), { minLength: count, maxLength: count }),
        fc.array(fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }), { minLength: count, maxLength: count }),
      )
      .map(([drops, ones]) => {
        // The first operand keeps full rank; the others may drop leading axes.
        return full.length === 0 ? [full] : Array.from({ length: count }, (_, k) => full.slice(k === 0 ? 0 : drops[k]).map((d, i, arr) => (ones[k][full.length - arr.length + i] ? 1 : d)));
      }),
  );
}

export const seedArb = fc.integer({ min: 1, max: 0x7fffffff });

/** fast-check settings for GPU properties: few runs, fixed seed (reproducible CI), no endless shrinking. */
export function runs<T>(numRuns: number): fc.Parameters<T> {
  return { numRuns, seed: 0x5e45e, endOnFailure: false, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true };
}
