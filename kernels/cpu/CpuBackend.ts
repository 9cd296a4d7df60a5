// The CPU reference backend: every primitive on typed arrays, written to be
// read. It is the fallback when no adapter exists and the oracle the WebGPU
// kernels are tested against. With precision 'f64' it runs in double, which
// makes finite-difference gradient checks meaningful.
import type { AdamWHyper, Backend, ConvGeometry, MatmulOptions, MemoryStats, NormGeometry, Storage, View } from '../backend.ts';
import { MAP_OPS, type MapOp } from '../ops.ts';
import { normalAt, uniformAt } from '../rng.ts';
import { numel } from '../shape.ts';

type Data = Float32Array | Float64Array;

export class CpuStorage implements Storage {
  refs = 1;
  constructor(readonly data: Data) {}
  get length(): number {
    return this.data.length;
  }
}

const data = (s: Storage): Data => (s as CpuStorage).data;

/**
 * Calls fn(starts, n, steps) once per innermost row of `shape`, in row-major
 * order: starts[k] is view k's index of the row's first element, steps[k] its
 * stride along the row. Elementwise loops then run a plain loop per row
 * instead of a call and an index update per element.
 */
function forEachRow(shape: readonly number[], views: readonly { strides: readonly number[]; offset: number }[], fn: (starts: number[], n: number, steps: number[]) => void): void {
  const rank = shape.length;
  const n = rank ? shape[rank - 1] : 1;
  const steps = views.map((v) => (rank ? v.strides[rank - 1] : 0));
  const idx = views.map((v) => v.offset);
  if (n === 0 || shape.some((d) => d === 0)) return;
  const rows = numel(shape) / n;
  const coord = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let r = 0; r < rows; r++) {
    fn(idx, n, steps);
    for (let d = rank - 2; d >= 0; d--) {
      coord[d]++;
      for (let k = 0; k < views.length; k++) idx[k] += views[k].strides[d];
      if (coord[d] < shape[d]) break;
      for (let k = 0; k < views.length; k++) idx[k] -= views[k].strides[d] * shape[d];
      coord[d] = 0;
    }
  }
}

function isDense(v: { shape: readonly number[]; strides: readonly number[] }): boolean {
  let expect = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    if (v.shape[i] !== 1 && v.strides[i] !== expect) return false;
    expect *= v.shape[i];
  }
  return true;
}

/** A view's elements in row-major order, for reading only: a dense view is its storage's own memory, not a copy. */
function readDense(v: View): Data {
  return isDense(v) ? data(v.storage).subarray(v.offset, v.offset + numel(v.shape)) : dense(v);
}

function dense(v: View): Data {
  const src = data(v.storage);
  if (isDense(v)) return src.slice(v.offset, v.offset + numel(v.shape));
  const out = new (src.constructor as { new (n: number): Data })(numel(v.shape));
  let j = 0;
  forEachRow(v.shape, [v], ([start], n, [step]) => {
    for (let i = 0; i < n; i++) out[j++] = src[start + i * step];
  });
  return out;
}

/** Rows, window length and output channels of a convolution with weight view w [KH, KW, C, Cout]. */
export function convSizes(g: ConvGeometry, w: View): { rows: number; window: number; cout: number } {
  return { rows: g.n * g.oh * g.ow, window: g.kh * g.kw * g.c, cout: w.shape[3] };
}

/** A dense (row-major, any offset) weight [KH, KW, C, Cout] as the matrix [1, KH·KW·C, Cout]. */
export function weightAsMatrix(w: View, window: number, cout: number): View {
  const [, kw, c] = w.shape;
  const dense = [kw * c * cout, c * cout, cout, 1];
  if (w.shape.some((d, i) => d > 1 && w.strides[i] !== dense[i])) throw new Error('conv2d: the weight must be a dense [KH, KW, C, Cout] tensor');
  return { storage: w.storage, shape: [1, window, cout], strides: [0, cout, 1], offset: w.offset };
}

/**
 * Every (patch-matrix element, input element) pair of an NHWC convolution:
 * `col` indexes the [N·OH·OW, KH·KW·C] patch matrix, `pixel` the input, or
 * −1 where the tap falls in the zero padding. im2col reads along it, col2im
 * accumulates back along it.
 */
function forEachTap(g: ConvGeometry, fn: (col: number, pixel: number) => void): void {
  const cols = g.kh * g.kw * g.c;
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        const row = ((n * g.oh + oy) * g.ow + ox) * cols;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.stride - g.pad + ky;
            const ix = ox * g.stride - g.pad + kx;
            const inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
            const base = ((n * g.h + iy) * g.w + ix) * g.c;
            for (let c = 0; c < g.c; c++) fn(row + (ky * g.kw + kx) * g.c + c, inside ? base + c : -1);
          }
      }
}

/** Calls fn with each normalization group's index (a·G + g) and its elements' dense offsets. */
function forEachNormGroup(geo: NormGeometry, fn: (group: number, at: number[]) => void): void {
  const at = new Array<number>(geo.b * geo.k);
  for (let a = 0; a < geo.a; a++)
    for (let g = 0; g < geo.g; g++) {
      for (let b = 0; b < geo.b; b++) for (let k = 0; k < geo.k; k++) at[b * geo.k + k] = ((a * geo.b + b) * geo.g + g) * geo.k + k;
      fn(a * geo.g + g, at);
    }
}

const ACT: Record<string, (x: number) => number> = {
  none: (x) => x,
  relu: MAP_OPS.relu.cpu as (x: number) => number,
  gelu: MAP_OPS.gelu.cpu as (x: number) => number,
};

/** One row of an elementwise op: out[starts[0] + i·steps[0]] = f(input k at starts[k+1] + i·steps[k+1]). */
type RowLoop = (o: Data, ins: Data[], starts: readonly number[], n: number, steps: readonly number[], f: (a: number, b: number, c: number, s: readonly number[]) => number, s: readonly number[]) => void;

const genericRow: RowLoop = (o, [a, b, c], [io, ia, ib, ic], n, [so, sa, sb, sc], f, s) => {
  for (let i = 0; i < n; i++) o[io + i * so] = f(a ? a[ia + i * sa] : 0, b ? b[ib + i * sb] : 0, c ? c[ic + i * sc] : 0, s);
};

// The ops training spends its elementwise time in (copies of strided views, the arithmetic of
// gradients and AdamW), each its own loop: one shared loop calling a different op per element
// cannot be inlined by the JIT and ran at a fraction of the speed. Same arithmetic, same results.
const ROWS: Partial<Record<MapOp, RowLoop>> = {
  copy: (o, [a], [io, ia], n, [so, sa]) => {
    for (let i = 0; i < n; i++) o[io + i * so] = a[ia + i * sa];
  },
  add: (o, [a, b], [io, ia, ib], n, [so, sa, sb]) => {
    for (let i = 0; i < n; i++) o[io + i * so] = a[ia + i * sa] + b[ib + i * sb];
  },
  sub: (o, [a, b], [io, ia, ib], n, [so, sa, sb]) => {
    for (let i = 0; i < n; i++) o[io + i * so] = a[ia + i * sa] - b[ib + i * sb];
  },
  mul: (o, [a, b], [io, ia, ib], n, [so, sa, sb]) => {
    for (let i = 0; i < n; i++) o[io + i * so] = a[ia + i * sa] * b[ib + i * sb];
  },
  div: (o, [a, b], [io, ia, ib], n, [so, sa, sb]) => {
    for (let i = 0; i < n; i++) o[io + i * so] = a[ia + i * sa] / b[ib + i * sb];
  },
};

/**
 * One [M, K] @ [K, N] product from A (row-major, at aOff) and Bᵀ (row-major [N, K], at bOff) into o:
 * four rows by two columns at a time, eight sums held in locals, so each element read serves
 * several sums (training spends most of its CPU time here). Every sum adds its products in k
 * order and is rounded to the backend's precision after each addition (`round`), exactly as
 * a typed-array accumulator would: the result is the textbook loop's, bit for bit
 * (tests/kernels/cpuMatmul.test.ts).
 */
function matmulBlock(A: Data, aOff: number, Bt: Data, bOff: number, o: Data, oOff: number, M: number, K: number, N: number, bias: Data | null, act: (x: number) => number, round: (x: number) => number): void {
  const dot = (ai: number, bj: number) => {
    let s = 0;
    for (let k = 0; k < K; k++) s = round(s + A[ai + k] * Bt[bj + k]);
    return s;
  };
  const put = (i: number, j: number, s: number) => {
    o[oOff + i * N + j] = act(s + (bias ? bias[j] : 0));
  };
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = aOff + i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    let j = 0;
    for (; j + 2 <= N; j += 2) {
      const b0 = bOff + j * K;
      const b1 = b0 + K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k];
        const x1 = A[a1 + k];
        const x2 = A[a2 + k];
        const x3 = A[a3 + k];
        const w0 = Bt[b0 + k];
        const w1 = Bt[b1 + k];
        s00 = round(s00 + x0 * w0);
        s01 = round(s01 + x0 * w1);
        s10 = round(s10 + x1 * w0);
        s11 = round(s11 + x1 * w1);
        s20 = round(s20 + x2 * w0);
        s21 = round(s21 + x2 * w1);
        s30 = round(s30 + x3 * w0);
        s31 = round(s31 + x3 * w1);
      }
      put(i, j, s00);
      put(i, j + 1, s01);
      put(i + 1, j, s10);
      put(i + 1, j + 1, s11);
      put(i + 2, j, s20);
      put(i + 2, j + 1, s21);
      put(i + 3, j, s30);
      put(i + 3, j + 1, s31);
    }
    for (; j < N; j++) for (let r = 0; r < 4; r++) put(i + r, j, dot(a0 + r * K, bOff + j * K));
  }
  for (; i < M; i++) for (let j = 0; j < N; j++) put(i, j, dot(aOff + i * K, bOff + j * K));
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  private readonly Array: { new (n: number): Data };
  /** A number as the backend stores it: rounded to f32, or kept in f64. */
  private readonly round: (x: number) => number;
  private inUse = 0;
  constructor(private readonly options: { precision?: 'f32' | 'f64'; poison?: boolean } = {}) {
    this.Array = options.precision === 'f64' ? Float64Array : Float32Array;
    this.round = options.precision === 'f64' ? (x) => x : Math.fround;
  }

  alloc(length: number): Storage {
    const s = new CpuStorage(new this.Array(length));
    if (this.options.poison) s.data.fill(NaN);
    this.inUse += length * s.data.BYTES_PER_ELEMENT;
    return s;
  }
  release(storage: Storage): void {
    this.inUse -= storage.length * data(storage).BYTES_PER_ELEMENT;
  }
  write(storage: Storage, values: Float32Array | Float64Array): void {
    data(storage).set(values);
  }
  read(view: View): Promise<Float32Array> {
    return this.readLater(view)();
  }
  readLater(view: View): () => Promise<Float32Array> {
    const values = Float32Array.from(dense(view));
    return async () => values;
  }
  fill(storage: Storage, value: number): void {
    data(storage).fill(value);
  }

  map(op: MapOp, out: View, inputs: View[], scalars: readonly number[] = []): void {
    const f = MAP_OPS[op].cpu as (a: number, b: number, c: number, s: readonly number[]) => number;
    const o = data(out.storage);
    const ins = inputs.map((v) => data(v.storage));
    const s = scalars.map(this.round);
    const row = ROWS[op] ?? genericRow;
    const views = [out, ...inputs];
    // Every view dense: one row over all elements; otherwise one row per innermost axis.
    if (views.every(isDense)) row(o, ins, views.map((v) => v.offset), numel(out.shape), views.map(() => 1), f, s);
    else forEachRow(out.shape, views, (starts, n, steps) => row(o, ins, starts, n, steps, f, s));
  }

  reduce(op: 'sum' | 'max', out: Storage, input: View, reduceRank: number): void {
    const x = dense(input);
    const inner = numel(input.shape.slice(input.shape.length - reduceRank));
    const outer = x.length / Math.max(inner, 1);
    const o = data(out);
    for (let r = 0; r < outer; r++) {
      let acc = op === 'sum' ? 0 : -Infinity;
      for (let c = 0; c < inner; c++) {
        const v = x[r * inner + c];
        acc = op === 'sum' ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
      }
      o[r] = acc;
    }
  }

  normalize(y: Storage, rstd: Storage, x: View, geo: NormGeometry, eps: number): void {
    const X = dense(x);
    const Y = data(y);
    const R = data(rstd);
    forEachNormGroup(geo, (grp, at) => {
      let sum = 0;
      for (const i of at) sum += X[i];
      const mean = sum / at.length;
      let sq = 0;
      for (const i of at) sq += (X[i] - mean) ** 2;
      const r = 1 / Math.sqrt(sq / at.length + eps);
      for (const i of at) Y[i] = (X[i] - mean) * r;
      R[grp] = r;
    });
  }

  normalizeBackward(dx: Storage, dy: View, y: View, rstd: Storage, geo: NormGeometry): void {
    const G = dense(dy);
    const Y = dense(y);
    const R = data(rstd);
    const D = data(dx);
    forEachNormGroup(geo, (grp, at) => {
      let s1 = 0;
      let s2 = 0;
      for (const i of at) {
        s1 += G[i];
        s2 += G[i] * Y[i];
      }
      const m1 = s1 / at.length;
      const m2 = s2 / at.length;
      for (const i of at) D[i] = R[grp] * (G[i] - m1 - Y[i] * m2);
    });
  }

  matmul(out: Storage, a: View, b: View, options: MatmulOptions = {}): void {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    // Inputs are read in place; an output that shares their storage gets copies instead.
    const read = (v: View) => (v.storage === out ? dense(v) : readDense(v));
    const A = read(a);
    // B's columns as rows (Bᵀ, [B, N, K]), so every dot product walks both operands contiguously: a
    // transposed view (the gradients') is read in place, a plain one is copied once (K·N, small).
    const Bt = read({ storage: b.storage, shape: [B, N, K], strides: [b.strides[0], b.strides[2], b.strides[1]], offset: b.offset });
    const o = data(out);
    const bias = options.bias ? read(options.bias) : null;
    const act = ACT[options.act ?? 'none'];
    for (let bi = 0; bi < B; bi++) matmulBlock(A, bi * M * K, Bt, bi * N * K, o, bi * M * N, M, K, N, bias, act, this.round);
  }

  im2col(out: Storage, input: View, g: ConvGeometry): void {
    const x = dense(input);
    const o = data(out);
    forEachTap(g, (col, pixel) => (o[col] = pixel < 0 ? 0 : x[pixel]));
  }

  col2im(out: Storage, colsView: View, g: ConvGeometry): void {
    const d = dense(colsView);
    const o = data(out);
    o.fill(0);
    forEachTap(g, (col, pixel) => {
      if (pixel >= 0) o[pixel] += d[col];
    });
  }


  // Convolutions as im2col + matmul (+ col2im), through temporary storage.
  conv2d(out: Storage, x: View, w: View, g: ConvGeometry, options: MatmulOptions = {}): void {
    const { rows, window, cout } = convSizes(g, w);
    const cols = this.alloc(rows * window);
    this.im2col(cols, x, g);
    this.matmul(out, { storage: cols, shape: [1, rows, window], strides: [0, window, 1], offset: 0 }, weightAsMatrix(w, window, cout), options);
    this.release(cols);
  }

  conv2dBackwardInput(out: Storage, grad: View, w: View, g: ConvGeometry): void {
    const { rows, window, cout } = convSizes(g, w);
    const cols = this.alloc(rows * window);
    const wm = weightAsMatrix(w, window, cout);
    const wT: View = { storage: wm.storage, shape: [1, cout, window], strides: [0, wm.strides[2], wm.strides[1]], offset: wm.offset };
    this.matmul(cols, { storage: grad.storage, shape: [1, rows, cout], strides: [0, grad.strides[0], grad.strides[1]], offset: grad.offset }, wT);
    this.col2im(out, { storage: cols, shape: [rows, window], strides: [window, 1], offset: 0 }, g);
    this.release(cols);
  }

  conv2dBackwardWeight(out: Storage, x: View, grad: View, g: ConvGeometry): void {
    const rows = g.n * g.oh * g.ow;
    const window = g.kh * g.kw * g.c;
    const cout = grad.shape[1];
    const cols = this.alloc(rows * window);
    this.im2col(cols, x, g);
    const colsT: View = { storage: cols, shape: [1, window, rows], strides: [0, 1, window], offset: 0 };
    this.matmul(out, colsT, { storage: grad.storage, shape: [1, rows, cout], strides: [0, grad.strides[0], grad.strides[1]], offset: grad.offset });
    this.release(cols);
  }

  gather(out: Storage, table: View, idx: View, rows: number, dim: number): void {
    const t = dense(table);
    const ids = dense(idx);
    const o = data(out);
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i];
      if (!(r >= 0 && r < rows)) throw new Error(`gather index ${r} out of range [0, ${rows})`);
      for (let j = 0; j < dim; j++) o[i * dim + j] = t[r * dim + j];
    }
  }

  scatterAdd(out: Storage, grad: View, idx: View, _rows: number, dim: number): void {
    const g = dense(grad);
    const ids = dense(idx);
    const o = data(out);
    o.fill(0);
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < dim; j++) o[ids[i] * dim + j] += g[i * dim + j];
  }

  random(out: Storage, dist: 'uniform' | 'normal', seed: number, counter: number): void {
    const o = data(out);
    const f = dist === 'uniform' ? uniformAt : normalAt;
    for (let i = 0; i < o.length; i++) o[i] = f(seed, counter, i);
  }

  adamw(param: Storage, grad: View, m: Storage, v: Storage, scale: Storage | null, h: AdamWHyper): void {
    const p = data(param);
    const g = dense(grad);
    const M = data(m);
    const V = data(v);
    const sc = scale ? data(scale)[0] : 1;
    const bc1 = 1 - Math.pow(h.beta1, h.step);
    const bc2 = 1 - Math.pow(h.beta2, h.step);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * sc;
      M[i] = h.beta1 * M[i] + (1 - h.beta1) * gi;
      V[i] = h.beta2 * V[i] + (1 - h.beta2) * gi * gi;
      const update = M[i] / bc1 / (Math.sqrt(V[i] / bc2) + h.eps);
      p[i] = p[i] - h.lr * (update + h.weightDecay * p[i]);
    }
  }

  flush(): void {}
  async sync(): Promise<void> {}
  async settle(): Promise<void> {}
  memory(): MemoryStats {
    return { inUseBytes: this.inUse, allocatedBytes: this.inUse, dispatches: 0 };
  }
  destroy(): void {}
}
