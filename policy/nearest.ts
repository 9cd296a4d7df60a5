// The nearest-neighbour baseline (VINN-style, on downsampled pixels, touch,
// smell and proprio): "training" stores every frame's features with its
// action chunk; acting averages the chunks of the k nearest frames, weighted
// by exp(−distance). The few-shot baseline every learned policy must beat.
import type { Example } from '../sensors/index.ts';
import type { PolicyConfig } from './config.ts';
import { allocFeatureBatch, encodeExample, type FeatureBatch, type FeatureDims, type Normalizer } from './features.ts';

/** Pixels are pooled to this many cells per side before comparing. */
export const NN_GRID = 8;

export interface NearestTable {
  features: Float32Array; // [N, F]
  actions: Float32Array; // [N, chunk·7], normalized
  /** Width of each modality block in a feature row, in MASK_ORDER. */
  blocks: number[];
}

export function nearestBlocks(dims: FeatureDims): number[] {
  return [NN_GRID * NN_GRID * 3, dims.tactile, dims.smell, dims.proprio];
}

/** One feature row from an encoded batch row: pooled image, touch, smell, proprio, each block scaled to unit norm weight. */
export function nearestFeatures(batch: FeatureBatch, b: number, config: PolicyConfig, dims: FeatureDims, out: Float32Array): void {
  const { width: W, height: H } = config.image;
  const blocks = nearestBlocks(dims);
  const img = batch.image.subarray(b * W * H * 3, (b + 1) * W * H * 3);
  const cw = W / NN_GRID;
  const ch = H / NN_GRID;
  let o = 0;
  const scale = (n: number) => 1 / Math.sqrt(Math.max(1, n));
  for (let gy = 0; gy < NN_GRID; gy++)
    for (let gx = 0; gx < NN_GRID; gx++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let count = 0;
        for (let y = Math.floor(gy * ch); y < Math.floor((gy + 1) * ch); y++)
          for (let x = Math.floor(gx * cw); x < Math.floor((gx + 1) * cw); x++) {
            s += img[(y * W + x) * 3 + c];
            count++;
          }
        out[o++] = (count ? s / count : 0) * scale(blocks[0]);
      }
  const copy = (src: Float32Array, n: number) => {
    for (let i = 0; i < n; i++) out[o++] = src[b * n + i] * scale(n);
  };
  copy(batch.tactile, dims.tactile);
  copy(batch.smell, dims.smell);
  copy(batch.proprio, dims.proprio);
}

export function fitNearest(examples: Example[], config: PolicyConfig, norm: Normalizer, dims: FeatureDims): NearestTable {
  const blocks = nearestBlocks(dims);
  const F = blocks.reduce((a, b) => a + b, 0);
  const A = config.chunk * 7;
  const features = new Float32Array(examples.length * F);
  const actions = new Float32Array(examples.length * A);
  const batch = allocFeatureBatch(1, config, dims);
  examples.forEach((ex, i) => {
    encodeExample(ex, 0, batch, config, norm, dims, null);
    nearestFeatures(batch, 0, config, dims, features.subarray(i * F, (i + 1) * F));
    actions.set(batch.actions, i * A);
  });
  return { features, actions, blocks };
}

/** Weighted mean chunk of the k nearest rows, skipping masked blocks in the distance. */
export function queryNearest(table: NearestTable, query: Float32Array, mask: ArrayLike<number>, k: number, out: Float32Array): void {
  const F = query.length;
  const N = table.features.length / F;
  const A = table.actions.length / N;
  const best: { i: number; d: number }[] = [];
  for (let i = 0; i < N; i++) {
    let d = 0;
    let o = 0;
    for (let blk = 0; blk < table.blocks.length; blk++) {
      const w = table.blocks[blk];
      if (!mask[blk]) {
        for (let j = 0; j < w; j++) {
          const e = table.features[i * F + o + j] - query[o + j];
          d += e * e;
        }
      }
      o += w;
    }
    d = Math.sqrt(d);
    if (best.length < k || d < best[best.length - 1].d) {
      best.push({ i, d });
      best.sort((a, b) => a.d - b.d);
      if (best.length > k) best.pop();
    }
  }
  out.fill(0);
  let total = 0;
  const d0 = best[0]?.d ?? 0;
  for (const { i, d } of best) {
    const w = Math.exp(-(d - d0));
    for (let j = 0; j < A; j++) out[j] += w * table.actions[i * A + j];
    total += w;
  }
  for (let j = 0; j < A; j++) out[j] /= total || 1;
}
