// Every matmul kernel the autotuner may pick, forced in turn, against the CPU
// reference: forward (fused bias + activation) and backward (whose matmuls
// read transposed views, so every operand layout is exercised), on shapes
// that do and do not divide the tiles, with and without vec4 alignment, and
// with split-K.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend, F, Tensor } from '../../kernels/index.ts';
import { WebGpuBackend } from '../../kernels/webgpu/WebGpuBackend.ts';
import { expectParity, gpuBackendForTests, runs, seedArb, uniform, type InputSpec } from './helpers.ts';

const created = await gpuBackendForTests();
const gpu = (created?.backend as WebGpuBackend | undefined) ?? null;
const cpu = new CpuBackend({ poison: true });
afterAll(() => {
  gpu?.forceMatmul(null);
  gpu?.forceConv(null);
  created?.dispose();
});
const itGpu = it.skipIf(!gpu);

const input = (shape: readonly number[], data: Float32Array): InputSpec => ({ shape, data, grad: true });

interface Case {
  batch: 0 | 1 | 3;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  act: 'none' | 'relu' | 'gelu';
  seed: number;
}

async function matmulCase(label: string, c: Case): Promise<void> {
  const ba = c.batch ? [c.batch] : [];
  // Batch 3 on A only: B broadcasts (stride 0), as a linear layer on tokens does.
  const sa = c.transA ? [...ba, c.k, c.m] : [...ba, c.m, c.k];
  const sb = c.transB ? [c.n, c.k] : [c.k, c.n];
  const inputs = [input(sa, uniform(sa, c.seed)), input(sb, uniform(sb, c.seed + 1))];
  if (c.bias) inputs.push(input([c.n], uniform([c.n], c.seed + 2)));
  await expectParity(
    cpu,
    gpu!,
    `${label} ${c.batch}×${c.m}×${c.k}×${c.n}${c.transA ? ' Aᵀ' : ''}${c.transB ? ' Bᵀ' : ''}${c.bias ? ' +bias' : ''} ${c.act}`,
    inputs,
    // A transposed view of a 3-D tensor goes through matmul's batched path; a plain one folds into M.
    ([a, b, bias]) => (c.transA ? a.transpose() : a).matmul(c.transB ? b.transpose() : b, { bias: bias ?? null, act: c.act }),
    { grad: 'both', tol: 'norm', seed: c.seed },
  );
}

const dim = (max: number, special: number[]) => fc.oneof(fc.integer({ min: 1, max }), fc.constantFrom(...special));
const caseArb: fc.Arbitrary<Case> = fc.record({
  batch: fc.constantFrom(0 as const, 1 as const, 3 as const),
  m: dim(90, [4, 16, 64, 65, 129]),
  n: dim(90, [4, 16, 64, 67]),
  k: dim(70, [4, 32, 33, 64]),
  transA: fc.boolean(),
  transB: fc.boolean(),
  bias: fc.boolean(),
  act: fc.constantFrom('none' as const, 'relu' as const, 'gelu' as const),
  seed: seedArb,
});

describe('matmul variants (each forced) match the CPU reference', () => {
  itGpu('the candidate set holds the default, the gemv path and tiled kernels in several shapes', () => {
    const ids = gpu!.matmulVariants();
    expect(ids).toContain('d64');
    expect(ids).toContain('small');
    expect(ids.filter((id) => id.endsWith('LV')).length).toBeGreaterThan(3);
    expect(new Set(ids).size).toBe(ids.length);
  });

  const ids = gpu?.matmulVariants() ?? [];
  for (const id of ids) {
    itGpu(`${id}: aligned (vec4) and ragged shapes, transposes, broadcast batch, split-K`, async () => {
      gpu!.forceMatmul(id);
      try {
        // Fixed cases: vec4-aligned dims, then ragged ones; split-K on the tiled kernels.
        await matmulCase(id, { batch: 0, m: 68, n: 36, k: 64, transA: false, transB: true, bias: true, act: 'gelu', seed: 3 });
        await matmulCase(id, { batch: 3, m: 33, n: 17, k: 45, transA: true, transB: false, bias: true, act: 'relu', seed: 4 });
        if (id !== 'small') {
          gpu!.forceMatmul(`${id}/s3`);
          await matmulCase(`${id}/s3`, { batch: 1, m: 20, n: 12, k: 200, transA: true, transB: true, bias: true, act: 'gelu', seed: 5 });
          gpu!.forceMatmul(id);
        }
        await fc.assert(fc.asyncProperty(caseArb, (c) => matmulCase(id, c)), runs(2));
      } finally {
        gpu!.forceMatmul(null);
      }
    });
  }

  itGpu('an unknown variant id is refused with the list of known ones', () => {
    expect(() => gpu!.forceMatmul('nope')).toThrow(/unknown matmul variant 'nope'.*d64/);
  });

  itGpu('forcing reports the forced kernel, null returns to tuned/default selection', () => {
    const a = Tensor.zeros([8, 8], gpu!);
    const b = Tensor.zeros([8, 8], gpu!);
    const as3 = (t: Tensor) => ({ storage: t.storage, shape: [1, 8, 8], strides: [0, 8, 1], offset: 0 });
    gpu!.forceMatmul('32x32r4x4k16LV/s2');
    expect(gpu!.matmulChoiceFor(as3(a), as3(b)).choice).toBe('32x32r4x4k16LV/s2');
    gpu!.forceMatmul(null);
    expect(gpu!.matmulChoiceFor(as3(a), as3(b)).choice).not.toBe('32x32r4x4k16LV/s2');
    a.dispose();
    b.dispose();
  });
});

interface ConvCase {
  n: number;
  h: number;
  w: number;
  c: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  bias: boolean;
  act: 'none' | 'relu' | 'gelu';
  seed: number;
}

async function convCase(label: string, g: ConvCase, permuted = false): Promise<void> {
  const xs = permuted ? [g.n, g.c, g.h, g.w] : [g.n, g.h, g.w, g.c];
  const ws = [g.k, g.k, g.c, g.cout];
  const inputs = [input(xs, uniform(xs, g.seed)), input(ws, uniform(ws, g.seed + 1, -0.5, 0.5))];
  if (g.bias) inputs.push(input([g.cout], uniform([g.cout], g.seed + 2)));
  await expectParity(
    cpu,
    gpu!,
    `${label} conv ${JSON.stringify(g)}${permuted ? ' (NCHW storage, permuted view)' : ''}`,
    inputs,
    ([x, w, b]) => F.conv2d(permuted ? x.permute([0, 2, 3, 1]) : x, w, b ?? null, { stride: g.stride, pad: g.pad, act: g.act }),
    { grad: 'both', tol: 'norm', seed: g.seed },
  );
}

describe('convolution variants (each forced: im2col + matmul, implicit GEMM) match the CPU reference', () => {
  itGpu('the candidate set holds im2col and implicit-GEMM kernels', () => {
    const ids = gpu!.convVariants();
    expect(ids[0]).toBe('im2col');
    expect(ids.length).toBeGreaterThan(4);
    expect(() => gpu!.forceConv('nope')).toThrow(/unknown conv variant/);
  });

  for (const id of gpu?.convVariants() ?? []) {
    itGpu(`${id}: forward, input gradient, weight gradient (strides, padding, odd channels, split-K)`, async () => {
      gpu!.forceConv(id);
      try {
        await convCase(id, { n: 2, h: 7, w: 5, c: 3, cout: 8, k: 3, stride: 2, pad: 1, bias: true, act: 'relu', seed: 31 });
        await convCase(id, { n: 1, h: 6, w: 6, c: 4, cout: 5, k: 2, stride: 1, pad: 0, bias: false, act: 'gelu', seed: 32 }, true);
        await convCase(id, { n: 3, h: 8, w: 8, c: 3, cout: 4, k: 4, stride: 4, pad: 0, bias: true, act: 'none', seed: 33 });
        if (id !== 'im2col') {
          gpu!.forceConv(`${id}/s3`);
          await convCase(`${id}/s3`, { n: 2, h: 9, w: 9, c: 5, cout: 7, k: 3, stride: 1, pad: 1, bias: true, act: 'gelu', seed: 34 });
        }
      } finally {
        gpu!.forceConv(null);
      }
    });
  }
});
