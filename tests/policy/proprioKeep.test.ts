// proprio_keep: the network reads only the named proprio entries (and their
// motion history); every other entry reads 0, and a name the dataset does not
// have is refused with the names it does have.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import type { Layout } from '../../sensors/index.ts';

const NAMES = ['position.base_x', 'position.lift', 'velocity.base_x', 'velocity.lift', 'gripper_opening', 'gripper_force'];
const layout = { tactile: { taxels: [] }, smell: { channels: [] }, proprio: { names: NAMES } } as unknown as Layout;

function example(): PolicyExample {
  return {
    episode: 0,
    t_ns: 0,
    image: new Uint8Array(8 * 8 * 3),
    tactile: new Float32Array(0),
    smell: new Float32Array(0),
    smell_valid: new Uint8Array(0),
    smell_age_s: new Float32Array(0),
    proprio: Float32Array.of(1, 2, 3, 4, 5, 6),
    history: Float32Array.of(10, 20, 30, 40), // two steps × two joints (base_x, lift)
    actions: new Float32Array(7),
    action_valid: Uint8Array.of(1),
    mask: Uint8Array.of(1, 1, 1, 0),
  };
}

const norm: Normalizer = {
  image: { mean: [0, 0, 0], std: [1, 1, 1] },
  tactile: { mean: [], std: [] },
  smell: { mean: [], std: [] },
  proprio: { mean: new Array(6).fill(0), std: new Array(6).fill(1) },
  action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) },
};

function encode(keep: string[]): number[] {
  const config = defaultConfig({ modalities: ['proprio'], image: { width: 8, height: 8 }, chunk: 1, proprio_keep: keep, proprio_history: { steps: 2, every: 1 } });
  const dims = featureDims(layout, config);
  const batch = allocFeatureBatch(1, config, dims);
  encodeExample(example(), 0, batch, config, norm, dims, null);
  return [...batch.proprio];
}

describe('proprio_keep', () => {
  it('reads every entry by default, and only the named ones (with their history) when given', () => {
    expect(encode([])).toEqual([1, 2, 3, 4, 5, 6, 10, 20, 30, 40]);
    expect(encode(['position.lift', 'gripper_opening'])).toEqual([0, 2, 0, 0, 5, 0, 0, 20, 0, 40]);
  });

  it('refuses a name the dataset does not have, and lists the ones it has', () => {
    expect(() => encode(['position.lift', 'ee_z'])).toThrow(/proprio_keep: ee_z not in the dataset's proprio entries \(position\.base_x, position\.lift/);
  });
});
