// Finite-difference checks of every backward rule, on the CPU backend in
// double precision. For a random weighting w of the outputs, the autograd
// gradient of L = Σ w ⊙ f(x) must equal the central difference
// (L(x + h·e_j) − L(x − h·e_j)) / 2h at probed elements j of every input.
// Inputs are kept away from kinks and ties (relu/abs/clamp at their corners,
// maximum/minimum and max at equal values), where no derivative exists.
import { describe, expect, it } from 'vitest';
import { CpuBackend, F, Tensor, noGrad, nn, tidy } from '../../kernels/index.ts';
import { CpuStorage } from '../../kernels/cpu/CpuBackend.ts';
import { awayFromZero, distinct, prng, uniform } from './helpers.ts';

const be = new CpuBackend({ precision: 'f64' });

/** Central-difference step. In double, truncation error ~h²·f‴ ≈ 1e-12 and rounding ~1e-16·|L|/h ≈ 1e-9 for |L| ≤ 100. */
const H = 1e-6;
/** |numeric − analytic| ≤ RTOL · max(1, |analytic|): three orders above the error budget, far below any wrong rule. */
const RTOL = 1e-6;
const PROBES = 40;

function leaf(shape: readonly number[], data: ArrayLike<number>): Tensor {
  const t = Tensor.empty(shape, be);
  be.write(t.storage, Float64Array.from(data));
  return t.trainable();
}

/** Reads any view of a CPU tensor in double (Tensor.toArray() rounds to float32). */
function f64(t: Tensor): Float64Array {
  const src = (t.storage as CpuStorage).data;
  const out = new Float64Array(t.size);
  const coord = new Array<number>(t.rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let at = t.offset;
    for (let d = 0; d < t.rank; d++) at += coord[d] * t.strides[d];
    out[i] = src[at];
    for (let d = t.rank - 1; d >= 0; d--) {
      if (++coord[d] < t.shape[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

function weightedLoss(ys: Tensor | Tensor[], seed: number): Tensor {
  const list = Array.isArray(ys) ? ys : [ys];
  let loss: Tensor | null = null;
  list.forEach((y, k) => {
    const r = prng(seed * 31 + k);
    const w = Tensor.empty(y.shape, be);
    be.write(w.storage, Float64Array.from({ length: y.size }, () => 2 * r() - 1));
    const term = y.mul(w).sum();
    loss = loss ? loss.add(term) : term;
  });
  return loss!;
}

/**
 * Checks d loss / d p for every trainable tensor p in `params` (contiguous
 * CPU leaves) by perturbing p's storage in place. Throws on a mismatch.
 */
function gradcheckParams(label: string, params: readonly Tensor[], loss: () => Tensor, seed = 1): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
  tidy(() => loss().backward());
  const r = prng(seed);
  params.forEach((p, k) => {
    if (!p.grad) throw new Error(`${label}: no gradient reached parameter ${k}`);
    const analytic = f64(p.grad);
    const data = (p.storage as CpuStorage).data;
    const n = p.size;
    const probes = n <= PROBES ? [...Array(n).keys()] : Array.from({ length: PROBES }, () => Math.floor(r() * n));
    const evalLoss = () => noGrad(() => tidy(() => f64(loss())[0]));
    for (const j of probes) {
      const x = data[p.offset + j];
      data[p.offset + j] = x + H;
      const up = evalLoss();
      data[p.offset + j] = x - H;
      const down = evalLoss();
      data[p.offset + j] = x;
      const numeric = (up - down) / (2 * H);
      const err = Math.abs(numeric - analytic[j]);
      if (!(err <= RTOL * Math.max(1, Math.abs(analytic[j])))) {
        throw new Error(`${label}: d/d input ${k}[${j}] autograd ${analytic[j]}, finite difference ${numeric} (|error| ${err.toExponential(2)})`);
      }
    }
  });
}

interface Spec {
  shape: readonly number[];
  data: ArrayLike<number>;
  /** Differentiate with respect to this input (default true); false for indices and masks. */
  grad?: boolean;
}

/** Builds leaves from specs, checks fn's backward rules through a random weighting of its outputs, frees everything. */
function gradcheck(label: string, specs: readonly Spec[], fn: (xs: Tensor[]) => Tensor | Tensor[], seed = 1): void {
  const xs = specs.map((s) => {
    const t = leaf(s.shape, s.data);
    if (s.grad === false) t.requiresGrad = false;
    return t;
  });
  try {
    gradcheckParams(label, xs.filter((_, k) => specs[k].grad !== false), () => weightedLoss(fn(xs), seed), seed);
  } finally {
    for (const x of xs) x.dispose();
  }
}

const u = (shape: readonly number[], seed: number, lo = -2, hi = 2): Spec => ({ shape, data: uniform(shape, seed, lo, hi) });
const away = (shape: readonly number[], seed: number): Spec => ({ shape, data: awayFromZero(shape, seed, 0.1, 2) });
const pos = (shape: readonly number[], seed: number): Spec => u(shape, seed, 0.2, 3);

// ── the checker itself ─────────────────────────────────────────────────────

describe('the finite-difference checker', () => {
  it('rejects a wrong backward rule', () => {
    // exp whose recorded gradient forgets the factor exp(x).
    const wrongExp = (x: Tensor) => x.map('exp', [], [], (g) => [g]);
    expect(() => gradcheck('wrong exp', [u([5], 1)], ([x]) => wrongExp(x))).toThrow(/finite difference/);
    // A rule off by 1e-4 relative is caught too.
    const slightlyWrong = (x: Tensor) => x.map('muls', [], [3], (g) => [g.mulScalar(3 * (1 + 1e-4))]);
    expect(() => gradcheck('slightly wrong', [u([5], 2, 1, 2)], ([x]) => slightlyWrong(x))).toThrow(/finite difference/);
  });

  it('rejects a rule that drops the gradient of an input', () => {
    const noGradToB = (a: Tensor, b: Tensor) => a.map('mul', [b], [], (g) => [g.mul(b), null]);
    expect(() => gradcheck('dropped', [u([4], 1), u([4], 2)], ([a, b]) => noGradToB(a, b))).toThrow(/no gradient/);
  });

  it('works in double precision (storage is Float64Array)', () => {
    const t = leaf([3], [1 + 1e-12, 2, 3]);
    expect((t.storage as CpuStorage).data).toBeInstanceOf(Float64Array);
    expect(f64(t)[0]).toBe(1 + 1e-12);
    t.dispose();
  });
});

// ── elementwise ────────────────────────────────────────────────────────────

describe('elementwise backward rules', () => {
  const shape = [3, 7];
  const UNARY: [string, (x: Tensor) => Tensor, Spec][] = [
    ['neg', (x) => x.neg(), u(shape, 1)],
    ['exp', (x) => x.exp(), u(shape, 2)],
    ['log', (x) => x.log(), pos(shape, 3)],
    ['sqrt', (x) => x.sqrt(), pos(shape, 4)],
    ['abs', (x) => x.abs(), away(shape, 5)],
    ['relu', (x) => x.relu(), away(shape, 6)],
    ['gelu', (x) => x.gelu(), u(shape, 7, -4, 4)],
    ['tanh', (x) => x.tanh(), u(shape, 8, -3, 3)],
    ['sigmoid', (x) => x.sigmoid(), u(shape, 9, -5, 5)],
    ['symlog', (x) => x.symlog(), away(shape, 10)],
    // Corners at −0.5 and 0.7: shift the data off them.
    ['clamp', (x) => x.clamp(-0.5, 0.7), { shape, data: uniform(shape, 11).map((v) => (Math.abs(v + 0.5) < 0.05 || Math.abs(v - 0.7) < 0.05 ? v + 0.1 : v)) }],
    ['square', (x) => x.square(), u(shape, 12)],
    ['addScalar', (x) => x.addScalar(0.3), u(shape, 13)],
    ['mulScalar', (x) => x.mulScalar(-1.7), u(shape, 14)],
    ['rsubScalar', (x) => x.rsubScalar(2.5), u(shape, 15)],
    ['rdivScalar', (x) => x.rdivScalar(1.5), away(shape, 16)],
    ['add(number)', (x) => x.add(0.25), u(shape, 17)],
    ['sub(number)', (x) => x.sub(1.25), u(shape, 18)],
    ['mul(number)', (x) => x.mul(3), u(shape, 19)],
    ['div(number)', (x) => x.div(4), u(shape, 20)],
    ['clone (copy)', (x) => x.clone().exp(), u(shape, 21)],
  ];
  for (const [name, f, spec] of UNARY) it(name, () => gradcheck(name, [spec], ([x]) => f(x)));

  // [3,1,4] with [2,4]: both sides stretch and the ranks differ.
  const BINARY: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', (a, b) => a.add(b)],
    ['sub', (a, b) => a.sub(b)],
    ['mul', (a, b) => a.mul(b)],
    ['div', (a, b) => a.div(b)],
    ['maximum', (a, b) => a.maximum(b)],
    ['minimum', (a, b) => a.minimum(b)],
  ];
  for (const [name, f] of BINARY) {
    it(`${name} with broadcasting both ways`, () => {
      // a on the grid 0.25ℤ + 0.125, b on 0.25ℤ: never closer than 0.125, so no ties.
      const onGrid = (shape: number[], seed: number, shift: number) => ({ shape, data: uniform(shape, seed).map((v) => Math.round(v * 4) / 4 + shift) });
      const b = (shape: number[], seed: number) => (name === 'div' ? away(shape, seed) : onGrid(shape, seed, 0));
      gradcheck(name, [onGrid([3, 1, 4], 30, 0.125), b([2, 4], 31)], ([x, y]) => f(x, y));
      gradcheck(`${name} same shape`, [onGrid([5, 3], 32, 0.125), b([5, 3], 33)], ([x, y]) => f(x, y));
    });
  }

  it('where (gradient to both branches, none to the condition)', () => {
    const cond = { shape: [4, 1], data: [1, 0, 0, 1], grad: false };
    gradcheck('where', [cond, u([4, 3], 40), u([3], 41)], ([c, a, b]) => Tensor.where(c, a, b));
  });

  it('a leaf and an intermediate used more than once accumulate gradients', () => {
    gradcheck('reuse', [u([6], 42)], ([x]) => {
      const y = x.exp();
      return y.mul(y).add(y).mul(x);
    });
  });
});

// ── reductions and views ───────────────────────────────────────────────────

describe('reductions and views', () => {
  const shape = [3, 4, 5];
  it('sum over all, one, several and non-trailing axes, keepDims', () => {
    gradcheck('sum', [u(shape, 50)], ([x]) => [x.sum(), x.sum(1), x.sum([0, 2], true), x.sum(-3)]);
  });
  it('mean', () => {
    gradcheck('mean', [u(shape, 51)], ([x]) => [x.mean(), x.mean([0, 1]), x.mean(2, true)]);
  });
  it('max (distinct values: a unique arg-max)', () => {
    gradcheck('max', [{ shape, data: distinct(shape, 52) }], ([x]) => [x.max(), x.max(1), x.max([0, 2], true)]);
  });
  it('max splits the gradient among tied maxima', () => {
    // Not a finite-difference check (ties have no derivative): the documented convention.
    const x = leaf([4], [1, 3, 3, 0]);
    tidy(() => x.max().backward());
    expect(Array.from(f64(x.grad!))).toEqual([0, 0.5, 0.5, 0]);
    x.dispose();
  });
  it('reshape, permute, transpose, slice, expand and reshape of a permuted view', () => {
    gradcheck('views', [u(shape, 53)], ([x]) => [
      x.reshape([12, 5]).mul(x.reshape([12, 5])),
      x.permute([2, 0, 1]).exp(),
      x.transpose(0, 2).reshape([-1]).square(),
      x.slice(1, 1, 3).tanh(),
    ]);
    gradcheck('expand', [u([3, 1, 5], 54)], ([x]) => x.expand([2, 3, 4, 5]).square());
  });
  it('pad and concat', () => {
    gradcheck('pad', [u([2, 3], 55)], ([x]) => x.pad([[1, 0], [2, 1]]).square());
    gradcheck('concat', [u([2, 3], 56), u([2, 1], 57), u([2, 2], 58)], (xs) => Tensor.concat(xs, 1).square());
  });
  it('gather (the scatter-add gradient sums repeated rows)', () => {
    const idx = { shape: [6], data: [4, 0, 4, 2, 4, 1], grad: false };
    gradcheck('gather', [u([5, 3], 59), idx], ([t, i]) => [t.gather(i).square(), t.gather(i).sum()]);
    gradcheck('gather of a transposed table', [u([3, 5], 61), idx], ([t, i]) => t.transpose().gather(i).square());
  });
  it('dropout with a fixed (seed, counter) is linear in its input', () => {
    gradcheck('dropout', [u([4, 9], 60)], ([x]) => x.dropout(0.4, 123, 7));
  });
});

// ── linear algebra and convolution ─────────────────────────────────────────

describe('matmul and convolution', () => {
  it('matmul 2-D, batched, broadcast batch, transposed, 4-D', () => {
    gradcheck('2-D', [u([3, 5], 70), u([5, 4], 71)], ([a, b]) => a.matmul(b));
    gradcheck('3-D', [u([2, 3, 5], 72), u([2, 5, 4], 73)], ([a, b]) => a.matmul(b));
    gradcheck('3-D @ 2-D', [u([2, 3, 5], 74), u([5, 4], 75)], ([a, b]) => a.matmul(b));
    gradcheck('[1,M,K] @ [B,K,N]', [u([1, 3, 5], 76), u([2, 5, 4], 77)], ([a, b]) => a.matmul(b));
    gradcheck('transposed views', [u([5, 3], 78), u([4, 5], 79)], ([a, b]) => a.transpose().matmul(b.transpose()));
    gradcheck('4-D', [u([2, 2, 3, 5], 80), u([2, 2, 5, 4], 81)], ([a, b]) => a.matmul(b));
  });
  it('matmul with bias and relu / gelu epilogue', () => {
    // relu: the pre-activation must stay off 0; with these seeds every |z| > 0.01 (checked below).
    const a = u([4, 6], 82);
    const w = u([6, 5], 83);
    const bias = u([5], 84);
    gradcheck('bias + gelu', [a, w, bias], ([x, y, b]) => x.matmul(y, { bias: b, act: 'gelu' }));
    gradcheck('bias + relu', [a, w, bias], ([x, y, b]) => {
      const z = noGrad(() => x.matmul(y, { bias: b }));
      if (f64(z).some((v) => Math.abs(v) < 0.01)) throw new Error('test data puts a pre-activation on the relu kink');
      return x.matmul(y, { bias: b, act: 'relu' });
    });
  });
  it('im2col and col2im', () => {
    const g = F.convGeometry([1, 5, 4, 3], [3, 3, 3], 2, 1);
    gradcheck('im2col', [u([1, 5, 4, 3], 85)], ([x]) => F.im2col(x, g));
    gradcheck('col2im', [u([g.n * g.oh * g.ow, g.kh * g.kw * g.c], 86)], ([c]) => F.col2im(c, g));
  });
  it('conv2d: input, weight and bias gradients (stride 2, pad 1, odd channels)', () => {
    gradcheck('conv2d s2 p1', [u([1, 5, 6, 3], 87), u([3, 3, 3, 5], 88, -0.5, 0.5), u([5], 89)], ([x, w, b]) => F.conv2d(x, w, b, { stride: 2, pad: 1, act: 'gelu' }));
    gradcheck('conv2d s1 p0', [u([2, 4, 4, 1], 90), u([2, 2, 1, 3], 91)], ([x, w]) => F.conv2d(x, w, null));
  });
});

// ── composites ─────────────────────────────────────────────────────────────

describe('softmax, losses, normalization, attention', () => {
  it('softmax and logSoftmax over the last and a leading axis', () => {
    gradcheck('softmax', [u([3, 5], 100, -3, 3)], ([x]) => [F.softmax(x), F.softmax(x, 0)]);
    gradcheck('logSoftmax', [u([3, 5], 101, -3, 3)], ([x]) => [F.logSoftmax(x), F.logSoftmax(x, 0)]);
  });
  it('crossEntropy, l1Loss, mseLoss', () => {
    gradcheck('crossEntropy', [u([4, 5], 102, -3, 3)], ([x]) => F.crossEntropy(x, F.oneHot([0, 4, 2, 2], 5, be)));
    const pred = uniform([3, 4], 103);
    const target = pred.map((p, i) => p + awayFromZero([3, 4], 104, 0.1, 1)[i]);
    gradcheck('l1Loss', [{ shape: [3, 4], data: pred }, { shape: [3, 4], data: target }], ([p, t]) => F.l1Loss(p, t));
    gradcheck('mseLoss', [{ shape: [3, 4], data: pred }, { shape: [3, 4], data: target }], ([p, t]) => F.mseLoss(p, t));
  });
  it('layerNorm and groupNorm with affine parameters', () => {
    gradcheck('layerNorm', [u([3, 6], 105, -3, 3), u([6], 106, 0.5, 1.5), u([6], 107)], ([x, g, b]) => F.layerNorm(x, g, b));
    gradcheck('groupNorm', [u([2, 3, 2, 6], 108, -3, 3), u([6], 109, 0.5, 1.5), u([6], 110)], ([x, g, b]) => F.groupNorm(x, 3, g, b));
  });
  it('globalNorm', () => {
    gradcheck('globalNorm', [u([3, 4], 111), u([5], 112)], (xs) => F.globalNorm(xs));
  });
  it('MultiHeadAttention: input and every parameter, with a causal mask', () => {
    const attn = new nn.MultiHeadAttention(6, 2, { seed: 3, backend: be });
    const x = leaf([2, 4, 6], uniform([2, 4, 6], 113));
    const mask = Tensor.empty([4, 4], be);
    be.write(mask.storage, Float64Array.from({ length: 16 }, (_, i) => (i % 4 > Math.floor(i / 4) ? -1e4 : 0)));
    try {
      gradcheckParams('attention', [x, ...attn.parameters()], () => weightedLoss(attn.forward(x, mask), 5));
    } finally {
      x.dispose();
      mask.dispose();
      attn.dispose();
    }
  });
});
