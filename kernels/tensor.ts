// Tensor: an f32 array with shape and strides on a backend. Views (reshape,
// permute, slice, expand) share storage; every other op asks the backend for
// one primitive and, when gradients are wanted, records how to go back.
import type { Activation, Backend, Storage, View } from './backend.ts';
import { backward as runBackward, isGradEnabled, recordOnTape, setTensorCheck, track, type GradNode } from './autograd.ts';
import type { MapOp } from './ops.ts';
import { assertShape, broadcastShapes, broadcastStrides, contiguousStrides, isContiguous, normalizeAxis, numel, sameShape } from './shape.ts';

let defaultBackend: Backend | null = null;

/** Sets the backend used by creation functions that are not given one. */
export function setDefaultBackend(backend: Backend): void {
  defaultBackend = backend;
}
export function getDefaultBackend(): Backend {
  if (!defaultBackend) throw new Error('no backend set: call setDefaultBackend(await createBackend()) first');
  return defaultBackend;
}

let rngCounter = 0;

export class Tensor implements View {
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  private disposed = false;

  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    track(this);
  }

  // ── creation ────────────────────────────────────────────────────────────
  static empty(shape: readonly number[], backend = getDefaultBackend()): Tensor {
    assertShape(shape);
    return new Tensor(backend, backend.alloc(numel(shape)), [...shape]);
  }
  static zeros(shape: readonly number[], backend = getDefaultBackend()): Tensor {
    return Tensor.full(shape, 0, backend);
  }
  static ones(shape: readonly number[], backend = getDefaultBackend()): Tensor {
    return Tensor.full(shape, 1, backend);
  }
  static full(shape: readonly number[], value: number, backend = getDefaultBackend()): Tensor {
    const t = Tensor.empty(shape, backend);
    backend.fill(t.storage, value);
    return t;
  }
  static fromArray(values: ArrayLike<number>, shape: readonly number[] = [values.length], backend = getDefaultBackend()): Tensor {
    if (numel(shape) !== values.length) throw new Error(`fromArray: ${values.length} values do not fill shape [${shape.join(',')}]`);
    const t = Tensor.empty(shape, backend);
    backend.write(t.storage, values instanceof Float32Array ? values : Float32Array.from(values));
    return t;
  }
  static scalar(value: number, backend = getDefaultBackend()): Tensor {
    return Tensor.fromArray([value], [], backend);
  }
  /** Uniform [0,1) or standard normal, from a seeded counter RNG identical on every backend. */
  static random(shape: readonly number[], dist: 'uniform' | 'normal', seed: number, backend = getDefaultBackend()): Tensor {
    const t = Tensor.empty(shape, backend);
    backend.random(t.storage, dist, seed, 0);
    return t;
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────
  get size(): number {
    return numel(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }
  get isContiguous(): boolean {
    return this.offset === 0 && isContiguous(this.shape, this.strides) && this.storage.length === this.size;
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.grad?.dispose();
    this.grad = null;
    this.node = null;
    if (--this.storage.refs === 0) this.backend.release(this.storage);
  }
  /** Marks this tensor as a trainable leaf. */
  trainable(): this {
    this.requiresGrad = true;
    return this;
  }
  async toArray(): Promise<Float32Array> {
    this.assertLive();
    return this.backend.read(this);
  }
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs one element, got shape [${this.shape.join(',')}]`);
    return (await this.toArray())[0];
  }
  backward(): void {
    if (this.size !== 1) throw new Error(`backward() starts from a scalar, got shape [${this.shape.join(',')}]`);
    runBackward(this, Tensor.ones(this.shape, this.backend));
  }
  detach(): Tensor {
    return this.view(this.shape, this.strides, this.offset);
  }
  private assertLive(): void {
    if (this.disposed) throw new Error('tensor used after dispose()');
  }

  /** Registers `out` as the result of an op on `inputs`: wires up autograd when any input wants gradients. */
  static record(out: Tensor, inputs: Tensor[], backward: GradNode['backward']): Tensor {
    if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
      out.requiresGrad = true;
      out.node = { inputs, backward };
      recordOnTape(out);
    }
    return out;
  }

  private view(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    this.assertLive();
    this.storage.refs++;
    return new Tensor(this.backend, this.storage, [...shape], [...strides], offset);
  }

  // ── views ───────────────────────────────────────────────────────────────
  reshape(shape: readonly number[]): Tensor {
    const resolved = [...shape];
    const infer = resolved.indexOf(-1);
    if (infer >= 0) resolved[infer] = this.size / numel(resolved.filter((_, i) => i !== infer));
    if (numel(resolved) !== this.size) throw new Error(`cannot reshape [${this.shape.join(',')}] to [${shape.join(',')}]`);
    const src = isContiguous(this.shape, this.strides) ? this : this.contiguous();
    const out = src.view(resolved, contiguousStrides(resolved), src.offset);
    const inShape = this.shape;
    return Tensor.record(out, [this], (g) => [g.reshape(inShape)]);
  }
  permute(axes: readonly number[]): Tensor {
    if (axes.length !== this.rank || new Set(axes).size !== this.rank) throw new Error(`permute: bad axes [${axes.join(',')}] for rank ${this.rank}`);
    const out = this.view(
      axes.map((a) => this.shape[a]),
      axes.map((a) => this.strides[a]),
      this.offset,
    );
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, i) => (inverse[a] = i));
    return Tensor.record(out, [this], (g) => [g.permute(inverse)]);
  }
  transpose(a = -2, b = -1): Tensor {
    const axes = [...this.shape.keys()];
    const i = normalizeAxis(a, this.rank);
    const j = normalizeAxis(b, this.rank);
    [axes[i], axes[j]] = [axes[j], axes[i]];
    return this.permute(axes);
  }
  /** Elements [start, end) along `axis`. */
  slice(axis: number, start: number, end: number): Tensor {
    const ax = normalizeAxis(axis, this.rank);
    if (start < 0 || end > this.shape[ax] || start > end) throw new Error(`slice [${start}, ${end}) out of range for axis ${ax} of size ${this.shape[ax]}`);
    const shape = [...this.shape];
    shape[ax] = end - start;
    const out = this.view(shape, this.strides, this.offset + start * this.strides[ax]);
    const inShape = this.shape;
    return Tensor.record(out, [this], (g) => {
      const pads = inShape.map((_, i) => (i === ax ? ([start, inShape[i] - end] as [number, number]) : ([0, 0] as [number, number])));
      return [g.pad(pads)];
    });
  }
  /** Broadcasts to `shape` without copying (stride 0 on stretched axes). */
  expand(shape: readonly number[]): Tensor {
    const target = broadcastShapes(this.shape, shape);
    if (!sameShape(target, shape)) throw new Error(`cannot expand [${this.shape.join(',')}] to [${shape.join(',')}]`);
    if (sameShape(this.shape, shape)) return this;
    const out = this.view(shape, broadcastStrides(this.shape, this.strides, shape), this.offset);
    const inShape = this.shape;
    return Tensor.record(out, [this], (g) => [g.sumTo(inShape)]);
  }
  contiguous(): Tensor {
    return this.isContiguous ? this : this.map('copy', []);
  }
  clone(): Tensor {
    return this.map('copy', []);
  }

  // ── elementwise ─────────────────────────────────────────────────────────
  /** Runs a map primitive over this and `others`, broadcast together. */
  map(op: MapOp, others: Tensor[], scalars: readonly number[] = [], backward?: GradNode['backward']): Tensor {
    const inputs = [this, ...others];
    for (const t of inputs) {
      t.assertLive();
      if (t.backend !== this.backend) throw new Error(`op '${op}' mixes backends ${this.backend.name} and ${t.backend.name}`);
    }
    const shape = broadcastShapes(...inputs.map((t) => t.shape));
    const out = Tensor.empty(shape, this.backend);
    const views = inputs.map((t) => ({ storage: t.storage, shape, strides: broadcastStrides(t.shape, t.strides, shape), offset: t.offset }));
    this.backend.map(op, out, views, scalars);
    if (backward) return Tensor.record(out, inputs, backward);
    if (op === 'copy') return Tensor.record(out, inputs, (g) => [g]);
    return out;
  }
  private unary(op: MapOp, grad: (g: Tensor, out: Tensor) => Tensor, scalars: readonly number[] = []): Tensor {
    const out: Tensor = this.map(op, [], scalars, (g) => [grad(g, out)]);
    return out;
  }
  neg(): Tensor {
    return this.unary('neg', (g) => g.neg());
  }
  exp(): Tensor {
    return this.unary('exp', (g, out) => g.mul(out));
  }
  log(): Tensor {
    return this.unary('log', (g) => g.div(this));
  }
  sqrt(): Tensor {
    return this.unary('sqrt', (g, out) => g.div(out).mulScalar(0.5));
  }
  abs(): Tensor {
    return this.unary('abs', (g) => g.mul(this.map('sign', [])));
  }
  relu(): Tensor {
    return this.unary('relu', (g) => this.map('relu_grad', [g]));
  }
  gelu(): Tensor {
    return this.unary('gelu', (g) => this.map('gelu_grad', [g]));
  }
  tanh(): Tensor {
    return this.unary('tanh', (g, out) => out.map('tanh_grad', [g]));
  }
  sigmoid(): Tensor {
    return this.unary('sigmoid', (g, out) => out.map('sigmoid_grad', [g]));
  }
  /** sign(x)·log(1+|x|): squashes heavy-tailed inputs such as contact forces. */
  symlog(): Tensor {
    return this.unary('symlog', (g) => this.map('symlog_grad', [g]));
  }
  square(): Tensor {
    return this.mul(this);
  }
  clamp(lo: number, hi: number): Tensor {
    return this.unary('clamp', (g) => g.mul(this.map('inrange', [], [lo, hi])), [lo, hi]);
  }
  addScalar(s: number): Tensor {
    return this.unary('adds', (g) => g, [s]);
  }
  mulScalar(s: number): Tensor {
    return this.unary('muls', (g) => g.mulScalar(s), [s]);
  }
  /** s − x */
  rsubScalar(s: number): Tensor {
    return this.unary('rsubs', (g) => g.neg(), [s]);
  }
  /** s / x */
  rdivScalar(s: number): Tensor {
    return this.unary('rdivs', (g) => g.mul(this.square().rdivScalar(-s)), [s]);
  }

  add(other: Tensor | number): Tensor {
    if (typeof other === 'number') return this.addScalar(other);
    return this.map('add', [other], [], (g) => [g.sumTo(this.shape), g.sumTo(other.shape)]);
  }
  sub(other: Tensor | number): Tensor {
    if (typeof other === 'number') return this.addScalar(-other);
    return this.map('sub', [other], [], (g) => [g.sumTo(this.shape), g.neg().sumTo(other.shape)]);
  }
  mul(other: Tensor | number): Tensor {
    if (typeof other === 'number') return this.mulScalar(other);
    return this.map('mul', [other], [], (g) => [
      this.requiresGrad ? g.mul(other).sumTo(this.shape) : null,
      other.requiresGrad ? g.mul(this).sumTo(other.shape) : null,
    ]);
  }
  div(other: Tensor | number): Tensor {
    if (typeof other === 'number') return this.mulScalar(1 / other);
    return this.map('div', [other], [], (g) => [
      this.requiresGrad ? g.div(other).sumTo(this.shape) : null,
      other.requiresGrad ? g.mul(this).div(other.square()).neg().sumTo(other.shape) : null,
    ]);
  }
  maximum(other: Tensor): Tensor {
    return this.map('maximum', [other], [], (g) => {
      const pick = this.map('ge', [other]);
      return [g.mul(pick).sumTo(this.shape), g.mul(pick.rsubScalar(1)).sumTo(other.shape)];
    });
  }
  minimum(other: Tensor): Tensor {
    return this.map('minimum', [other], [], (g) => {
      const pick = other.map('ge', [this]);
      return [g.mul(pick).sumTo(this.shape), g.mul(pick.rsubScalar(1)).sumTo(other.shape)];
    });
  }
  /** cond ? a : b, elementwise (cond nonzero = true). No gradient flows to cond. */
  static where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
    return cond.map('where', [a, b], [], (g) => {
      const zero = Tensor.zeros([], g.backend);
      return [null, cond.map('where', [g, zero]).sumTo(a.shape), cond.map('where', [zero, g]).sumTo(b.shape)];
    });
  }

  // ── reductions ──────────────────────────────────────────────────────────
  private reduceOp(op: 'sum' | 'max', axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
    this.assertLive();
    const list = axes === undefined ? [...this.shape.keys()] : (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(a, this.rank));
    const reduced = new Set(list);
    const kept = [...this.shape.keys()].filter((a) => !reduced.has(a));
    const order = [...kept, ...[...reduced].sort((x, y) => x - y)];
    const permuted = { storage: this.storage, shape: order.map((a) => this.shape[a]), strides: order.map((a) => this.strides[a]), offset: this.offset };
    const outShape = kept.map((a) => this.shape[a]);
    const out = Tensor.empty(outShape, this.backend);
    this.backend.reduce(op, out.storage, permuted, reduced.size);
    const keptShape = this.shape.map((d, a) => (reduced.has(a) ? 1 : d));
    const result = keepDims ? out.reshape(keptShape) : out;
    return Tensor.record(result, [this], (g) => {
      const gk = g.reshape(keptShape);
      if (op === 'sum') return [gk.expand(this.shape)];
      const mask = this.map('eq', [result.reshape(keptShape)]);
      return [mask.mul(gk).div(mask.sum([...reduced], true))];
    });
  }
  sum(axes?: number | readonly number[], keepDims = false): Tensor {
    return this.reduceOp('sum', axes, keepDims);
  }
  max(axes?: number | readonly number[], keepDims = false): Tensor {
    return this.reduceOp('max', axes, keepDims);
  }
  mean(axes?: number | readonly number[], keepDims = false): Tensor {
    const list = axes === undefined ? [...this.shape.keys()] : typeof axes === 'number' ? [axes] : axes;
    const count = list.reduce((n, a) => n * this.shape[normalizeAxis(a, this.rank)], 1);
    return this.sum(axes, keepDims).mulScalar(1 / count);
  }
  /** Sums broadcast axes away so a gradient matches an input's shape. */
  sumTo(shape: readonly number[]): Tensor {
    if (sameShape(this.shape, shape)) return this;
    const lead = this.rank - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < this.rank; i++) if (i < lead || (shape[i - lead] === 1 && this.shape[i] !== 1)) axes.push(i);
    return this.sum(axes, true).reshape(shape);
  }

  // ── linear algebra ──────────────────────────────────────────────────────
  /**
   * [..., M, K] @ [..., K, N] with an optional fused bias [N] and activation.
   * Batch dims broadcast when one side is 2-D.
   */
  matmul(other: Tensor, options: { bias?: Tensor | null; act?: Activation } = {}): Tensor {
    // [..., M, K] @ [K, N]: fold the leading dims into M so a linear layer on
    // tokens is one tall matmul, not a batch of tiny ones.
    if (this.rank >= 3 && other.rank === 2 && isContiguous(this.shape, this.strides)) {
      const lead = this.shape.slice(0, -1);
      return this.reshape([-1, this.shape[this.rank - 1]])
        .matmul(other, options)
        .reshape([...lead, other.shape[1]]);
    }
    const a = this.rank === 2 ? this : this.rank === 3 ? this : this.flattenBatch();
    const b = other.rank === 2 ? other : other.rank === 3 ? other : other.flattenBatch();
    const [M, K] = a.shape.slice(-2);
    const [K2, N] = b.shape.slice(-2);
    if (K !== K2) throw new Error(`matmul: inner dims differ ([${this.shape.join(',')}] @ [${other.shape.join(',')}])`);
    const Ba = a.rank === 3 ? a.shape[0] : 1;
    const Bb = b.rank === 3 ? b.shape[0] : 1;
    if (Ba !== Bb && Ba !== 1 && Bb !== 1) throw new Error(`matmul: batch dims ${Ba} and ${Bb} differ`);
    const B = Math.max(Ba, Bb);
    const as3 = (t: Tensor) =>
      t.rank === 3 ? { storage: t.storage, shape: [B, t.shape[1], t.shape[2]], strides: [t.shape[0] === 1 ? 0 : t.strides[0], t.strides[1], t.strides[2]], offset: t.offset } : { storage: t.storage, shape: [B, t.shape[0], t.shape[1]], strides: [0, t.strides[0], t.strides[1]], offset: t.offset };
    const act = options.act ?? 'none';
    const bias = options.bias ?? null;
    const wantsGrad = isGradEnabled() && (this.requiresGrad || other.requiresGrad || !!bias?.requiresGrad);
    // With gradients, the activation runs as its own op so backward sees its input.
    const fusedAct = wantsGrad ? 'none' : act;
    const out3 = Tensor.empty([B, M, N], this.backend);
    this.backend.matmul(out3.storage, as3(a), as3(b), { bias, act: fusedAct });
    // Equal-rank batches broadcast against each other ([1,M,K] @ [B,K,N] gives [B,M,N]).
    const batchShape =
      this.rank >= 3 && this.rank === other.rank
        ? broadcastShapes(this.shape.slice(0, -2), other.shape.slice(0, -2))
        : this.rank >= 3 || other.rank >= 3
          ? (this.rank >= other.rank ? this.shape : other.shape).slice(0, -2)
          : [];
    const outShape = [...batchShape, M, N];
    const out = out3.reshape(outShape);
    out3.dispose();
    const inputs = bias ? [this, other, bias] : [this, other];
    const z = Tensor.record(out, inputs, (g) => {
      const ga = this.requiresGrad ? g.matmul(other.transpose()).sumTo(this.shape) : null;
      const gb = other.requiresGrad ? this.transpose().matmul(g).sumTo(other.shape) : null;
      const gbias = bias?.requiresGrad ? g.sumTo(bias.shape) : null;
      return [ga, gb, gbias];
    });
    if (fusedAct === act || act === 'none') return z;
    return act === 'relu' ? z.relu() : z.gelu();
  }
  private flattenBatch(): Tensor {
    return this.reshape([-1, ...this.shape.slice(-2)]);
  }

  // ── copies into new layouts ─────────────────────────────────────────────
  /** Zero padding: pads[i] = [before, after] for axis i. */
  pad(pads: readonly (readonly [number, number])[]): Tensor {
    const shape = this.shape.map((d, i) => d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0));
    const out = Tensor.zeros(shape, this.backend);
    const strides = contiguousStrides(shape);
    const offset = pads.reduce((o, p, i) => o + (p?.[0] ?? 0) * strides[i], 0);
    this.backend.map('copy', { storage: out.storage, shape: this.shape, strides, offset }, [this]);
    return Tensor.record(out, [this], (g) => {
      let s: Tensor = g;
      pads.forEach((p, i) => {
        if (p[0] || p[1]) s = s.slice(i, p[0], p[0] + this.shape[i]);
      });
      return [s];
    });
  }
  static concat(tensors: readonly Tensor[], axis: number): Tensor {
    const first = tensors[0];
    const ax = normalizeAxis(axis, first.rank);
    const shape = [...first.shape];
    shape[ax] = tensors.reduce((n, t) => n + t.shape[ax], 0);
    const out = Tensor.empty(shape, first.backend);
    const strides = contiguousStrides(shape);
    let at = 0;
    const starts: number[] = [];
    for (const t of tensors) {
      if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== shape[i])) {
        throw new Error(`concat: shape [${t.shape.join(',')}] does not fit [${shape.join(',')}] along axis ${ax}`);
      }
      starts.push(at);
      first.backend.map('copy', { storage: out.storage, shape: t.shape, strides, offset: at * strides[ax] }, [t]);
      at += t.shape[ax];
    }
    return Tensor.record(out, [...tensors], (g) => tensors.map((t, i) => g.slice(ax, starts[i], starts[i] + t.shape[ax])));
  }
  /** Rows of a 2-D table picked by integer-valued indices: [R, D] × [N] → [N, D]. */
  gather(indices: Tensor): Tensor {
    if (this.rank !== 2 || indices.rank !== 1) throw new Error('gather: table must be [R, D] and indices [N]');
    const [R, D] = this.shape;
    const out = Tensor.empty([indices.shape[0], D], this.backend);
    // The backend primitives take dense rows: a transposed table or a
    // broadcast upstream gradient (stride 0, from sum()) is copied first.
    const table = this.contiguous();
    const idx = indices.contiguous();
    this.backend.gather(out.storage, table, idx, R, D);
    if (table !== this) table.dispose();
    return Tensor.record(out, [this], (g) => {
      const gt = Tensor.empty([R, D], this.backend);
      const gd = g.contiguous();
      this.backend.scatterAdd(gt.storage, gd, idx, R, D);
      if (gd !== g) gd.dispose();
      return [gt];
    });
  }
  /** Keeps each element with probability 1 − p, scaled by 1/(1 − p). Seeded, same on every backend. */
  dropout(p: number, seed: number, counter = rngCounter++): Tensor {
    if (p <= 0) return this;
    const u = Tensor.empty(this.shape, this.backend);
    this.backend.random(u.storage, 'uniform', seed, Math.imul(counter + 1, 0x9e3779b1) >>> 0);
    const keepMask = u.map('lts', [], [1 - p]);
    return this.mul(keepMask.mulScalar(1 / (1 - p)));
  }
}

setTensorCheck((v): v is Tensor => v instanceof Tensor);
