// The CPU backend's matmul works in blocks of four rows by two columns. That changes which
// products it computes together, not the order each sum adds them in,
// so it must equal the textbook loop (one row, k in order, accumulated in the
// backend's precision) bit for bit: any reordering or a wider accumulator
// would show here as a last-bit difference.
import { describe, expect, it } from 'vitest';
import { CpuBackend, MAP_OPS, type View } from '../../kernels/index.ts';
import { numel, uniform } from './helpers.ts';

type Precision = 'f32' | 'f64';

/** out[b] = act(a[b] @ b[b] + bias), one output row at a time, from plain row-major arrays. */
function textbook(A: Float64Array | Float32Array, Bm: Float64Array | Float32Array, B: number, M: number, K: number, N: number, precision: Precision, bias: Float32Array | null, act: (x: number) => number): Float32Array {
  const Arr = precision === 'f64' ? Float64Array : Float32Array;
  const out = new Arr(B * M * N);
  const row = new Arr(N);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) row[j] += A[(b * M + i) * K + k] * Bm[(b * K + k) * N + j];
      for (let j = 0; j < N; j++) out[(b * M + i) * N + j] = act(row[j] + (bias ? bias[j] : 0));
    }
  return Float32Array.from(out);
}

function dense(backend: CpuBackend, values: Float32Array, shape: number[]): View {
  const storage = backend.alloc(values.length);
  backend.write(storage, values);
  const strides = shape.map((_, i) => numel(shape.slice(i + 1)));
  return { storage, shape, strides, offset: 0 };
}

describe('CPU matmul (blocks of four rows by two columns)', () => {
  // M from 1 to 9 covers no full block, one block plus a remainder, and two blocks exactly.
  const cases: [number, number, number, number][] = [
    [1, 1, 5, 3],
    [1, 3, 27, 16],
    [2, 4, 7, 5],
    [3, 9, 33, 17],
    [1, 8, 64, 1],
  ];
  for (const precision of ['f32', 'f64'] as const)
    for (const [B, M, K, N] of cases)
      it(`[${B}, ${M}, ${K}] @ [${B}, ${K}, ${N}] in ${precision}, with bias and gelu, equals the one-row loop bit for bit`, async () => {
        const cpu = new CpuBackend({ precision });
        const a = uniform([B, M, K], 1 + M * K);
        const b = uniform([B, K, N], 2 + K * N);
        const bias = uniform([N], 3 + N);
        const out = cpu.alloc(B * M * N);
        cpu.matmul(out, dense(cpu, a, [B, M, K]), dense(cpu, b, [B, K, N]), { bias: dense(cpu, bias, [N]), act: 'gelu' });
        const got = await cpu.read({ storage: out, shape: [B * M * N], strides: [1], offset: 0 });
        const Arr = precision === 'f64' ? Float64Array : Float32Array;
        const want = textbook(Arr.from(a), Arr.from(b), B, M, K, N, precision, bias, MAP_OPS.gelu.cpu as (x: number) => number);
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      });

  it('reads a transposed (strided) and offset view of B as the matrix it shows', async () => {
    const cpu = new CpuBackend();
    const [M, K, N] = [6, 5, 7];
    const a = uniform([1, M, K], 11);
    // Storage holds 3 padding values, then Bᵀ as [N, K]; the view reads it as B [K, N].
    const bt = uniform([N * K + 3], 12);
    const storage = cpu.alloc(bt.length);
    cpu.write(storage, bt);
    const bView: View = { storage, shape: [1, K, N], strides: [0, 1, K], offset: 3 };
    const out = cpu.alloc(M * N);
    cpu.matmul(out, dense(cpu, a, [1, M, K]), bView);
    const b = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) b[k * N + j] = bt[3 + j * K + k];
    const got = await cpu.read({ storage: out, shape: [M * N], strides: [1], offset: 0 });
    const want = textbook(a, b, 1, M, K, N, 'f32', null, (x) => x);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('an output that shares its storage with an input is computed from the input as it was', async () => {
    const cpu = new CpuBackend();
    // A [8, 4] in the first half of a 64-element storage, the [8, 8] product written over all of it:
    // the first four output rows cover all of A, so reading A in place would see it overwritten.
    const [M, K, N] = [8, 4, 8];
    const a = uniform([M * K], 21);
    const b = uniform([1, K, N], 22);
    const storage = cpu.alloc(M * N);
    const init = new Float32Array(M * N);
    init.set(a);
    cpu.write(storage, init);
    cpu.matmul(storage, { storage, shape: [1, M, K], strides: [0, K, 1], offset: 0 }, dense(cpu, b, [1, K, N]));
    const got = await cpu.read({ storage, shape: [M * N], strides: [1], offset: 0 });
    const want = textbook(a, b, 1, M, K, N, 'f32', null, (x) => x);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });
});
