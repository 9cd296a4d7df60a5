// The WebGPU backend: WGSL kernels on a GPUDevice. Work is recorded into one
// command encoder and submitted only when data is read back (or the uniform
// arena fills), so a whole training step is a single submission.
import type { AdamWHyper, Backend, ConvGeometry, MatmulOptions, MemoryStats, NormGeometry, Storage, View } from '../backend.ts';
import type { MapOp } from '../ops.ts';
import { contiguousStrides, numel, MAX_RANK } from '../shape.ts';
import { BufferPool } from './BufferPool.ts';
import { mapKernel, MAP_UNIFORM_BYTES, viewKind } from './wgsl/map.ts';
import { matmulSmallKernel, splitKReduceKernel } from './wgsl/matmul.ts';
import { CONV_MATMUL_UNIFORM_BYTES, MATMUL_UNIFORM_BYTES, matmulTiledKernel, tiledKey, tileM, tileN, type TiledSpec } from './wgsl/matmulTiled.ts';
import { Autotuner, type TuneJob, type TuneOptions, type TuneReport } from './Autotuner.ts';
import { choiceFits, convGemm, defaultMatmulChoice, matmulCandidates, parseChoiceId, variantCatalog, type ConvPass, type DeviceLimits, type MatmulChoice, type MatmulProblem, type MatmulVariant } from './variants.ts';
import { CpuBackend, weightAsMatrix } from '../cpu/CpuBackend.ts';
import { reduceKernel, reduceShapeFor, REDUCE_UNIFORM_BYTES } from './wgsl/reduce.ts';
import { adamwKernel, col2imKernel, convSizesKey, fillKernel, gatherKernel, im2colKernel, normalizeBackwardKernel, normalizeKernel, randomKernel, scatterAddKernel } from './wgsl/misc.ts';

export class GpuStorage implements Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly length: number,
  ) {}
}

const buf = (s: Storage): GPUBuffer => (s as GpuStorage).buffer;

/** normalize's uniform: geometry, the two input offsets and eps. */
function normUniform(geo: NormGeometry, xOffset: number, yOffset: number, eps: number): ArrayBuffer {
  const data = new ArrayBuffer(32);
  new Uint32Array(data, 0, 6).set([geo.a, geo.b, geo.g, geo.k, xOffset, yOffset]);
  new Float32Array(data, 24, 1)[0] = eps;
  return data;
}

interface ViewGeometry {
  shape: number[];
  strides: number[];
  offset: number;
}

const SLOT = 256; // minUniformBufferOffsetAlignment is ≤ 256 everywhere
const ARENA_SLOTS = 4096;
const BIND_GROUP_CACHE = 16384;
const WG = 256;
const MAX_WG_X = 65535;

export interface WebGpuBackendOptions {
  /** Fill new allocations with NaN so kernels that leave elements unwritten are caught. */
  poison?: boolean;
  /** Called with the pipeline key each time a new pipeline is compiled. */
  onCompile?: (key: string) => void;
  /** Time every dispatch with timestamp queries (one pass per dispatch); see takeProfile(). */
  profile?: boolean;
  /** Kernel autotuning: mode (default from SENSEACT_TUNE, else 'cached'), cache store, timer. */
  tune?: TuneOptions;
}

export interface KernelProfile {
  key: string;
  calls: number;
  totalMs: number;
}

const PROFILE_CAPACITY = 2048; // timestamp pairs; query sets hold at most 4096

export { splitKFor } from './variants.ts';

/** Smallest power of two ≥ n (1 for n ≤ 1). */
const pow2 = (n: number) => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));
/** Batch counts above this share one tuning key. */
const BATCH_CAP = 64;

/** Layouts and vec4 legality of a strided [B,M,K] @ [B,K,N]. */
export function matmulProblem(a: View, b: View): MatmulProblem {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const [sab, sam, sak] = a.strides;
  const [sbb, sbk, sbn] = b.strides;
  const aLayout = sam === 1 && sak !== 1 && M > 1 ? 't' : 'n';
  const bLayout = sbk === 1 && sbn !== 1 && N > 1 ? 't' : 'n';
  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const vecA = aLayout === 'n' ? sak === 1 && m4(K, sam, sab, a.offset) : sam === 1 && m4(M, sak, sab, a.offset);
  const vecB = bLayout === 'n' ? sbn === 1 && m4(N, sbk, sbb, b.offset) : sbk === 1 && m4(K, sbn, sbb, b.offset);
  return { B, M, N, K, aLayout, bLayout, vecA, vecB, aSource: 'strided' };
}

/** The tuning key: op, dtype, layouts (+ vec4 legality), dims rounded up to powers of two, batch capped. */
export function matmulKey(p: MatmulProblem): string {
  const lay = `${p.aLayout}${p.vecA ? '4' : ''}${p.bLayout}${p.vecB ? '4' : ''}`;
  return `matmul:f32:${lay}:b${Math.min(pow2(p.B), BATCH_CAP)}:m${pow2(p.M)}:n${pow2(p.N)}:k${pow2(p.K)}`;
}

/** A convolution pass as an implicit GEMM problem (layouts pick the loader order that walks memory contiguously). */
export function convProblem(pass: ConvPass, g: ConvGeometry, cout: number): MatmulProblem {
  const { M, N, K, aSource } = convGemm(pass, g, cout);
  return { B: 1, M, N, K, aLayout: pass === 'dw' ? 't' : 'n', bLayout: 'n', vecA: false, vecB: N % 4 === 0, aSource };
}

export function convKey(pass: ConvPass, g: ConvGeometry, p: MatmulProblem): string {
  return `conv.${pass}:f32:k${g.kh}x${g.kw}s${g.stride}p${g.pad}:c${pow2(g.c)}:m${pow2(p.M)}:n${pow2(p.N)}:k${pow2(p.K)}`;
}

/** A fixed geometry whose im2col and col2im stand for theirs in the cache checksum. */
const CHECKSUM_GEOMETRY: ConvGeometry = { n: 1, h: 8, w: 8, c: 3, kh: 3, kw: 3, stride: 2, pad: 1, oh: 4, ow: 4 };

/** A [rows, cols] view as the matmul operand [1, rows, cols]. */
function rowsView(v: View): View {
  return { storage: v.storage, shape: [1, v.shape[0], v.shape[1]], strides: [0, v.strides[0], v.strides[1]], offset: v.offset };
}

/** Element count a strided view spans in its storage (offset included). */
function spanOf(v: { shape: readonly number[]; strides: readonly number[]; offset: number }): number {
  return v.offset + v.shape.reduce((n, d, i) => n + (d - 1) * v.strides[i], 0) + 1;
}

/** Seeded test data in [-1, 1) for tuning runs (mulberry32). */
function tuneData(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly arenaData = new ArrayBuffer(SLOT * ARENA_SLOTS);
  private arenaUsed = 0;
  private staging: GPUBuffer[] = [];
  private readonly one: GPUBuffer;
  private readonly dummy: GPUBuffer;
  private dispatches = 0;
  private lost = false;
  private querySet: GPUQuerySet | null = null;
  private profileKeys: string[] = [];
  private profileReads: Promise<void>[] = [];
  private readonly profileTotals = new Map<string, KernelProfile>();
  private error: string | null = null;
  /** Chooses matmul/conv kernels per shape; see Autotuner. */
  readonly tuner: Autotuner;
  private readonly limits: DeviceLimits;
  private readonly catalog: MatmulVariant[];
  private readonly convCatalog: MatmulVariant[];
  private forced: MatmulChoice | null = null;
  private forcedConv: MatmulChoice | null = null;
  private timing = false;
  private tuneQuerySet: GPUQuerySet | null = null;
  /**
   * Bind groups by (pipeline, uniform slot, buffers). A training step makes
   * the same dispatches on the same pooled buffers every time, so after the
   * first step every bind group is found here (creating ~400 a step made a
   * find-smell step on lavapipe 74 instead of 66 ms, much of it in the
   * collector finalizing the native objects). Every buffer a dispatch binds is
   * pooled or owned for the backend's life, so an entry never outlives its
   * buffers.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  /** Bind groups made so far (tests: a repeating loop stops making them after its first step). */
  bindGroupsMade = 0;
  /** settle(): work was submitted that no wait has confirmed finished, and how long the last wait took. */
  private unconfirmed = false;
  private lastWaitMs = 0;

  constructor(
    readonly device: GPUDevice,
    private readonly options: WebGpuBackendOptions = {},
  ) {
    this.pool = new BufferPool(device);
    this.arena = device.createBuffer({ size: SLOT * ARENA_SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.one = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
    new Float32Array(this.one.getMappedRange()).fill(1);
    this.one.unmap();
    this.dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    device.lost.then(() => (this.lost = true));
    // Shader and validation errors arrive asynchronously; keep the first and
    // fail loudly on the next call instead of computing garbage.
    device.addEventListener('uncapturederror', (event) => {
      this.error ??= (event as GPUUncapturedErrorEvent).error.message;
    });
    const l = device.limits;
    this.limits = {
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    };
    const tune = options.tune ?? {};
    this.catalog = [...variantCatalog(this.limits, 'matmul'), ...(tune.extraMatmulVariants ?? [])];
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const adapter = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
    this.convCatalog = variantCatalog(this.limits, 'conv');
    this.tuner = new Autotuner(adapter, { matmul: this.catalog, conv: this.convCatalog }, { matmul: this.catalogSource(this.catalog), conv: this.convCatalogSource() }, tune);
  }

  /** The WGSL of every candidate in a canonical configuration: what the cache's checksum covers. */
  private catalogSource(catalog: readonly MatmulVariant[]): string {
    const parts = [matmulSmallKernel(), splitKReduceKernel()];
    for (const v of catalog) {
      if (v.kind === 'tiled') {
        const spec: TiledSpec = { ...v.config, aLayout: 'n', bLayout: 'n', vecA: v.vec4, vecB: v.vec4, aSource: 'strided' };
        parts.push(`${v.id}\n${v.source ? v.source() : matmulTiledKernel(spec)}`);
      } else parts.push(v.id);
    }
    return parts.join('\n');
  }

  /** WGSL of every convolution candidate (all three passes), for the cache checksum. */
  private convCatalogSource(): string {
    const parts = [im2colKernel(CHECKSUM_GEOMETRY), col2imKernel(CHECKSUM_GEOMETRY)];
    for (const v of this.convCatalog) {
      if (v.kind !== 'tiled') {
        parts.push(v.id);
        continue;
      }
      for (const aSource of ['im2col', 'im2colT', 'col2im'] as const) {
        parts.push(`${v.id}:${aSource}\n${matmulTiledKernel({ ...v.config, aLayout: 'n', bLayout: 'n', vecA: false, vecB: v.vec4, aSource })}`);
      }
    }
    return parts.join('\n');
  }

  /** Forces one convolution kernel ('im2col' or a tiled implicit-GEMM id, '…/sN' for split-K) for every pass; null undoes it. */
  forceConv(id: string | null): void {
    if (id === null) {
      this.forcedConv = null;
      return;
    }
    const choice = parseChoiceId(id, this.convCatalog);
    if (!choice) throw new Error(`unknown conv variant '${id}' (known: ${this.convCatalog.map((v) => v.id).join(', ')})`);
    this.forcedConv = choice;
  }

  /** Variant ids of the convolution candidate set on this device. */
  convVariants(): string[] {
    return this.convCatalog.map((v) => v.id);
  }

  /**
   * Forces one matmul kernel for every later call (tests of each variant), by
   * id as in the tuning cache ('d64', 'small', '32x32r4x4k16L', '…/s4'); null
   * returns to tuned/default selection. Falls back to the default where the
   * forced one cannot run a shape.
   */
  forceMatmul(id: string | null): void {
    if (id === null) {
      this.forced = null;
      return;
    }
    const choice = parseChoiceId(id, this.catalog);
    if (!choice) throw new Error(`unknown matmul variant '${id}' (known: ${this.catalog.map((v) => v.id).join(', ')})`);
    this.forced = choice;
  }

  /** Variant ids of the matmul candidate set on this device. */
  matmulVariants(): string[] {
    return this.catalog.map((v) => v.id);
  }

  /** The kernel a matmul of these views runs now (forced, tuned, or the default). */
  matmulChoiceFor(a: View, b: View): { key: string; choice: string; tuned: boolean } {
    const p = matmulProblem(a, b);
    const key = matmulKey(p);
    const c = this.chooseMatmul(p, key, a, b);
    const tuned = !this.forced && this.tuner.lookup('matmul', key) !== null;
    return { key, choice: c.splits > 1 ? `${c.variant.id}/s${c.splits}` : c.variant.id, tuned };
  }

  // ── memory ──────────────────────────────────────────────────────────────
  alloc(length: number): Storage {
    this.checkLive();
    const s = new GpuStorage(this.pool.acquire(length * 4), length);
    if (this.options.poison && length > 0) this.fillBits(s, 0x7fc00000);
    return s;
  }
  release(storage: Storage): void {
    this.pool.release(buf(storage));
  }
  write(storage: Storage, data: Float32Array | Float64Array): void {
    this.checkLive();
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (values.length === 0) return;
    // A staging copy inside the encoder keeps the upload ordered with the
    // kernels already recorded (queue.writeBuffer would jump ahead of them).
    const staging = this.device.createBuffer({ size: Math.ceil(values.byteLength / 4) * 4, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Float32Array(staging.getMappedRange()).set(values);
    staging.unmap();
    this.endPass();
    this.getEncoder().copyBufferToBuffer(staging, 0, buf(storage), 0, values.byteLength);
    this.staging.push(staging);
  }
  async read(view: View): Promise<Float32Array> {
    if (this.tuner.hasPending) await this.tune();
    return this.readRaw(view);
  }

  private async readRaw(view: View): Promise<Float32Array> {
    const out = await this.readLater(view)();
    this.unconfirmed = false; // collected at once: the queue runs in order, everything before the copy is done
    return out;
  }

  readLater(view: View): () => Promise<Float32Array> {
    this.checkLive();
    const n = numel(view.shape);
    if (n === 0) return async () => new Float32Array(0);
    let source = view.storage;
    let temp: Storage | null = null;
    const dense = view.offset === 0 && view.strides.every((s, i) => s === contiguousStrides(view.shape)[i] || view.shape[i] === 1);
    if (!dense) {
      temp = this.alloc(n);
      this.map('copy', { storage: temp, shape: view.shape, strides: contiguousStrides(view.shape), offset: 0 }, [view]);
      source = temp;
    }
    const readback = this.device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.getEncoder().copyBufferToBuffer(buf(source), 0, readback, 0, n * 4);
    if (temp) this.release(temp);
    return async () => {
      // Mapping needs the copy submitted; flush() submits nothing if it already was.
      this.flush();
      await readback.mapAsync(GPUMapMode.READ);
      this.checkLive();
      const out = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      readback.destroy();
      return out;
    };
  }

  fill(storage: Storage, value: number): void {
    const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
    this.fillBits(storage, bits);
  }
  private fillBits(storage: Storage, bits: number): void {
    const u = new Uint32Array([storage.length, bits, 0, 0]);
    this.dispatch('fill', fillKernel, u.buffer, [buf(storage)], storage.length);
  }
  memory(): MemoryStats {
    return { inUseBytes: this.pool.inUseBytes, allocatedBytes: this.pool.allocatedBytes, dispatches: this.dispatches };
  }

  // ── primitives ──────────────────────────────────────────────────────────
  map(op: MapOp, out: View, inputs: View[], scalars: readonly number[] = []): void {
    const n = numel(out.shape);
    if (n === 0) return;
    const data = new ArrayBuffer(MAP_UNIFORM_BYTES);
    const u = new Uint32Array(data);
    const f = new Float32Array(data);
    u[0] = n;
    u[1] = out.shape.length;
    u[2] = out.offset;
    inputs.forEach((v, k) => (u[4 + k] = v.offset));
    scalars.forEach((s, k) => (f[8 + k] = s));
    out.shape.forEach((d, i) => (u[12 + i] = d));
    out.strides.forEach((s, i) => (u[20 + i] = s));
    inputs.forEach((v, k) => v.strides.forEach((s, i) => (u[28 + 8 * k + i] = s)));
    const kinds = [out, ...inputs].map((v) => viewKind(out.shape, v.strides));
    this.dispatch(`map:${op}:${kinds.join('')}`, () => mapKernel(op, kinds), data, [...inputs.map((v) => buf(v.storage)), buf(out.storage)], n);
  }

  reduce(op: 'sum' | 'max', out: Storage, input: View, reduceRank: number): void {
    const rank = input.shape.length;
    const outer = numel(input.shape.slice(0, rank - reduceRank));
    const inner = numel(input.shape.slice(rank - reduceRank));
    if (outer === 0) return;
    if (rank > MAX_RANK) throw new Error(`reduce: rank ${rank} > ${MAX_RANK}`);
    const u = new Uint32Array(REDUCE_UNIFORM_BYTES / 4);
    u.set([outer, rank, reduceRank, input.offset, inner]);
    input.shape.forEach((d, i) => (u[8 + i] = d));
    input.strides.forEach((s, i) => (u[16 + i] = s));
    const shape = reduceShapeFor(outer, inner);
    const key = `reduce:${op}:${shape}`;
    const source = () => reduceKernel(op, shape);
    const label = `${key} ${outer}×${inner} [${input.shape.join(',')}]/[${input.strides.join(',')}]`;
    if (shape === 'tree') this.dispatchGroups(key, source, u.buffer, [buf(input.storage), buf(out)], this.grid(outer), label);
    else this.dispatchGroups(key, source, u.buffer, [buf(input.storage), buf(out)], this.grid(Math.ceil(outer / 64)), label);
  }

  matmul(out: Storage, a: View, b: View, options: MatmulOptions = {}): void {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    if (B * M * N === 0) return;
    const act = { none: 0, relu: 1, gelu: 2 }[options.act ?? 'none'];
    const bias = options.bias ?? null;
    if (K === 0) {
      // An empty sum: zeros, then the epilogue through the split-K reducer.
      const zero = this.alloc(B * M * N);
      this.fill(zero, 0);
      this.splitKReduce(out, zero, 1, B * M * N, M, N, act, bias);
      this.release(zero);
      return;
    }
    const p = matmulProblem(a, b);
    const key = matmulKey(p);
    const choice = this.chooseMatmul(p, key, a, b);
    this.runMatmul(choice, p, out, a, b, act, bias);
  }

  private chooseMatmul(p: MatmulProblem, key: string, a: View, b: View): MatmulChoice {
    if (this.forced && choiceFits(this.forced, p, this.limits)) return this.forced;
    const tuned = this.tuner.lookup('matmul', key);
    if (tuned && choiceFits(tuned, p, this.limits)) return tuned;
    if (!tuned && this.tuner.mode === 'tune' && !this.timing) {
      const geo = (v: View) => ({ shape: [...v.shape], strides: [...v.strides], offset: v.offset });
      const ga = geo(a);
      const gb = geo(b);
      this.tuner.want(key, () => this.matmulJob(key, p, ga, gb));
    }
    return defaultMatmulChoice(p);
  }

  /** Records one matmul with a given kernel choice (tiled with optional split-K, or the one-thread-per-output kernel). */
  private runMatmul(choice: MatmulChoice, p: MatmulProblem, out: Storage, a: View, b: View, act: number, bias: View | null): void {
    const { B, M, N, K } = p;
    const v = choice.variant;
    if (v.kind === 'small') {
      const u = new Uint32Array(MATMUL_UNIFORM_BYTES / 4);
      u.set([M, N, K, act, a.offset, a.strides[0], a.strides[1], a.strides[2], b.offset, b.strides[0], b.strides[1], b.strides[2], bias ? 1 : 0, bias?.offset ?? 0, 0, 0, 0, 1, B]);
      const groups = this.grid(Math.ceil((B * M * N) / 64));
      const key = v.source ? `custom:${v.id}` : 'matmul:small';
      this.dispatchGroups(key, v.source ?? matmulSmallKernel, u.buffer, [buf(a.storage), buf(b.storage), bias ? buf(bias.storage) : this.dummy, buf(out)], groups, `matmul:small ${B}×${M}×${N}×${K}`);
      return;
    }
    if (v.kind !== 'tiled') throw new Error(`matmul: variant '${v.id}' is not a matmul kernel`);
    const spec: TiledSpec = {
      ...v.config,
      aLayout: v.layoutAware ? p.aLayout : 'n',
      bLayout: v.layoutAware ? p.bLayout : 'n',
      vecA: v.vec4 && v.layoutAware && p.vecA,
      vecB: v.vec4 && v.layoutAware && p.vecB,
      aSource: 'strided',
    };
    const splits = choice.splits;
    const kPerSplit = Math.ceil(K / splits / spec.tk) * spec.tk;
    const target = splits > 1 ? this.alloc(splits * B * M * N) : out;
    const fused = splits === 1;
    const u = new Uint32Array(MATMUL_UNIFORM_BYTES / 4);
    u.set([M, N, K, fused ? act : 0, a.offset, a.strides[0], a.strides[1], a.strides[2], b.offset, b.strides[0], b.strides[1], b.strides[2], fused && bias ? 1 : 0, bias?.offset ?? 0, 0, 0, kPerSplit, splits, B]);
    const key = v.source ? `custom:${v.id}` : tiledKey(spec);
    const groups: [number, number, number] = [Math.ceil(N / tileN(spec)), Math.ceil(M / tileM(spec)), B * splits];
    this.dispatchGroups(key, v.source ?? (() => matmulTiledKernel(spec)), u.buffer, [buf(a.storage), buf(b.storage), bias ? buf(bias.storage) : this.dummy, buf(target)], groups, `${key} ${B}×${M}×${N}×${K} split ${splits}`);
    if (!fused) {
      this.splitKReduce(out, target, splits, B * M * N, M, N, act, bias);
      this.release(target);
    }
  }

  /** A tuning job for one matmul shape: its own operands (same strides and offsets), the CPU reference, runs and timings. */
  private matmulJob(key: string, p: MatmulProblem, ga: ViewGeometry, gb: ViewGeometry): TuneJob {
    const dataA = tuneData(spanOf(ga), 1);
    const dataB = tuneData(spanOf(gb), 2);
    const A = this.alloc(dataA.length);
    const Bs = this.alloc(dataB.length);
    this.write(A, dataA);
    this.write(Bs, dataB);
    const out = this.alloc(p.B * p.M * p.N);
    const va: View = { storage: A, ...ga };
    const vb: View = { storage: Bs, ...gb };
    const shape = `${p.B}×${p.M}×${p.N}×${p.K} A[${ga.strides}] B[${gb.strides}]`;
    return {
      op: 'matmul',
      key,
      shape,
      candidates: matmulCandidates(p, this.catalog, this.limits),
      fallback: defaultMatmulChoice(p),
      timer: this.timerKind(),
      reference: () => {
        const cpu = new CpuBackend();
        const ca = cpu.alloc(dataA.length);
        const cb = cpu.alloc(dataB.length);
        cpu.write(ca, dataA);
        cpu.write(cb, dataB);
        const co = cpu.alloc(p.B * p.M * p.N);
        cpu.matmul(co, { storage: ca, ...ga }, { storage: cb, ...gb });
        return (co as unknown as { data: Float32Array }).data;
      },
      run: (choice) => this.checked(async () => {
        this.fillBits(out, 0x7fc00000); // NaN: an element the kernel skips cannot pass
        this.runMatmul(choice, p, out, va, vb, 0, null);
        return this.readRaw({ storage: out, shape: [p.B * p.M * p.N], strides: [1], offset: 0 });
      }),
      time: (choice, reps) => this.timeWork(reps, () => this.runMatmul(choice, p, out, va, vb, 0, null)),
      dispose: () => {
        for (const s of [A, Bs, out]) this.release(s);
      },
    };
  }

  /** Runs `fn` inside validation/internal error scopes: a broken candidate throws here instead of poisoning the backend. */
  private async checked<T>(fn: () => Promise<T>): Promise<T> {
    this.flush();
    const before = new Set(this.pipelines.keys());
    this.device.pushErrorScope('internal');
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let thrown: unknown = null;
    try {
      result = await fn();
    } catch (err) {
      thrown = err;
    }
    this.flush();
    const validation = await this.device.popErrorScope();
    const internal = await this.device.popErrorScope();
    const failure = validation ?? internal;
    if (failure) {
      // Do not keep a pipeline that failed to compile.
      for (const k of this.pipelines.keys()) if (!before.has(k)) this.pipelines.delete(k);
      throw new Error(failure.message);
    }
    if (thrown) throw thrown;
    return result as T;
  }

  private timerKind(): 'timestamp' | 'wall' {
    return this.options.tune?.timer !== 'wall' && this.device.features.has('timestamp-query') ? 'timestamp' : 'wall';
  }

  /**
   * Milliseconds per call of `work`, `reps` calls recorded into one compute
   * pass of one submission: GPU timestamps around the pass when the adapter
   * has them, else wall clock from an idle queue to onSubmittedWorkDone.
   */
  async timeWork(reps: number, work: () => void): Promise<number> {
    this.flush();
    this.timing = true;
    try {
      if (this.timerKind() === 'timestamp') {
        this.tuneQuerySet ??= this.device.createQuerySet({ type: 'timestamp', count: 2 });
        this.pass = this.getEncoder().beginComputePass({ timestampWrites: { querySet: this.tuneQuerySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
        for (let r = 0; r < reps; r++) work();
        this.endPass();
        const resolve = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        const read = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        this.encoder!.resolveQuerySet(this.tuneQuerySet, 0, 2, resolve, 0);
        this.encoder!.copyBufferToBuffer(resolve, 0, read, 0, 16);
        this.flush();
        await read.mapAsync(GPUMapMode.READ);
        const t = new BigInt64Array(read.getMappedRange());
        const ns = Number(t[1] - t[0]);
        read.unmap();
        read.destroy();
        resolve.destroy();
        return ns / 1e6 / reps;
      }
      await this.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) work();
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) / reps;
    } finally {
      this.timing = false;
    }
  }

  /** Tunes the shapes seen since the last call (mode 'tune'); a no-op in 'off' and 'cached'. */
  async tune(): Promise<TuneReport[]> {
    this.flush();
    return this.tuner.tunePending();
  }

  private splitKReduce(out: Storage, partial: Storage, splits: number, total: number, M: number, N: number, act: number, bias: View | null): void {
    const u = new Uint32Array([M, N, 0, act, bias ? 1 : 0, bias?.offset ?? 0, splits, total]);
    this.dispatch('matmul:splitk-reduce', splitKReduceKernel, u.buffer, [buf(partial), bias ? buf(bias.storage) : this.dummy, buf(out)], total);
  }

  // ── convolution: im2col + matmul, or implicit GEMM, chosen per shape ──────
  conv2d(out: Storage, x: View, w: View, g: ConvGeometry, options: MatmulOptions = {}): void {
    this.convPass('fwd', out, x, w, g, { none: 0, relu: 1, gelu: 2 }[options.act ?? 'none'], options.bias ?? null);
  }
  conv2dBackwardInput(out: Storage, grad: View, w: View, g: ConvGeometry): void {
    this.convPass('dx', out, grad, w, g, 0, null);
  }
  conv2dBackwardWeight(out: Storage, x: View, grad: View, g: ConvGeometry): void {
    this.convPass('dw', out, x, grad, g, 0, null);
  }

  /**
   * One convolution pass. `src` is what the implicit GEMM gathers from (x for
   * fwd and dw, the output gradient [rows, Cout] for dx); `other` is the
   * weight (fwd, dx) or the output gradient (dw).
   */
  private convPass(pass: ConvPass, out: Storage, src: View, other: View, g: ConvGeometry, act: number, bias: View | null): void {
    const cout = pass === 'dw' ? other.shape[1] : other.shape[3];
    const p = convProblem(pass, g, cout);
    if (p.M * p.N === 0) return;
    const key = convKey(pass, g, p);
    let choice: MatmulChoice = { variant: this.convCatalog[0], splits: 1 };
    if (this.forcedConv && choiceFits(this.forcedConv, p, this.limits)) choice = this.forcedConv;
    else {
      const tuned = this.tuner.lookup('conv', key);
      if (tuned && choiceFits(tuned, p, this.limits)) choice = tuned;
      else if (!tuned && this.tuner.mode === 'tune' && !this.timing) {
        const geo = (v: View) => ({ shape: [...v.shape], strides: [...v.strides], offset: v.offset });
        const gs = geo(src);
        const go = geo(other);
        this.tuner.want(key, () => this.convJob(key, pass, g, p, gs, go));
      }
    }
    this.runConv(choice, pass, p, out, src, other, g, act, bias);
  }

  private runConv(choice: MatmulChoice, pass: ConvPass, p: MatmulProblem, out: Storage, src: View, other: View, g: ConvGeometry, act: number, bias: View | null): void {
    const v = choice.variant;
    const rows = g.n * g.oh * g.ow;
    const window = g.kh * g.kw * g.c;
    if (v.kind === 'im2col') {
      const opts: MatmulOptions = { bias, act: (['none', 'relu', 'gelu'] as const)[act] };
      const cols = this.alloc(rows * window);
      if (pass === 'fwd') {
        this.im2col(cols, src, g);
        this.matmul(out, { storage: cols, shape: [1, rows, window], strides: [0, window, 1], offset: 0 }, weightAsMatrix(other, window, p.N), opts);
      } else if (pass === 'dw') {
        this.im2col(cols, src, g);
        this.matmul(out, { storage: cols, shape: [1, window, rows], strides: [0, 1, window], offset: 0 }, rowsView(other), opts);
      } else {
        const wm = weightAsMatrix(other, window, other.shape[3]);
        const wT: View = { storage: wm.storage, shape: [1, wm.shape[2], window], strides: [0, 1, wm.shape[2]], offset: wm.offset };
        this.matmul(cols, rowsView(src), wT);
        this.col2im(out, { storage: cols, shape: [rows, window], strides: [window, 1], offset: 0 }, g);
      }
      this.release(cols);
      return;
    }
    if (v.kind !== 'tiled') throw new Error(`conv2d: variant '${v.id}' is not a convolution kernel`);
    // The gathered tensor as NHWC strides, and the dense B operand.
    let gathered: { view: View; ch: number; st: number[] };
    let bView: View;
    let temp: Storage | null = null;
    if (pass === 'dx') {
      const [s0, s1] = src.strides;
      gathered = { view: src, ch: p.K / (g.kh * g.kw), st: [g.oh * g.ow * s0, g.ow * s0, s0, s1] };
      // B[(ky, kx, co), c] = w[ky, kx, c, co]: a permuted copy of the weight.
      const [kh, kw, c, co] = other.shape;
      temp = this.alloc(kh * kw * co * c);
      this.map('copy', { storage: temp, shape: [kh, kw, co, c], strides: [kw * co * c, co * c, c, 1], offset: 0 }, [{ storage: other.storage, shape: [kh, kw, co, c], strides: [other.strides[0], other.strides[1], other.strides[3], other.strides[2]], offset: other.offset }]);
      bView = { storage: temp, shape: [1, p.K, p.N], strides: [0, p.N, 1], offset: 0 };
    } else {
      gathered = { view: src, ch: g.c, st: [...src.strides] };
      bView = pass === 'fwd' ? weightAsMatrix(other, window, p.N) : rowsView(other);
    }
    const spec: TiledSpec = { ...v.config, aLayout: v.layoutAware ? p.aLayout : 'n', bLayout: 'n', vecA: false, vecB: v.vec4 && v.layoutAware && p.vecB && bView.offset % 4 === 0 && bView.strides[2] === 1 && bView.strides[1] % 4 === 0, aSource: p.aSource };
    const splits = choice.splits;
    const kPerSplit = Math.ceil(p.K / splits / spec.tk) * spec.tk;
    const target = splits > 1 ? this.alloc(splits * p.M * p.N) : out;
    const fused = splits === 1;
    const u = new Uint32Array(CONV_MATMUL_UNIFORM_BYTES / 4);
    u.set([p.M, p.N, p.K, fused ? act : 0, gathered.view.offset, 0, 0, 0, bView.offset, 0, bView.strides[1], bView.strides[2], fused && bias ? 1 : 0, bias?.offset ?? 0, 0, 0, kPerSplit, splits, 1, 0]);
    u.set([g.n, g.h, g.w, g.c, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, gathered.ch, 0, ...gathered.st], 20);
    const key = tiledKey(spec);
    const groups: [number, number, number] = [Math.ceil(p.N / tileN(spec)), Math.ceil(p.M / tileM(spec)), splits];
    this.dispatchGroups(key, () => matmulTiledKernel(spec), u.buffer, [buf(gathered.view.storage), buf(bView.storage), bias ? buf(bias.storage) : this.dummy, buf(target)], groups, `${key} ${p.M}×${p.N}×${p.K} split ${splits}`);
    if (!fused) {
      this.splitKReduce(out, target, splits, p.M * p.N, p.M, p.N, act, bias);
      this.release(target);
    }
    if (temp) this.release(temp);
  }

  /** The kernel a convolution pass of this geometry runs now (forced, tuned, or im2col). */
  convChoiceFor(pass: ConvPass, g: ConvGeometry, cout: number): { key: string; choice: string; tuned: boolean } {
    const p = convProblem(pass, g, cout);
    const key = convKey(pass, g, p);
    const tuned = this.tuner.lookup('conv', key);
    const c = this.forcedConv && choiceFits(this.forcedConv, p, this.limits) ? this.forcedConv : tuned && choiceFits(tuned, p, this.limits) ? tuned : { variant: this.convCatalog[0], splits: 1 };
    return { key, choice: c.splits > 1 ? `${c.variant.id}/s${c.splits}` : c.variant.id, tuned: !this.forcedConv && tuned !== null };
  }

  /** A tuning job for one convolution pass: random operands, the CPU reference, runs and timings. */
  private convJob(key: string, pass: ConvPass, g: ConvGeometry, p: MatmulProblem, gs: ViewGeometry, go: ViewGeometry): TuneJob {
    const dataS = tuneData(spanOf(gs), 3);
    const dataO = tuneData(spanOf(go), 4);
    const S = this.alloc(dataS.length);
    const O = this.alloc(dataO.length);
    this.write(S, dataS);
    this.write(O, dataO);
    const outLen = pass === 'dx' ? g.n * g.h * g.w * g.c : p.M * p.N;
    const out = this.alloc(outLen);
    const vs: View = { storage: S, ...gs };
    const vo: View = { storage: O, ...go };
    return {
      op: 'conv',
      key,
      shape: `${pass} ${g.n}×${g.h}×${g.w}×${g.c} k${g.kh}×${g.kw} s${g.stride} p${g.pad} → ${p.M}×${p.N}×${p.K}`,
      candidates: matmulCandidates(p, this.convCatalog, this.limits),
      fallback: { variant: this.convCatalog[0], splits: 1 },
      timer: this.timerKind(),
      reference: () => {
        const cpu = new CpuBackend();
        const cs = cpu.alloc(dataS.length);
        const co = cpu.alloc(dataO.length);
        cpu.write(cs, dataS);
        cpu.write(co, dataO);
        const res = cpu.alloc(outLen);
        const a: View = { storage: cs, ...gs };
        const b: View = { storage: co, ...go };
        if (pass === 'fwd') cpu.conv2d(res, a, b, g);
        else if (pass === 'dw') cpu.conv2dBackwardWeight(res, a, b, g);
        else cpu.conv2dBackwardInput(res, a, b, g);
        return (res as unknown as { data: Float32Array }).data;
      },
      run: (choice) => this.checked(async () => {
        this.fillBits(out, 0x7fc00000);
        this.runConv(choice, pass, p, out, vs, vo, g, 0, null);
        return this.readRaw({ storage: out, shape: [outLen], strides: [1], offset: 0 });
      }),
      time: (choice, reps) => this.timeWork(reps, () => this.runConv(choice, pass, p, out, vs, vo, g, 0, null)),
      dispose: () => {
        for (const s of [S, O, out]) this.release(s);
      },
    };
  }

  im2col(out: Storage, input: View, g: ConvGeometry): void {
    const total = g.n * g.oh * g.ow * g.kh * g.kw * g.c;
    this.dispatch(`im2col:${convSizesKey(g)}`, () => im2colKernel(g), this.convUniform(g, input.offset, total, input.strides), [buf(input.storage), buf(out)], total);
  }
  col2im(out: Storage, cols: View, g: ConvGeometry): void {
    const total = g.n * g.h * g.w * g.c;
    this.dispatch(`col2im:${convSizesKey(g)}`, () => col2imKernel(g), this.convUniform(g, cols.offset, total, [0, 0, 0, 0]), [buf(cols.storage), buf(out)], total);
  }
  private convUniform(g: ConvGeometry, offset: number, total: number, strides: readonly number[]): ArrayBuffer {
    return new Uint32Array([g.n, g.h, g.w, g.c, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, offset, total, ...strides]).buffer;
  }

  gather(out: Storage, table: View, idx: View, _rows: number, dim: number): void {
    const n = numel(idx.shape) * dim;
    this.dispatch('gather', gatherKernel, new Uint32Array([n, dim, table.offset, idx.offset]).buffer, [buf(table.storage), buf(idx.storage), buf(out)], n);
  }
  scatterAdd(out: Storage, grad: View, idx: View, rows: number, dim: number): void {
    const n = rows * dim;
    const u = new Uint32Array([n, dim, numel(idx.shape), grad.offset, idx.offset, 0, 0, 0]);
    this.dispatch('scatterAdd', scatterAddKernel, u.buffer, [buf(grad.storage), buf(idx.storage), buf(out)], n);
  }
  random(out: Storage, dist: 'uniform' | 'normal', seed: number, counter: number): void {
    this.dispatch(`random:${dist}`, () => randomKernel(dist), new Uint32Array([out.length, seed >>> 0, counter >>> 0, 0]).buffer, [buf(out)], out.length);
  }
  normalize(y: Storage, rstd: Storage, x: View, geo: NormGeometry, eps: number): void {
    const groups = geo.a * geo.g;
    if (groups === 0 || geo.b * geo.k === 0) return;
    this.dispatchGroups('normalize', normalizeKernel, normUniform(geo, x.offset, 0, eps), [buf(x.storage), buf(y), buf(rstd)], this.grid(Math.ceil(groups / 64)));
  }
  normalizeBackward(dx: Storage, dy: View, y: View, rstd: Storage, geo: NormGeometry): void {
    const groups = geo.a * geo.g;
    if (groups === 0 || geo.b * geo.k === 0) return;
    const u = normUniform(geo, dy.offset, y.offset, 0);
    this.dispatchGroups('normalize:backward', normalizeBackwardKernel, u, [buf(dy.storage), buf(y.storage), buf(rstd), buf(dx)], this.grid(Math.ceil(groups / 64)));
  }
  adamw(param: Storage, grad: View, m: Storage, v: Storage, scale: Storage | null, h: AdamWHyper): void {
    const data = new ArrayBuffer(48);
    new Uint32Array(data, 0, 2).set([param.length, grad.offset]);
    new Float32Array(data, 16, 7).set([h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, 1 - Math.pow(h.beta1, h.step), 1 - Math.pow(h.beta2, h.step)]);
    this.dispatch('adamw', adamwKernel, data, [buf(grad.storage), scale ? buf(scale) : this.one, buf(param), buf(m), buf(v)], param.length);
  }

  // ── execution ───────────────────────────────────────────────────────────
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    const resolved = this.resolveProfile();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaUsed = 0;
    for (const s of this.staging) s.destroy();
    this.staging = [];
    if (resolved) this.profileReads.push(resolved());
  }

  async sync(): Promise<void> {
    if (this.tuner.hasPending) await this.tune();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.unconfirmed = false;
    this.pool.round();
    this.checkLive();
  }

  async settle(): Promise<void> {
    // Tuning times kernels on an idle device: it keeps sync's order.
    if (this.tuner.hasPending) return this.sync();
    this.pool.round();
    if (!this.unconfirmed) {
      this.flush();
      this.unconfirmed = true;
      return;
    }
    // Dawn resolves its promises by polling from setImmediate for as long as
    // one is pending: on a CPU driver that loop takes a core from the driver's
    // threads and allocates enough to keep the collector busy. So first sleep
    // for most of what the last wait took, with no promise pending, and only
    // then ask for the previous submission's end (before submitting this one,
    // which the promise must not cover).
    const t0 = performance.now();
    const nap = this.lastWaitMs * 0.8;
    if (nap >= 1) await new Promise((resolve) => setTimeout(resolve, nap));
    const previous = this.device.queue.onSubmittedWorkDone();
    this.flush();
    await previous;
    this.lastWaitMs = performance.now() - t0;
    this.checkLive();
  }

  /** Per-kernel GPU time since the last call (profile mode only), slowest first. */
  async takeProfile(): Promise<KernelProfile[]> {
    this.flush();
    await Promise.all(this.profileReads);
    this.profileReads = [];
    const out = [...this.profileTotals.values()].sort((a, b) => b.totalMs - a.totalMs);
    this.profileTotals.clear();
    return out;
  }

  private resolveProfile(): (() => Promise<void>) | null {
    if (!this.querySet || this.profileKeys.length === 0) return null;
    const count = this.profileKeys.length * 2;
    const keys = this.profileKeys;
    this.profileKeys = [];
    const resolve = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.encoder!.resolveQuerySet(this.querySet, 0, count, resolve, 0);
    this.encoder!.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
    return async () => {
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(read.getMappedRange());
      keys.forEach((key, i) => {
        const ms = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        const entry = this.profileTotals.get(key) ?? { key, calls: 0, totalMs: 0 };
        entry.calls++;
        entry.totalMs += ms;
        this.profileTotals.set(key, entry);
      });
      read.unmap();
      read.destroy();
      resolve.destroy();
    };
  }

  destroy(): void {
    this.flush();
    this.pool.destroy();
    this.arena.destroy();
    this.one.destroy();
    this.dummy.destroy();
    this.querySet?.destroy();
    this.tuneQuerySet?.destroy();
    this.pipelines.clear();
  }

  private checkLive(): void {
    if (this.lost) throw new Error('the WebGPU device was lost; acquire a new backend (acquireBackend) to continue');
    if (this.error) throw new Error(`WebGPU error: ${this.error}`);
  }

  private getEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'senseact step' }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private pipeline(key: string, source: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: source(), label: key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
      this.options.onCompile?.(key);
    }
    return p;
  }

  private bindGroup(key: string, pipeline: GPUComputePipeline, offset: number, buffers: GPUBuffer[]): GPUBindGroup {
    let id = `${key}|${offset}`;
    for (const b of buffers) {
      let n = this.bufferIds.get(b);
      if (n === undefined) this.bufferIds.set(b, (n = this.nextBufferId++));
      id += `|${n}`;
    }
    let group = this.bindGroups.get(id);
    if (!group) {
      // Bounded: a workload that never repeats (shapes changing every call) starts over.
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      group = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: this.arena, offset, size: SLOT } }, ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
      });
      this.bindGroups.set(id, group);
      this.bindGroupsMade++;
    }
    return group;
  }

  /** Workgroups for `count` items of one workgroup each, folded into 2-D past the per-dimension limit. */
  private grid(count: number): [number, number, number] {
    const x = Math.min(count, MAX_WG_X);
    return [x, Math.ceil(count / x), 1];
  }

  private dispatch(key: string, source: () => string, uniform: ArrayBuffer, buffers: GPUBuffer[], threads: number): void {
    if (threads === 0) return;
    this.dispatchGroups(key, source, uniform, buffers, this.grid(Math.ceil(threads / WG)));
  }

  private dispatchGroups(key: string, source: () => string, uniform: ArrayBuffer, buffers: GPUBuffer[], groups: [number, number, number], label = key): void {
    this.checkLive();
    if (this.arenaUsed + SLOT > this.arenaData.byteLength) this.flush();
    const pipeline = this.pipeline(key, source);
    const offset = this.arenaUsed;
    new Uint8Array(this.arenaData, offset, uniform.byteLength).set(new Uint8Array(uniform));
    this.arenaUsed += SLOT;
    const bindGroup = this.bindGroup(key, pipeline, offset, buffers);
    if (this.options.profile && !this.timing && this.device.features.has('timestamp-query')) {
      this.querySet ??= this.device.createQuerySet({ type: 'timestamp', count: PROFILE_CAPACITY * 2 });
      if (this.profileKeys.length >= PROFILE_CAPACITY) this.flush();
      this.endPass();
      const q = this.profileKeys.length * 2;
      this.profileKeys.push(label);
      this.pass = this.getEncoder().beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } });
    }
    if (!this.pass) this.pass = this.getEncoder().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(...groups);
    this.dispatches++;
  }
}
