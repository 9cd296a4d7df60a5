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

/** Calls fn(outIndex, inputIndices...) for every element of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], views: { strides: readonly number[]; offset: number }[], fn: (idx: number[]) => void): void {
  const n = numel(shape);
  const rank = shape.length;
  const coord = new Array<number>(rank).fill(0);
  const idx = views.map((v) => v.offset);
  for (let i = 0; i < n; i++) {
    fn(idx);
    for (let d = rank - 1; d >= 0; d--) {
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

function dense(v: View): Data {
  const src = data(v.storage);
  if (isDense(v)) return src.slice(v.offset, v.offset + numel(v.shape));
  const out = new (src.constructor as { new (n: number): Data })(numel(v.shape));
  let j = 0;
  forEachIndex(v.shape, [v], (idx) => {
    out[j++] = src[idx[0]];
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

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  private readonly Array: { new (n: number): Data };
  private inUse = 0;
  constructor(private readonly options: { precision?: 'f32' | 'f64'; poison?: boolean } = {}) {
    this.Array = options.precision === 'f64' ? Float64Array : Float32Array;
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
  async read(view: View): Promise<Float32Array> {
    return Float32Array.from(dense(view));
  }
  fill(storage: Storage, value: number): void {
    data(storage).fill(value);
  }

  map(op: MapOp, out: View, inputs: View[], scalars: readonly number[] = []): void {
    const f = MAP_OPS[op].cpu as (a: number, b: number, c: number, s: readonly number[]) => number;
    const o = data(out.storage);
    const ins = inputs.map((v) => data(v.storage));
    const round = this.Array === Float32Array ? Math.fround : (x: number) => x;
    const s = scalars.map(round);
    // The common case — every view dense — is a plain loop; strided views take
    // the general index walk.
    if ([out, ...inputs].every(isDense)) {
      const n = numel(out.shape);
      const [a, b, c] = ins;
      const [oa, ob, oc] = inputs.map((v) => v.offset);
      const oo = out.offset;
      for (let i = 0; i < n; i++) o[oo + i] = f(a ? a[oa + i] : 0, b ? b[ob + i] : 0, c ? c[oc + i] : 0, s);
      return;
    }
    forEachIndex(out.shape, [out, ...inputs], (idx) => {
      o[idx[0]] = f(ins[0]?.[idx[1]] ?? 0, ins[1]?.[idx[2]] ?? 0, ins[2]?.[idx[3]] ?? 0, s);
    });
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
    const A = dense(a);
    const Bm = dense(b);
    const o = data(out);
    const bias = options.bias ? dense(options.bias) : null;
    const act = ACT[options.act ?? 'none'];
    const row = new this.Array(N);
    // i-k-j order walks rows of B contiguously; good enough for tests and fallback.
    for (let bi = 0; bi < B; bi++) {
      for (let i = 0; i < M; i++) {
        row.fill(0);
        const aRow = (bi * M + i) * K;
        for (let k = 0; k < K; k++) {
          const av = A[aRow + k];
          if (av === 0) continue;
          const bRow = (bi * K + k) * N;
          for (let j = 0; j < N; j++) row[j] += av * Bm[bRow + j];
        }
        const oRow = (bi * M + i) * N;
        for (let j = 0; j < N; j++) o[oRow + j] = act(row[j] + (bias ? bias[j] : 0));
      }
    }
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
  memory(): MemoryStats {
    return { inUseBytes: this.inUse, allocatedBytes: this.inUse, dispatches: 0 };
  }
  destroy(): void {}
}
