// Op-by-op parity: every op, forward and backward, on the WebGPU backend
// against the CPU reference (float32 both), on shapes drawn by fast-check.
// Both backends poison new allocations with NaN, and the comparator fails on
// any NaN, so an element a kernel forgets to write cannot pass.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AdamW, CpuBackend, F, MAP_OPS, Tensor, keep, nn, normalAt, tidy, uniformAt, type Backend, type MapOp } from '../../kernels/index.ts';
import { broadcastShapes } from '../../kernels/shape.ts';
import { splitKFor } from '../../kernels/webgpu/WebGpuBackend.ts';
import {
  awayFromZero,
  broadcastShapesArb,
  distinct,
  evaluate,
  expectClose,
  expectParity,
  findMismatch,
  gpuBackendForTests,
  prng,
  runs,
  seedArb,
  shapeArb,
  uniform,
  type InputSpec,
  type OpFn,
  type ParityOptions,
} from './helpers.ts';

// One WebGPU backend for the whole file: pipelines are cached per backend.
const created = await gpuBackendForTests();
const gpu: Backend | null = created?.backend ?? null;
const cpu = new CpuBackend({ poison: true });
afterAll(() => created?.dispose());
const itGpu = it.skipIf(!gpu);

function parity(label: string, inputs: InputSpec[], fn: OpFn, options: ParityOptions = {}): Promise<void> {
  return expectParity(cpu, gpu!, label, inputs, fn, options);
}

const input = (shape: readonly number[], data: Float32Array, grad = true): InputSpec => ({ shape, data, grad });

// ── the test machinery itself ──────────────────────────────────────────────

describe('comparator and poisoning', () => {
  it('rejects NaN and ±Infinity on either side, and length mismatches', () => {
    const ok = new Float32Array([1, 2, 3]);
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(findMismatch(new Float32Array([1, bad, 3]), ok)).not.toBeNull();
      expect(findMismatch(ok, new Float32Array([1, bad, 3]))).not.toBeNull();
      expect(findMismatch(new Float32Array([1, bad, 3]), new Float32Array([1, bad, 3]), 'norm')).not.toBeNull();
    }
    expect(() => expectClose([NaN], [NaN], 'nan')).toThrow(/not finite/);
    expect(findMismatch(new Float32Array(2), new Float32Array(3))).not.toBeNull();
  });

  it('accepts errors inside the bound and rejects those just outside', () => {
    // Elementwise: bound 1e-4·max(1, |want|).
    expect(findMismatch([100.009], [100])).toBeNull();
    expect(findMismatch([100.0101], [100])).not.toBeNull();
    expect(findMismatch([0.5 + 0.99e-4], [0.5])).toBeNull();
    expect(findMismatch([0.5 + 1.01e-4], [0.5])).not.toBeNull();
    // Norm: the bound scales with the largest reference element.
    expect(findMismatch([1000, 0.05], [1000, 0], 'norm')).toBeNull();
    expect(findMismatch([1000, 0.05], [1000, 0], 'elementwise')).not.toBeNull();
    expect(findMismatch([1000, 0.2], [1000, 0], 'norm')).not.toBeNull();
    // Exact: bit-identical, so even -0 vs 0 differs.
    expect(findMismatch([0], [-0], 'exact')).not.toBeNull();
    expect(findMismatch([1.5], [1.5], 'exact')).toBeNull();
  });

  itGpu('new WebGPU allocations read back as NaN (poisoning is on)', async () => {
    const t = Tensor.empty([300], gpu!);
    const values = await t.toArray();
    t.dispose();
    expect(values.length).toBe(300);
    expect(values.every((v) => Number.isNaN(v))).toBe(true);
  });

  itGpu('an element a kernel leaves unwritten fails the comparison', async () => {
    // Write only the first half of a fresh tensor, as a buggy kernel would.
    const x = Tensor.fromArray(uniform([301], 1), [301], gpu!);
    const out = Tensor.empty([301], gpu!);
    gpu!.map('neg', { storage: out.storage, shape: [150], strides: [1], offset: 0 }, [{ storage: x.storage, shape: [150], strides: [1], offset: 0 }]);
    const got = await out.toArray();
    x.dispose();
    out.dispose();
    const want = uniform([301], 1).map((v) => -v);
    expect(findMismatch(got.subarray(0, 150), want.subarray(0, 150))).toBeNull();
    expect(findMismatch(got, want)?.why).toBe('not finite');
  });
});

// ── every elementwise primitive, directly ──────────────────────────────────

type Gen = (shape: readonly number[], seed: number) => Float32Array;
const uni: Gen = (s, seed) => uniform(s, seed, -3, 3);
const wide: Gen = (s, seed) => uniform(s, seed, -20, 20);
const positive: Gen = (s, seed) => uniform(s, seed, 0.05, 4);
const away: Gen = (s, seed) => awayFromZero(s, seed);
const unit: Gen = (s, seed) => uniform(s, seed, -1, 1);
const prob: Gen = (s, seed) => uniform(s, seed, 0, 1);
/** Values on a coarse grid (with zeros and ties) so comparisons and sign see equal operands. */
const grid: Gen = (s, seed) => uniform(s, seed, -2, 2).map((v) => Math.round(v * 2) / 2);
const mask: Gen = (s, seed) => uniform(s, seed, 0, 1).map((v) => (v < 0.5 ? 0 : 1));

/** Input domains and scalars per primitive; the Record type makes a new op without an entry a compile error. */
const MAP_DOMAINS: Record<MapOp, { gens: Gen[]; scalars?: number[] }> = {
  copy: { gens: [uni] },
  neg: { gens: [uni] },
  exp: { gens: [(s, seed) => uniform(s, seed, -8, 8)] },
  log: { gens: [positive] },
  sqrt: { gens: [positive] },
  abs: { gens: [grid] },
  sign: { gens: [grid] },
  relu: { gens: [grid] },
  tanh: { gens: [wide] },
  sigmoid: { gens: [wide] },
  gelu: { gens: [wide] },
  symlog: { gens: [wide] },
  adds: { gens: [uni], scalars: [0.3] },
  muls: { gens: [uni], scalars: [-1.7] },
  rsubs: { gens: [uni], scalars: [2.5] },
  rdivs: { gens: [away], scalars: [1.5] },
  clamp: { gens: [grid], scalars: [-0.5, 1] },
  inrange: { gens: [grid], scalars: [-0.5, 1] },
  lts: { gens: [grid], scalars: [0.5] },
  add: { gens: [uni, uni] },
  sub: { gens: [uni, uni] },
  mul: { gens: [uni, uni] },
  div: { gens: [uni, away] },
  maximum: { gens: [grid, grid] },
  minimum: { gens: [grid, grid] },
  ge: { gens: [grid, grid] },
  gt: { gens: [grid, grid] },
  eq: { gens: [grid, grid] },
  relu_grad: { gens: [grid, uni] },
  gelu_grad: { gens: [wide, uni] },
  tanh_grad: { gens: [unit, uni] },
  sigmoid_grad: { gens: [prob, uni] },
  symlog_grad: { gens: [wide, uni] },
  where: { gens: [mask, uni, uni] },
};

describe('MAP_OPS primitives (Tensor.map, broadcast, forward)', () => {
  it('every MAP_OPS entry has a test domain of the right arity', () => {
    expect(Object.keys(MAP_DOMAINS).sort()).toEqual(Object.keys(MAP_OPS).sort());
    for (const [op, def] of Object.entries(MAP_OPS)) expect(MAP_DOMAINS[op as MapOp].gens.length, op).toBe(def.arity);
  });

  for (const op of Object.keys(MAP_OPS) as MapOp[]) {
    itGpu(op, async () => {
      const { gens, scalars = [] } = MAP_DOMAINS[op];
      await fc.assert(
        fc.asyncProperty(broadcastShapesArb(Math.max(gens.length, 1)), seedArb, async (shapes, seed) => {
          const inputs = gens.map((gen, k) => input(shapes[k], gen(shapes[k], seed + k), false));
          await parity(`map ${op}`, inputs, ([x, ...rest]) => x.map(op, rest, scalars), { grad: false });
        }),
        runs(6),
      );
    });
  }
});

// ── Tensor methods, forward and backward ───────────────────────────────────

const UNARY: [string, (x: Tensor) => Tensor, Gen][] = [
  ['neg', (x) => x.neg(), uni],
  ['exp', (x) => x.exp(), (s, seed) => uniform(s, seed, -8, 8)],
  ['log', (x) => x.log(), positive],
  ['sqrt', (x) => x.sqrt(), positive],
  ['abs', (x) => x.abs(), away],
  ['relu', (x) => x.relu(), away],
  ['gelu', (x) => x.gelu(), wide],
  ['tanh', (x) => x.tanh(), wide],
  ['sigmoid', (x) => x.sigmoid(), wide],
  ['symlog', (x) => x.symlog(), wide],
  ['clamp', (x) => x.clamp(-0.5, 0.7), uni],
  ['square', (x) => x.square(), uni],
  ['addScalar', (x) => x.addScalar(0.3), uni],
  ['mulScalar', (x) => x.mulScalar(-1.7), uni],
  ['rsubScalar', (x) => x.rsubScalar(2.5), uni],
  ['rdivScalar', (x) => x.rdivScalar(1.5), away],
  ['add(number)', (x) => x.add(0.25), uni],
  ['sub(number)', (x) => x.sub(1.25), uni],
  ['mul(number)', (x) => x.mul(3), uni],
  ['div(number)', (x) => x.div(4), uni],
  ['clone', (x) => x.clone(), uni],
];

describe('unary ops and scalar forms (forward + backward)', () => {
  for (const [name, f, gen] of UNARY) {
    itGpu(name, async () => {
      await fc.assert(
        fc.asyncProperty(shapeArb(1, 4), seedArb, async (shape, seed) => {
          // Elementwise ops have elementwise gradients: no sums, so the elementwise bound holds for both.
          await parity(name, [input(shape, gen(shape, seed))], ([x]) => f(x), { tol: 'elementwise', gradTol: 'elementwise', seed });
        }),
        runs(5),
      );
    });
  }
});

const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, Gen, Gen][] = [
  ['add', (a, b) => a.add(b), uni, uni],
  ['sub', (a, b) => a.sub(b), uni, uni],
  ['mul', (a, b) => a.mul(b), uni, uni],
  ['div', (a, b) => a.div(b), uni, away],
  // Distinct grids keep maximum/minimum away from ties, where the subgradient is a convention.
  ['maximum', (a, b) => a.maximum(b), (s, seed) => grid(s, seed).map((v) => v + 0.25), grid],
  ['minimum', (a, b) => a.minimum(b), (s, seed) => grid(s, seed).map((v) => v + 0.25), grid],
];

describe('binary ops with broadcasting (forward + backward)', () => {
  for (const [name, f, genA, genB] of BINARY) {
    itGpu(name, async () => {
      await fc.assert(
        fc.asyncProperty(broadcastShapesArb(2), fc.boolean(), seedArb, async ([sa, sb], swap, seed) => {
          const [s0, s1] = swap ? [sb, sa] : [sa, sb];
          // Gradients of broadcast operands are sums over the stretched axes: norm bound.
          await parity(name, [input(s0, genA(s0, seed)), input(s1, genB(s1, seed + 1))], ([a, b]) => f(a, b), { seed });
        }),
        runs(10),
      );
    });
  }

  itGpu('where (cond, a, b all broadcast; no gradient to cond)', async () => {
    await fc.assert(
      fc.asyncProperty(broadcastShapesArb(3), fc.integer({ min: 0, max: 2 }), seedArb, async (shapes, rot, seed) => {
        const [sc, sa, sb] = [0, 1, 2].map((k) => shapes[(k + rot) % 3]);
        await parity('where', [input(sc, mask(sc, seed), false), input(sa, uni(sa, seed + 1)), input(sb, uni(sb, seed + 2))], ([c, a, b]) => Tensor.where(c, a, b), { seed });
      }),
      runs(10),
    );
  });

  itGpu('a tensor used twice accumulates its gradient (x·x + x)', async () => {
    await parity('reuse', [input([7, 37], uni([7, 37], 3))], ([x]) => x.mul(x).add(x).mul(x.exp()), { tol: 'elementwise' });
  });
});

// ── reductions ─────────────────────────────────────────────────────────────

const reduceArb = shapeArb(1, 6).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axes: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: shape.length - 1 }), { minLength: 1, maxLength: shape.length }), { nil: undefined }),
    negative: fc.boolean(),
    keepDims: fc.boolean(),
    seed: seedArb,
  }),
);

function axesOf(r: { shape: number[]; axes?: number[]; negative: boolean }): number | number[] | undefined {
  if (!r.axes) return undefined;
  const list = r.negative ? r.axes.map((a) => a - r.shape.length) : r.axes;
  return list.length === 1 ? list[0] : list;
}

describe('reductions over axes (forward + backward)', () => {
  for (const op of ['sum', 'mean', 'max'] as const) {
    itGpu(`${op} over single/multiple/non-trailing axes, keepDims, ranks 1–6`, async () => {
      await fc.assert(
        fc.asyncProperty(reduceArb, async (r) => {
          // max needs distinct values: its gradient picks the arg-max.
          const data = op === 'max' ? distinct(r.shape, r.seed) : uniform(r.shape, r.seed);
          await parity(`${op}(axes ${JSON.stringify(r.axes)}${r.negative ? ' negative' : ''}, keepDims ${r.keepDims})`, [input(r.shape, data)], ([x]) => x[op](axesOf(r), r.keepDims), {
            tol: 'norm',
            seed: r.seed,
          });
        }),
        { ...runs(20), examples: [[{ shape: [2, 3, 2, 2, 3], axes: [1, 3], negative: false, keepDims: true, seed: 5 }], [{ shape: [2, 2, 3, 1, 2, 3], axes: [5], negative: true, keepDims: false, seed: 6 }]] },
      );
    });
  }

  itGpu('more output rows than one dispatch dimension holds (65 537 rows)', async () => {
    const shape = [65537, 3];
    await parity('sum rows', [input(shape, uniform(shape, 9), false)], ([x]) => [x.sum(1), x.max(-1, true)], { grad: false, tol: 'norm' });
  });

  itGpu('one long row (70 001 elements) through the workgroup tree', async () => {
    const shape = [70001];
    await parity('sum long', [input(shape, uniform(shape, 10))], ([x]) => [x.sum(), x.max(0)], { tol: 'norm' });
  });
});

// ── matmul ─────────────────────────────────────────────────────────────────

const BATCHES = {
  '2d': [[], []],
  '3d': [[3], [3]],
  '2d@3d': [[], [3]],
  '3d@2d': [[3], []],
  '1@3': [[1], [3]],
  '3@1': [[3], [1]],
  '4d': [[2, 3], [2, 3]],
  '4d@2d': [[2, 3], []],
} as const;

const dimArb = (max: number, special: number[]) => fc.oneof(fc.integer({ min: 1, max }), fc.constantFrom(...special));
const matmulArb = fc.record({
  m: dimArb(70, [1, 63, 64, 65]),
  n: dimArb(70, [1, 63, 64, 65]),
  k: dimArb(40, [1, 15, 16, 17, 33]),
  batch: fc.constantFrom(...(Object.keys(BATCHES) as (keyof typeof BATCHES)[])),
  transA: fc.boolean(),
  transB: fc.boolean(),
  bias: fc.boolean(),
  act: fc.constantFrom('none' as const, 'relu' as const, 'gelu' as const),
  seed: seedArb,
});
type MatmulCase = typeof matmulArb extends fc.Arbitrary<infer T> ? T : never;

async function matmulParity(c: MatmulCase): Promise<void> {
  const [ba, bb] = BATCHES[c.batch];
  const sa = c.transA ? [...ba, c.k, c.m] : [...ba, c.m, c.k];
  const sb = c.transB ? [...bb, c.n, c.k] : [...bb, c.k, c.n];
  const inputs = [input(sa, uniform(sa, c.seed)), input(sb, uniform(sb, c.seed + 1))];
  if (c.bias) inputs.push(input([c.n], uniform([c.n], c.seed + 2)));
  const label = `matmul ${c.batch} ${c.m}×${c.k}×${c.n}${c.transA ? ' Aᵀ' : ''}${c.transB ? ' Bᵀ' : ''}${c.bias ? ' +bias' : ''} ${c.act}`;
  await parity(
    label,
    inputs,
    ([a, b, bias]) => (c.transA ? a.transpose() : a).matmul(c.transB ? b.transpose() : b, { bias: bias ?? null, act: c.act }),
    // 'both': without gradients the bias and activation run fused in the kernel's epilogue;
    // with them the activation is a separate op. Sums over K: norm bound.
    { grad: 'both', tol: 'norm', seed: c.seed },
  );
}

describe('matmul', () => {
  it('the shapes above reach every kernel path (split-K only for few tiles and long K)', () => {
    expect(splitKFor(1, 1500)).toBeGreaterThan(1);
    expect(splitKFor(6, 600)).toBeGreaterThan(1);
    expect(splitKFor(6, 300)).toBe(1);
    expect(splitKFor(64, 100_000)).toBe(1);
  });

  itGpu('2-D, batched, broadcast batch, transposed views, fused bias + activation, with and without grad', async () => {
    await fc.assert(
      fc.asyncProperty(matmulArb, matmulParity),
      {
        ...runs(40),
        examples: [
          [{ m: 65, n: 67, k: 17, batch: '3d', transA: true, transB: false, bias: true, act: 'relu', seed: 1 }],
          [{ m: 1, n: 130, k: 33, batch: '1@3', transA: false, transB: true, bias: true, act: 'gelu', seed: 2 }],
          [{ m: 129, n: 1, k: 1, batch: '3@1', transA: false, transB: false, bias: false, act: 'none', seed: 3 }],
          // Split-K (few output tiles, long K), with the epilogue applied by the split reducer.
          [{ m: 20, n: 17, k: 1500, batch: '2d', transA: true, transB: false, bias: true, act: 'gelu', seed: 4 }],
          [{ m: 5, n: 70, k: 600, batch: '3d', transA: false, transB: true, bias: true, act: 'relu', seed: 5 }],
          // Tiled without split: enough tiles, K past one 16-wide step many times.
          [{ m: 130, n: 66, k: 300, batch: '2d', transA: false, transB: false, bias: true, act: 'none', seed: 6 }],
        ],
      },
    );
  });
});

// ── convolution ────────────────────────────────────────────────────────────

const convArb = fc
  .record({
    n: fc.constantFrom(1, 2),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    c: fc.constantFrom(1, 2, 3, 5),
    cout: fc.constantFrom(1, 3, 4, 7),
    k: fc.constantFrom(1, 2, 3),
    stride: fc.constantFrom(1, 2),
    pad: fc.constantFrom(0, 1),
    bias: fc.boolean(),
    act: fc.constantFrom('none' as const, 'relu' as const, 'gelu' as const),
    seed: seedArb,
  })
  .filter((g) => g.h + 2 * g.pad >= g.k && g.w + 2 * g.pad >= g.k);
type ConvCase = typeof convArb extends fc.Arbitrary<infer T> ? T : never;
const convExamples: [ConvCase][] = [
  [{ n: 1, h: 7, w: 5, c: 3, cout: 7, k: 3, stride: 2, pad: 1, bias: true, act: 'relu', seed: 11 }],
  [{ n: 1, h: 6, w: 9, c: 5, cout: 7, k: 3, stride: 1, pad: 0, bias: false, act: 'none', seed: 12 }],
  [{ n: 2, h: 8, w: 8, c: 1, cout: 3, k: 2, stride: 2, pad: 0, bias: true, act: 'gelu', seed: 13 }],
];

describe('convolution (NHWC)', () => {
  itGpu('conv2d forward, input-gradient, weight-gradient (stride 1/2, pad 0/1, odd channels, batch 1)', async () => {
    await fc.assert(
      fc.asyncProperty(convArb, async (g) => {
        const xs = [g.n, g.h, g.w, g.c];
        const ws = [g.k, g.k, g.c, g.cout];
        const inputs = [input(xs, uniform(xs, g.seed)), input(ws, uniform(ws, g.seed + 1, -0.5, 0.5))];
        if (g.bias) inputs.push(input([g.cout], uniform([g.cout], g.seed + 2)));
        await parity(`conv2d ${JSON.stringify(g)}`, inputs, ([x, w, b]) => F.conv2d(x, w, b ?? null, { stride: g.stride, pad: g.pad, act: g.act }), {
          grad: 'both',
          tol: 'norm',
          seed: g.seed,
        });
      }),
      { ...runs(24), examples: convExamples },
    );
  });

  itGpu('im2col and col2im (each the other’s gradient)', async () => {
    await fc.assert(
      fc.asyncProperty(convArb, async (c) => {
        const geo = F.convGeometry([c.n, c.h, c.w, c.c], [c.k, c.k, c.c], c.stride, c.pad);
        const xs = [c.n, c.h, c.w, c.c];
        const cs = [geo.n * geo.oh * geo.ow, geo.kh * geo.kw * geo.c];
        await parity('im2col', [input(xs, uniform(xs, c.seed))], ([x]) => F.im2col(x, geo), { seed: c.seed });
        await parity('col2im', [input(cs, uniform(cs, c.seed + 1))], ([cols]) => F.col2im(cols, geo), { tol: 'norm', seed: c.seed });
      }),
      { ...runs(12), examples: convExamples },
    );
  });

  itGpu('im2col reads a strided (permuted) input view', async () => {
    const geo = F.convGeometry([2, 5, 4, 3], [3, 3, 3], 2, 1);
    // Stored as NCHW and permuted to NHWC: the kernel must honour the strides.
    await parity('im2col of view', [input([2, 3, 5, 4], uniform([2, 3, 5, 4], 21))], ([x]) => F.im2col(x.permute([0, 2, 3, 1]), geo));
  });
});

// ── softmax, losses, normalization ─────────────────────────────────────────

const axisCase = shapeArb(1, 3).chain((shape) => fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }), offset: fc.constantFrom(0, 60), seed: seedArb }));

describe('softmax, losses and normalization', () => {
  for (const [name, f] of [
    ['softmax', F.softmax],
    ['logSoftmax', F.logSoftmax],
  ] as const) {
    itGpu(`${name} over any axis, stable for large logits`, async () => {
      await fc.assert(
        fc.asyncProperty(axisCase, async (c) => {
          // +60 would overflow exp() in float32 without the max shift.
          const data = uniform(c.shape, c.seed, -6, 6).map((v) => v + c.offset);
          await parity(`${name} axis ${c.axis} offset ${c.offset}`, [input(c.shape, data)], ([x]) => f(x, c.axis), { tol: 'norm', seed: c.seed });
        }),
        runs(6),
      );
    });
  }

  const lossArb = fc.record({ n: fc.integer({ min: 1, max: 9 }), c: fc.integer({ min: 1, max: 13 }), seed: seedArb });

  itGpu('crossEntropy against one-hot targets', async () => {
    await fc.assert(
      fc.asyncProperty(lossArb, async ({ n, c, seed }) => {
        const r = prng(seed);
        const classes = Array.from({ length: n }, () => Math.floor(r() * c));
        await parity('crossEntropy', [input([n, c], uniform([n, c], seed, -4, 4))], ([logits], be) => F.crossEntropy(logits, F.oneHot(classes, c, be)), { tol: 'norm', seed });
      }),
      runs(6),
    );
  });

  itGpu('l1Loss and mseLoss (gradients to prediction and target)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(1, 3), seedArb, async (shape, seed) => {
        const pred = uniform(shape, seed);
        // Targets differ from predictions by at least 0.25, away from the kink of |·|.
        const target = pred.map((p, i) => p + awayFromZero(shape, seed + 1)[i]);
        const inputs = [input(shape, pred), input(shape, target)];
        await parity('l1Loss', inputs, ([p, t]) => F.l1Loss(p, t), { tol: 'norm', seed });
        await parity('mseLoss', inputs, ([p, t]) => F.mseLoss(p, t), { tol: 'norm', seed });
      }),
      runs(6),
    );
  });

  itGpu('layerNorm with and without affine parameters', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(1, 3), fc.boolean(), seedArb, async (shape, affine, seed) => {
        const d = shape[shape.length - 1];
        const inputs = [input(shape, uniform(shape, seed, -3, 3))];
        if (affine) inputs.push(input([d], uniform([d], seed + 1, 0.5, 1.5)), input([d], uniform([d], seed + 2)));
        await parity(`layerNorm affine=${affine}`, inputs, ([x, g, b]) => F.layerNorm(x, g ?? null, b ?? null), { tol: 'norm', seed });
      }),
      runs(8),
    );
  });

  itGpu('groupNorm over NHWC with odd group sizes', async () => {
    const arb = fc.record({
      n: fc.constantFrom(1, 2),
      h: fc.integer({ min: 1, max: 5 }),
      w: fc.integer({ min: 1, max: 5 }),
      groups: fc.constantFrom(1, 2, 3),
      perGroup: fc.constantFrom(1, 2, 3, 5),
      seed: seedArb,
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ n, h, w, groups, perGroup, seed }) => {
        const c = groups * perGroup;
        const xs = [n, h, w, c];
        const inputs = [input(xs, uniform(xs, seed, -3, 3)), input([c], uniform([c], seed + 1, 0.5, 1.5)), input([c], uniform([c], seed + 2))];
        await parity(`groupNorm [${xs}] groups ${groups}`, inputs, ([x, g, b]) => F.groupNorm(x, groups, g, b), { tol: 'norm', seed });
      }),
      runs(8),
    );
  });

  itGpu('globalNorm over several tensors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(shapeArb(1, 3), { minLength: 1, maxLength: 3 }), seedArb, async (shapes, seed) => {
        const inputs = shapes.map((s, k) => input(s, uniform(s, seed + k)));
        await parity('globalNorm', inputs, (xs) => F.globalNorm(xs), { tol: 'norm', seed });
      }),
      runs(6),
    );
  });
});

// ── layout ops ─────────────────────────────────────────────────────────────

describe('concat, slice, pad, gather and views', () => {
  itGpu('concat along any axis', async () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: 0, max: shape.length - 1 }), sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), seed: seedArb }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, axis, sizes, seed }) => {
        const shapes = sizes.map((s) => shape.map((d, i) => (i === axis ? s : d)));
        await parity(`concat axis ${axis}`, shapes.map((s, k) => input(s, uniform(s, seed + k))), (xs) => Tensor.concat(xs, axis), { seed });
      }),
      runs(8),
    );
  });

  itGpu('slice along any axis', async () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc
        .record({ axis: fc.integer({ min: 0, max: shape.length - 1 }), a: fc.nat(), b: fc.nat(), seed: seedArb })
        .map((r) => {
          const d = shape[r.axis];
          const start = r.a % d;
          return { shape, axis: r.axis, start, end: start + 1 + (r.b % (d - start)), seed: r.seed };
        }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, axis, start, end, seed }) => {
        // The slice itself is a strided view; reading it and weighting it exercise strided kernels.
        await parity(`slice axis ${axis} [${start}, ${end})`, [input(shape, uniform(shape, seed))], ([x]) => x.slice(axis, start, end), { seed });
      }),
      runs(8),
    );
  });

  itGpu('zero pad', async () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc.record({ shape: fc.constant(shape), pads: fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: shape.length, maxLength: shape.length }), seed: seedArb }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, pads, seed }) => {
        await parity(`pad ${JSON.stringify(pads)}`, [input(shape, uniform(shape, seed))], ([x]) => x.pad(pads), { seed });
      }),
      runs(8),
    );
  });

  const gatherArb = fc.record({ rows: fc.integer({ min: 1, max: 20 }), dim: dimArb(300, [1, 255, 257]), count: fc.integer({ min: 1, max: 30 }), seed: seedArb });
  type GatherCase = typeof gatherArb extends fc.Arbitrary<infer T> ? T : never;
  const indicesOf = (g: GatherCase) => {
    const r = prng(g.seed);
    // Repeats on purpose: scatter-add must sum them.
    return Float32Array.from({ length: g.count }, () => Math.floor(r() * g.rows));
  };

  itGpu('gather rows, with scatter-add as its gradient (repeated indices)', async () => {
    await fc.assert(
      fc.asyncProperty(gatherArb, async (g) => {
        const ts = [g.rows, g.dim];
        const inputs = [input(ts, uniform(ts, g.seed)), input([g.count], indicesOf(g), false)];
        await parity('gather', inputs, ([t, idx]) => t.gather(idx), { seed: g.seed, gradTol: 'norm' });
      }),
      runs(8),
    );
  });

  itGpu('gather from a row-sliced table, and with an expanded (stride-0) upstream gradient', async () => {
    await fc.assert(
      fc.asyncProperty(gatherArb, async (g) => {
        const ts = [g.rows + 3, g.dim];
        const inputs = [input(ts, uniform(ts, g.seed)), input([g.count], indicesOf(g), false)];
        await parity('gather of slice', inputs, ([t, idx]) => t.slice(0, 2, 2 + g.rows).gather(idx), { seed: g.seed });
        // sum()'s backward hands gather a broadcast view of the upstream gradient.
        await parity('sum of gather', inputs, ([t, idx]) => t.gather(idx).sum(), { seed: g.seed });
      }),
      runs(4),
    );
  });

  itGpu('gather from a transposed table', async () => {
    await parity('gather of transpose', [input([5, 7], uniform([5, 7], 31)), input([4], new Float32Array([6, 0, 6, 3]), false)], ([t, idx]) => t.transpose().gather(idx));
  });

  itGpu('reshape, permute, transpose and reshape-after-permute views', async () => {
    const arb = shapeArb(2, 4).chain((shape) => fc.record({ shape: fc.constant(shape), perm: fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }), seed: seedArb }));
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape, perm, seed }) => {
        await parity(
          `views perm [${perm}]`,
          [input(shape, uniform(shape, seed))],
          ([x]) => [x.reshape([-1]), x.permute(perm), x.permute(perm).reshape([-1]), x.transpose(0, -1), x.permute(perm).exp()],
          { seed },
        );
      }),
      runs(8),
    );
  });

  itGpu('expand (broadcast view) and its gradient', async () => {
    await fc.assert(
      fc.asyncProperty(broadcastShapesArb(2), seedArb, async ([sa, sb], seed) => {
        const target = broadcastShapes(sa, sb);
        await parity(`expand [${sb}] → [${target}]`, [input(sb, uniform(sb, seed))], ([x]) => [x.expand(target), x.expand(target).tanh().mul(2)], { seed });
      }),
      runs(8),
    );
  });
});

// ── randomness ─────────────────────────────────────────────────────────────

async function readStorage(backend: Backend, n: number, fill: (s: ReturnType<Backend['alloc']>) => void): Promise<Float32Array> {
  const s = backend.alloc(n);
  fill(s);
  const out = await backend.read({ storage: s, shape: [n], strides: [1], offset: 0 });
  backend.release(s);
  return out;
}

describe('RNG, dropout, fill', () => {
  itGpu('Tensor.random uniform is bit-identical to the CPU and to uniformAt', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3000 }), fc.oneof(seedArb, fc.constantFrom(0, 0xffffffff)), async (n, seed) => {
        const [a, b] = [gpu!, cpu].map((be) => Tensor.random([n], 'uniform', seed, be));
        const [ga, cb] = [await a.toArray(), await b.toArray()];
        a.dispose();
        b.dispose();
        expectClose(ga, cb, `uniform seed ${seed}`, 'exact');
        expectClose(ga, Float32Array.from({ length: n }, (_, i) => uniformAt(seed, 0, i)), 'uniformAt', 'exact');
        if (ga.some((v) => v < 0 || v >= 1)) throw new Error('uniform outside [0, 1)');
      }),
      runs(6),
    );
  });

  itGpu('uniform streams agree across the 2³² counter wrap', async () => {
    const counter = 0xffffff00;
    const [g, c] = await Promise.all([gpu!, cpu].map((be) => readStorage(be, 700, (s) => be.random(s, 'uniform', 77, counter))));
    expectClose(g, c, 'uniform near wrap', 'exact');
  });

  itGpu('Tensor.random normal matches the CPU closely and has unit moments', async () => {
    const n = 100_003;
    const [a, b] = [gpu!, cpu].map((be) => Tensor.random([n], 'normal', 1234, be));
    const [ga, cb] = [await a.toArray(), await b.toArray()];
    a.dispose();
    b.dispose();
    // float32 log/cos on the device vs double on the CPU: close, not bit-exact.
    expectClose(ga, cb, 'normal', 'elementwise');
    expectClose(ga.subarray(0, 5), Float32Array.from({ length: 5 }, (_, i) => normalAt(1234, 0, i)), 'normalAt');
    const mean = ga.reduce((s, v) => s + v, 0) / n;
    const variance = ga.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  itGpu('dropout draws the same mask on both backends and scales kept values', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(1, 4), fc.constantFrom(0.1, 0.5, 0.9), seedArb, fc.nat(), async (shape, p, seed, counter) => {
        const inputs = [input(shape, awayFromZero(shape, seed))];
        const fn: OpFn = ([x]) => x.dropout(p, seed, counter);
        const want = await evaluate(cpu, inputs, fn, { grad: true, seed });
        const got = await evaluate(gpu!, inputs, fn, { grad: true, seed });
        const dropped = (a: Float32Array) => Array.from(a, (v) => (v === 0 ? 1 : 0)).join('');
        if (dropped(got.outputs[0]) !== dropped(want.outputs[0])) throw new Error(`dropout p=${p}: masks differ`);
        expectClose(got.outputs[0], want.outputs[0], 'dropout output');
        expectClose(got.grads[0]!, want.grads[0]!, 'dropout gradient');
        const x = inputs[0].data;
        want.outputs[0].forEach((v, i) => {
          if (v !== 0 && Math.abs(v - x[i] / (1 - p)) > 1e-4 * Math.abs(v)) throw new Error('kept value not scaled by 1/(1−p)');
        });
      }),
      runs(6),
    );
  });

  itGpu('fill writes every element, bit for bit', async () => {
    for (const value of [0, -0, 1, -1.5, 3.4e38, -7.25e-3]) {
      for (const n of [1, 255, 256, 257, 1000]) {
        const [a, b] = [gpu!, cpu].map((be) => Tensor.full([n], value, be));
        const [ga, cb] = [await a.toArray(), await b.toArray()];
        a.dispose();
        b.dispose();
        expectClose(ga, cb, `fill ${value} × ${n}`, 'exact');
      }
    }
  });
});

// ── optimizer ──────────────────────────────────────────────────────────────

async function adamwRun(backend: Backend, shapes: number[][], steps: number, clipNorm: number, seed: number): Promise<Float32Array[]> {
  const params = shapes.map((s, k) => keep(Tensor.fromArray(uniform(s, seed + k), s, backend)).trainable());
  const opt = new AdamW(params, { lr: 0.05, weightDecay: 0.1, clipNorm });
  try {
    for (let step = 0; step < steps; step++) {
      tidy(() => {
        // A loss whose gradient changes with the parameters, so each step sees new gradients.
        let loss: Tensor | null = null;
        params.forEach((p, k) => {
          const term = p.mul(Tensor.fromArray(uniform(p.shape, seed + 100 + k), p.shape, backend)).sum().add(p.square().sum().mulScalar(0.5 * (k + 1)));
          loss = loss ? loss.add(term) : term;
        });
        loss!.backward();
      });
      opt.step();
    }
    const out: Float32Array[] = [];
    for (const p of params) out.push(await p.toArray());
    return out;
  } finally {
    opt.dispose();
    for (const p of params) p.dispose();
  }
}

describe('AdamW', () => {
  itGpu('one and several fused steps, clipNorm off / active / inactive', async () => {
    const arb = fc.record({
      shapes: fc.array(shapeArb(1, 3), { minLength: 1, maxLength: 3 }),
      steps: fc.constantFrom(1, 2, 5),
      // 0: off; 0.5: the gradient norm is far above it (clips); 1e6: never clips.
      clipNorm: fc.constantFrom(0, 0.5, 1e6),
      seed: seedArb,
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ shapes, steps, clipNorm, seed }) => {
        const before = gpu!.memory().inUseBytes;
        const want = await adamwRun(cpu, shapes, steps, clipNorm, seed);
        const got = await adamwRun(gpu!, shapes, steps, clipNorm, seed);
        // Each step is elementwise per parameter; only the clip factor is a reduction.
        want.forEach((w, k) => expectClose(got[k], w, `AdamW param ${k} after ${steps} steps, clipNorm ${clipNorm}`));
        if (gpu!.memory().inUseBytes !== before) throw new Error('AdamW leaked device memory');
      }),
      { ...runs(8), examples: [[{ shapes: [[3, 257], [5]], steps: 5, clipNorm: 0.5, seed: 41 }]] },
    );
  });

  for (const [name, clipNorm] of [
    ['cpu', 0],
    ['cpu', 0.5],
    ['webgpu', 0],
    ['webgpu', 0.5],
  ] as const) {
    (name === 'webgpu' ? itGpu : it)(`one step on ${name} with clipNorm ${clipNorm} matches the AdamW formula`, async () => {
      const backend = name === 'webgpu' ? gpu! : cpu;
      const n = 300;
      const p0 = uniform([n], 51);
      const g = uniform([n], 52);
      const o = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 0.1, weightDecay: 0.1 };
      const p = keep(Tensor.fromArray(p0, [n], backend)).trainable();
      const opt = new AdamW([p], { ...o, clipNorm });
      // loss = Σ g ⊙ p, so p.grad = g exactly.
      tidy(() => p.mul(Tensor.fromArray(g, [n], backend)).sum().backward());
      opt.step();
      const got = await p.toArray();
      opt.dispose();
      p.dispose();
      // One step from m = v = 0: m̂ = s·g and √v̂ = s·|g|, with s = min(1, clip / ‖g‖).
      // A large eps keeps the scale s visible in the update s·g / (s·|g| + eps).
      const norm = Math.hypot(...g);
      expect(clipNorm === 0 || norm > clipNorm * 2).toBe(true);
      const s = clipNorm > 0 ? Math.min(1, clipNorm / norm) : 1;
      const want = p0.map((pi, i) => pi - o.lr * ((s * g[i]) / (s * Math.abs(g[i]) + o.eps) + o.weightDecay * pi));
      expectClose(got, want, `AdamW step on ${name}, clipNorm ${clipNorm}`);
    });
  }
});

// ── attention ──────────────────────────────────────────────────────────────

async function attentionRun(backend: Backend, state: Record<string, { shape: number[]; data: Float32Array }> | null, c: { b: number; t: number; heads: number; hd: number; masked: boolean; seed: number }) {
  const d = c.heads * c.hd;
  const attn = new nn.MultiHeadAttention(d, c.heads, { seed: c.seed, backend });
  if (state) attn.loadStateDict(state);
  const x = keep(Tensor.fromArray(uniform([c.b, c.t, d], c.seed), [c.b, c.t, d], backend)).trainable();
  try {
    const y = tidy(() => {
      let mask: Tensor | null = null;
      if (c.masked) {
        // Causal additive mask: −1e4 above the diagonal.
        const m = new Float32Array(c.t * c.t).map((_, i) => (i % c.t > Math.floor(i / c.t) ? -1e4 : 0));
        mask = Tensor.fromArray(m, [c.t, c.t], backend);
      }
      const out = attn.forward(x, mask);
      out.mul(Tensor.fromArray(uniform(out.shape, c.seed + 9, -1, 1), out.shape, backend)).sum().backward();
      return out;
    });
    const out = await y.toArray();
    y.dispose();
    const grads = [await x.grad!.toArray()];
    for (const p of attn.parameters()) grads.push(await p.grad!.toArray());
    return { out, grads, state: await attn.stateDict() };
  } finally {
    x.dispose();
    attn.dispose();
  }
}

describe('MultiHeadAttention', () => {
  itGpu('forward and backward (input and every parameter), with and without a causal mask', async () => {
    const arb = fc.record({ b: fc.constantFrom(1, 2), t: fc.integer({ min: 1, max: 9 }), heads: fc.constantFrom(1, 2, 3), hd: fc.integer({ min: 1, max: 5 }), masked: fc.boolean(), seed: seedArb });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const before = gpu!.memory().inUseBytes;
        const want = await attentionRun(cpu, null, c);
        // Same weights on the device: load the CPU module's state dict.
        const got = await attentionRun(gpu!, want.state, c);
        expectClose(got.out, want.out, `attention ${JSON.stringify(c)} output`, 'norm');
        want.grads.forEach((w, k) => expectClose(got.grads[k], w, `attention ${JSON.stringify(c)} gradient ${k}`, 'norm'));
        if (gpu!.memory().inUseBytes !== before) throw new Error('attention leaked device memory');
      }),
      { ...runs(10), examples: [[{ b: 2, t: 7, heads: 3, hd: 3, masked: true, seed: 3 }]] },
    );
  });
});

// ── a grid too large for one dispatch dimension ────────────────────────────

describe('dispatch grid folding', () => {
  itGpu('elementwise kernels past 65 535 workgroups (2-D grid) write every element', async () => {
    const n = 65536 * 256 + 3;
    const t = tidy(() => Tensor.full([n], 1.5, gpu!).addScalar(2));
    const values = await t.toArray();
    t.dispose();
    expect(values.length).toBe(n);
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (values[i] !== 3.5) bad = i;
    expect(bad).toBe(-1);
  });
});
