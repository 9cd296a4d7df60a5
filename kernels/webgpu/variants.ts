// The matmul and convolution kernels the autotuner chooses between, the
// hand-set heuristic that picks while a shape is untuned (the "untuned
// default"), and the filter that drops what a device cannot run.
import type { ConvGeometry } from '../backend.ts';
import { sharedBytes, threads, tileM, tileN, type ASource, type OperandLayout, type TiledConfig } from './wgsl/matmulTiled.ts';

/** One matmul problem as the kernels see it: a [B,M,K] @ [B,K,N] with strides, or a convolution's implicit GEMM. */
export interface MatmulProblem {
  B: number;
  M: number;
  N: number;
  K: number;
  /** Which dim of each operand is contiguous: A 'n' = k, 't' = m; B 'n' = n, 't' = k. */
  aLayout: OperandLayout;
  bLayout: OperandLayout;
  /** vec4 loads are legal (stride 1 along the contiguous dim, other strides, offset and extent multiples of 4). */
  vecA: boolean;
  vecB: boolean;
  aSource: ASource;
}

export type MatmulVariant =
  | { id: string; kind: 'tiled'; config: TiledConfig; layoutAware: boolean; vec4: boolean; source?: () => string }
  | { id: string; kind: 'small'; source?: () => string }
  /** Convolution only: materialize im2col (or col2im) and run the matmul the matmul tuner picks. */
  | { id: string; kind: 'im2col' };

export interface MatmulChoice {
  variant: MatmulVariant;
  splits: number;
}

/** The original 64×64 kernel: 16×16 threads, 4×4 each, K by 16, loads in the layout-blind order. */
export const DEFAULT_TILED: TiledConfig = { wgM: 16, wgN: 16, tm: 4, tn: 4, tk: 16 };
export const DEFAULT_VARIANT: MatmulVariant = { id: 'd64', kind: 'tiled', config: DEFAULT_TILED, layoutAware: false, vec4: false };
export const SMALL_VARIANT: MatmulVariant = { id: 'small', kind: 'small' };
export const IM2COL_VARIANT: MatmulVariant = { id: 'im2col', kind: 'im2col' };

/** Tile shapes searched: square tiles, narrow ones for thin outputs, 8×8 per thread, a longer K step. */
export const TILED_CONFIGS: readonly TiledConfig[] = [
  { wgM: 16, wgN: 16, tm: 4, tn: 4, tk: 16 }, // 64×64
  { wgM: 8, wgN: 8, tm: 4, tn: 4, tk: 16 }, // 32×32
  { wgM: 8, wgN: 8, tm: 4, tn: 4, tk: 32 }, // 32×32, K by 32
  { wgM: 8, wgN: 8, tm: 8, tn: 8, tk: 16 }, // 64×64, 8×8 per thread
  { wgM: 16, wgN: 16, tm: 8, tn: 8, tk: 8 }, // 128×128
  { wgM: 4, wgN: 16, tm: 4, tn: 4, tk: 16 }, // 16×64
  { wgM: 16, wgN: 4, tm: 4, tn: 4, tk: 16 }, // 64×16
  { wgM: 4, wgN: 4, tm: 4, tn: 4, tk: 32 }, // 16×16, K by 32
];

export function configId(c: TiledConfig): string {
  return `${tileM(c)}x${tileN(c)}r${c.tm}x${c.tn}k${c.tk}`;
}

export interface DeviceLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export function fitsDevice(c: TiledConfig, limits: DeviceLimits): boolean {
  return (
    threads(c) <= limits.maxComputeInvocationsPerWorkgroup &&
    c.wgN <= limits.maxComputeWorkgroupSizeX &&
    c.wgM <= limits.maxComputeWorkgroupSizeY &&
    sharedBytes(c) <= limits.maxComputeWorkgroupStorageSize
  );
}

/** Every variant this device can run (shape-independent): the set whose checksum keys the cache. */
export function variantCatalog(limits: DeviceLimits, op: 'matmul' | 'conv'): MatmulVariant[] {
  const out: MatmulVariant[] = [op === 'conv' ? IM2COL_VARIANT : DEFAULT_VARIANT];
  if (op === 'matmul') out.push(SMALL_VARIANT);
  for (const c of TILED_CONFIGS) {
    if (!fitsDevice(c, limits)) continue;
    const id = configId(c);
    out.push({ id: `${id}L`, kind: 'tiled', config: c, layoutAware: true, vec4: false });
    if (op === 'matmul') out.push({ id: `${id}LV`, kind: 'tiled', config: c, layoutAware: true, vec4: true });
  }
  return out;
}

/**
 * How many ways to split K. One tile walking a long K runs serially on one
 * core of a CPU driver (and leaves a real GPU idle); splitting K until there
 * are ~32 workgroups restores parallelism at the cost of one small reduction
 * pass. Weight gradients (K = batch·pixels) are the typical case.
 */
export function splitKFor(tiles: number, K: number): number {
  if (tiles >= 32 || K < 512) return 1;
  return Math.max(1, Math.min(Math.ceil(32 / tiles), Math.floor(K / 256), 64));
}

export function tilesFor(c: TiledConfig, p: Pick<MatmulProblem, 'B' | 'M' | 'N'>): number {
  return p.B * Math.ceil(p.M / tileM(c)) * Math.ceil(p.N / tileN(c));
}

/** The hand-set heuristic (what ran before the autotuner, and what runs while a shape is untuned). */
export function defaultMatmulChoice(p: MatmulProblem): MatmulChoice {
  if (p.aSource !== 'strided') return { variant: IM2COL_VARIANT, splits: 1 };
  if ((p.M < 16 || p.N < 16) && p.K <= 256) return { variant: SMALL_VARIANT, splits: 1 };
  return { variant: DEFAULT_VARIANT, splits: splitKFor(tilesFor(DEFAULT_TILED, p), p.K) };
}

/** Whether a choice can run this problem on this device (grid size, vec4 alignment). */
export function choiceFits(choice: MatmulChoice, p: MatmulProblem, limits: DeviceLimits): boolean {
  const v = choice.variant;
  if (v.kind === 'im2col') return p.aSource !== 'strided';
  if (v.kind === 'small') return p.aSource === 'strided' && choice.splits === 1;
  if (!fitsDevice(v.config, limits)) return false;
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(p.M / tileM(v.config)) > max || Math.ceil(p.N / tileN(v.config)) > max || p.B * choice.splits > max) return false;
  return true;
}

/** The candidates worth timing for one problem: every fitting variant × a few split counts. */
export function matmulCandidates(p: MatmulProblem, catalog: readonly MatmulVariant[], limits: DeviceLimits): MatmulChoice[] {
  const out: MatmulChoice[] = [];
  const def = defaultMatmulChoice(p);
  // Tiles far larger than the output mostly compute padding: keep the tile
  // shapes within 2× of the best fit (time goes to candidates that can win).
  const tiledUse = catalog.filter((v) => v.kind === 'tiled').map((v) => utilization(v.config, p));
  const bestUse = Math.max(0, ...tiledUse);
  for (const variant of catalog) {
    if (variant.kind === 'tiled' && variant.vec4 && !(p.vecA || p.vecB)) continue; // same kernel as its plain twin
    if (variant.kind === 'tiled' && variant.id !== def.variant.id && utilization(variant.config, p) < bestUse / 2) continue;
    if (variant.kind === 'tiled') {
      const tiles = tilesFor(variant.config, p);
      const splits = new Set([1]);
      for (let s = 2; s <= 64; s *= 2) if (p.K / s >= 2 * variant.config.tk && tiles * s <= 512) splits.add(s);
      if (variant.id === def.variant.id) splits.add(def.splits);
      for (const s of splits) out.push({ variant, splits: s });
    } else if (variant.kind === 'small') {
      if (p.B * p.M * p.N <= 1 << 16) out.push({ variant, splits: 1 });
    } else {
      out.push({ variant, splits: 1 });
    }
  }
  if (!out.some((c) => c.variant.id === def.variant.id && c.splits === def.splits)) out.unshift(def);
  return out.filter((c) => choiceFits(c, p, limits));
}

/** Fraction of a tiled launch's output slots that are real outputs. */
export function utilization(c: TiledConfig, p: Pick<MatmulProblem, 'M' | 'N'>): number {
  const TM = tileM(c);
  const TN = tileN(c);
  return (p.M * p.N) / (Math.ceil(p.M / TM) * TM * Math.ceil(p.N / TN) * TN);
}

export function choiceId(c: MatmulChoice): string {
  return c.splits > 1 ? `${c.variant.id}/s${c.splits}` : c.variant.id;
}

export function parseChoiceId(id: string, catalog: readonly MatmulVariant[]): MatmulChoice | null {
  const m = /^([^/]+)(?:\/s(\d+))?$/.exec(id);
  if (!m) return null;
  const variant = catalog.find((v) => v.id === m[1]);
  if (!variant) return null;
  return { variant, splits: m[2] ? Number(m[2]) : 1 };
}

/** The convolution problems as implicit GEMMs: forward, weight gradient, input gradient. */
export type ConvPass = 'fwd' | 'dw' | 'dx';

export function convGemm(pass: ConvPass, g: ConvGeometry, cout: number): { M: number; N: number; K: number; aSource: ASource } {
  const rows = g.n * g.oh * g.ow;
  const window = g.kh * g.kw;
  if (pass === 'fwd') return { M: rows, N: cout, K: window * g.c, aSource: 'im2col' };
  if (pass === 'dw') return { M: window * g.c, N: cout, K: rows, aSource: 'im2colT' };
  return { M: g.n * g.h * g.w, N: g.c, K: window * cout, aSource: 'col2im' };
}
