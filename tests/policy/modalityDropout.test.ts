// augment.modality_dropout: one rate for every modality, or one per modality.
// Encoding the same example many times masks each modality at its own rate,
// the unnamed ones at the default, and a rate outside 0…0.9 or an unknown
// modality is refused with the field's path.
import { describe, expect, it } from 'vitest';
import { defaultConfig, PolicyConfig } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import type { Layout } from '../../sensors/index.ts';

const layout = { tactile: { taxels: [2] }, smell: { channels: ['s0'] }, proprio: { names: ['gripper_opening'] } } as unknown as Layout;

const example: PolicyExample = {
  episode: 0,
  t_ns: 0,
  image: new Uint8Array(8 * 8 * 3),
  tactile: Float32Array.of(1, 2),
  smell: new Float32Array(9).fill(100),
  smell_valid: new Uint8Array(9).fill(1),
  smell_age_s: new Float32Array(9),
  smell_baseline: Float32Array.of(100),
  proprio: Float32Array.of(0.5),
  actions: new Float32Array(7),
  action_valid: Uint8Array.of(1),
  mask: Uint8Array.of(0, 0, 0, 0),
};

const norm: Normalizer = {
  image: { mean: [0, 0, 0], std: [1, 1, 1] },
  tactile: { mean: [0], std: [1] },
  smell: { mean: [0], std: [1] },
  proprio: { mean: [0], std: [1] },
  action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) },
};

/** Share of `n` encodings in which each modality (camera, tactile, smell, proprio) was masked. */
function maskedShare(modality_dropout: unknown, n = 4000): number[] {
  const config = defaultConfig({ image: { width: 8, height: 8 }, chunk: 1, proprio_history: { steps: 0 }, augment: { shift: 0, modality_dropout } });
  const dims = featureDims(layout, config);
  const batch = allocFeatureBatch(1, config, dims);
  // A fixed-seed LCG, so the shares are the same on every run.
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const count = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    encodeExample(example, 0, batch, config, norm, dims, { rand, config: config.augment });
    for (let m = 0; m < 4; m++) count[m] += batch.mask[m];
  }
  return count.map((c) => c / n);
}

describe('augment.modality_dropout', () => {
  it('masks every modality at one rate when given a number', () => {
    for (const share of maskedShare(0.3)) expect(share).toBeCloseTo(0.3, 1);
  });

  it('masks each named modality at its own rate, and the others at 0.15', () => {
    const [camera, tactile, smell, proprio] = maskedShare({ tactile: 0.6, camera: 0 });
    expect(camera).toBe(0);
    expect(tactile).toBeCloseTo(0.6, 1);
    expect(smell).toBeCloseTo(0.15, 1);
    expect(proprio).toBeCloseTo(0.15, 1);
  });

  it('zeroes the touch features of the examples it masks', () => {
    const config = defaultConfig({ image: { width: 8, height: 8 }, chunk: 1, proprio_history: { steps: 0 }, augment: { shift: 0, tactile_noise: 0, modality_dropout: { tactile: 0.9, camera: 0, smell: 0, proprio: 0 } } });
    const dims = featureDims(layout, config);
    const batch = allocFeatureBatch(1, config, dims);
    encodeExample(example, 0, batch, config, norm, dims, { rand: () => 0.5, config: config.augment });
    expect([...batch.mask]).toEqual([0, 1, 0, 0]);
    expect([...batch.tactile]).toEqual([0, 0]);
  });

  it('refuses a rate above 0.9 or a modality it does not know, naming the field', () => {
    const tooHigh = PolicyConfig.safeParse({ augment: { modality_dropout: { tactile: 0.95 } } });
    expect(tooHigh.success).toBe(false);
    expect(JSON.stringify(tooHigh.error?.issues)).toMatch(/modality_dropout/);
    const unknown = PolicyConfig.safeParse({ augment: { modality_dropout: { touch: 0.5 } } });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error?.issues)).toMatch(/modality_dropout/);
  });
});
