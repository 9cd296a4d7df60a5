// augment.tactile_shift: each pad's contact moves by whole taxels, the force
// triples kept whole, a press moved past the edge felt at the edge; every
// offset within the reach is drawn; off by default; and the dataset's layout gives the grids
// it moves across.
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, shiftTaxels, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import { Dataset, type Layout } from '../../sensors/index.ts';
import { recordEpisodes } from '../../sim/index.ts';

// Two pads of 3 rows × 2 columns; a press on one taxel of each.
const PAD = 3 * 2 * 3;
const pads = [
  { offset: 0, rows: 3, cols: 2 },
  { offset: PAD, rows: 3, cols: 2 },
];
function press(left: [number, number], right: [number, number]): Float32Array {
  const f = new Float32Array(2 * PAD);
  f.set([0.1, -0.2, 1.5], (left[0] * 2 + left[1]) * 3);
  f.set([0.3, 0.4, 2.5], PAD + (right[0] * 2 + right[1]) * 3);
  return f;
}
/** [row, col] of the pressed taxel on each pad, read off by its normal force. */
function where(f: Float32Array): [number, number][] {
  return pads.map(({ offset }) => {
    for (let i = 0; i < 6; i++) if (f[offset + i * 3 + 2] !== 0) return [Math.floor(i / 2), i % 2] as [number, number];
    return [-1, -1] as [number, number];
  });
}

describe('augment.tactile_shift', () => {
  it('moves each pad by its own whole-taxel offset and keeps the force triple whole', () => {
    // rand → 0.99 then 0.5 on the left pad (dr = +1, dc = 0), 0 and 0.99 on the right (dr = −1, dc = +1).
    const draws = [0.99, 0.5, 0, 0.99];
    const out = shiftTaxels(press([1, 0], [2, 0]), pads, 1, () => draws.shift()!);
    expect(where(out)).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect([...out.subarray((2 * 2 + 0) * 3, (2 * 2 + 0) * 3 + 3)].map((v) => +v.toFixed(5))).toEqual([0.1, -0.2, 1.5]);
    expect([...out.subarray(PAD + (1 * 2 + 1) * 3, PAD + (1 * 2 + 1) * 3 + 3)].map((v) => +v.toFixed(5))).toEqual([0.3, 0.4, 2.5]);
    // Nothing else on either pad.
    expect(out.reduce((a, v) => a + Math.abs(v), 0)).toBeCloseTo(0.1 + 0.2 + 1.5 + 0.3 + 0.4 + 2.5, 5);
  });

  it('feels a press moved past the edge at the edge, its force kept', () => {
    const draws = [0.99, 0.5, 0, 0]; // left pad one row down from the last row; right pad up and left from the corner
    const out = shiftTaxels(press([2, 1], [0, 0]), pads, 1, () => draws.shift()!);
    expect(where(out)).toEqual([
      [2, 1],
      [0, 0],
    ]);
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(0.1 - 0.2 + 1.5 + 0.3 + 0.4 + 2.5, 5);
  });

  it('adds presses that meet at the edge', () => {
    const f = new Float32Array(2 * PAD);
    f[(1 * 2 + 0) * 3 + 2] = 1; // row 1 and row 2 of column 0
    f[(2 * 2 + 0) * 3 + 2] = 2;
    const draws = [0.99, 0.5, 0.5, 0.5]; // one row down: both end in row 2
    const out = shiftTaxels(f, pads, 1, () => draws.shift()!);
    expect(out[(2 * 2 + 0) * 3 + 2]).toBe(3);
    expect(out[(1 * 2 + 0) * 3 + 2]).toBe(0);
  });

  it('draws every offset within the reach, through encodeExample', () => {
    const layout = { tactile: { streams: ['l', 'r'], taxels: [PAD, PAD], grids: [{ rows: 3, cols: 2 }, { rows: 3, cols: 2 }] }, smell: { channels: [] }, proprio: { names: ['gripper_opening'] } } as unknown as Layout;
    const config = defaultConfig({ image: { width: 8, height: 8 }, chunk: 1, proprio_history: { steps: 0 }, augment: { shift: 0, tactile_noise: 0, modality_dropout: 0, tactile_shift: 1 } });
    const dims = featureDims(layout, config);
    expect(dims.pads).toEqual(pads);
    const norm: Normalizer = { image: { mean: [0, 0, 0], std: [1, 1, 1] }, tactile: { mean: [0], std: [1] }, smell: { mean: [], std: [] }, proprio: { mean: [0], std: [1] }, action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) } };
    const ex: PolicyExample = { episode: 0, t_ns: 0, image: new Uint8Array(8 * 8 * 3), tactile: press([1, 0], [1, 1]), smell: new Float32Array(0), smell_valid: new Uint8Array(0), smell_age_s: new Float32Array(0), proprio: Float32Array.of(0), actions: new Float32Array(7), action_valid: Uint8Array.of(1), mask: Uint8Array.of(0, 0, 1, 0) };
    const batch = allocFeatureBatch(1, config, dims);
    let s = 99;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      encodeExample(ex, 0, batch, config, norm, dims, { rand, config: config.augment });
      seen.add(JSON.stringify(where(batch.tactile)[0]));
    }
    // From row 1, column 0 of a 3×2 pad: rows 0–2, columns 0–1 (column −1 is felt at column 0).
    expect([...seen].sort()).toEqual(['[0,0]', '[0,1]', '[1,0]', '[1,1]', '[2,0]', '[2,1]']);
    expect(defaultConfig().augment.tactile_shift).toBe(0);
  });

  it('reads each pad\'s grid from a recorded dataset', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-tshift-'));
    try {
      await recordEpisodes({ task: 'gentle-grasp', driver: 'full', episodes: 1, firstSeed: 0, outDir: dir, fsync: false });
      const layout = await (await Dataset.open(dir)).layout({ rate_hz: 20, horizon: 0 });
      expect(layout.tactile.grids).toEqual([
        { rows: 4, cols: 4 },
        { rows: 4, cols: 4 },
      ]);
      const dims = featureDims(layout, defaultConfig({ augment: { tactile_shift: 1 } }));
      expect(dims.pads).toEqual([
        { offset: 0, rows: 4, cols: 4 },
        { offset: 48, rows: 4, cols: 4 },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
