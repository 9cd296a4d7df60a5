// augment.touch_overload: a frame where the demonstration holds its grip while
// touching is shown with its taxel forces multiplied by a gain in [1, max_gain]
// in `share` of draws; a frame that closes or opens, or that touches less than
// `contact` N, never is; with the field off the encoding is as before; and
// training refuses it where the gripper label is not a delta.
import { describe, expect, it } from 'vitest';
import { defaultConfig, trainPolicy, TrainRefusal } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import type { Layout } from '../../sensors/index.ts';

// One pad of two taxels, [shear, shear, normal] each: 0.8 N of normal force in all.
const layout = { tactile: { taxels: [6] }, smell: { channels: [] }, proprio: { names: ['gripper_opening'] } } as unknown as Layout;
const FORCES = [0.1, -0.1, 0.5, 0.05, 0.0, 0.3];

/** A frame whose two chunk rows carry these delta-gripper labels. */
function frame(gripperRows: [number, number], forces = FORCES): PolicyExample {
  const actions = new Float32Array(14);
  actions[6] = gripperRows[0];
  actions[13] = gripperRows[1];
  return {
    episode: 0,
    t_ns: 0,
    image: new Uint8Array(8 * 8 * 3),
    tactile: Float32Array.from(forces),
    smell: new Float32Array(0),
    smell_valid: new Uint8Array(0),
    smell_age_s: new Float32Array(0),
    proprio: Float32Array.of(0.5),
    actions,
    action_valid: Uint8Array.of(1, 1),
    mask: Uint8Array.of(0, 0, 1, 0),
  };
}

const norm: Normalizer = {
  image: { mean: [0, 0, 0], std: [1, 1, 1] },
  tactile: { mean: [0], std: [1] },
  smell: { mean: [], std: [] },
  proprio: { mean: [0], std: [1] },
  action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) },
};

const symlog = (f: number) => Math.sign(f) * Math.log1p(Math.abs(f));

/** The gain applied in each of `n` encodings, read back from the encoded normal force of the first taxel. */
function gains(ex: PolicyExample, touch_overload: unknown, n = 2000): number[] {
  const config = defaultConfig({
    image: { width: 8, height: 8 },
    chunk: 2,
    proprio_history: { steps: 0 },
    augment: { shift: 0, color_jitter: 0, tactile_noise: 0, modality_dropout: 0, touch_overload },
  });
  const dims = featureDims(layout, config);
  const batch = allocFeatureBatch(1, config, dims);
  let s = 4242;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    encodeExample(ex, 0, batch, config, norm, dims, { rand, config: config.augment });
    // Invert symlog on the normal taxel (0.5 N) to get the gain back.
    out.push(Math.expm1(batch.tactile[2]) / 0.5);
    // Every taxel carries the same gain, shear included, signs kept.
    const g = out.at(-1)!;
    for (let i = 0; i < FORCES.length; i++) expect(batch.tactile[i]).toBeCloseTo(symlog(FORCES[i] * g), 5);
  }
  return out;
}

describe('augment.touch_overload', () => {
  it('scales a holding frame in contact by one gain in [1, max_gain], in about `share` of draws', () => {
    const g = gains(frame([0, 0]), { max_gain: 3, share: 0.4 });
    const scaled = g.filter((x) => x > 1 + 1e-4);
    expect(scaled.length / g.length).toBeCloseTo(0.4, 1);
    expect(Math.min(...g)).toBeGreaterThan(1 - 1e-4);
    expect(Math.max(...g)).toBeLessThan(3 + 1e-3);
    // Spread over the range, not one value.
    expect(Math.max(...scaled)).toBeGreaterThan(2.8);
    expect(Math.min(...scaled)).toBeLessThan(1.2);
  });

  it('leaves a frame that is still closing, or already opening, as it was', () => {
    for (const rows of [[0, 0.006], [0.006, 0.012], [0, -0.05]] as [number, number][]) {
      const g = gains(frame(rows), { max_gain: 4, share: 1 }, 50);
      expect(Math.max(...g.map((x) => Math.abs(x - 1)))).toBeLessThan(1e-4);
    }
  });

  it('leaves a frame whose pads feel less than `contact` N as it was', () => {
    const light = FORCES.map((f) => f / 4); // 0.2 N of normal force
    const config = { max_gain: 4, share: 1, contact: 0.5 };
    const ex = frame([0, 0], light);
    const cfg = defaultConfig({ image: { width: 8, height: 8 }, chunk: 2, proprio_history: { steps: 0 }, augment: { shift: 0, color_jitter: 0, tactile_noise: 0, modality_dropout: 0, touch_overload: config } });
    const dims = featureDims(layout, cfg);
    const batch = allocFeatureBatch(1, cfg, dims);
    encodeExample(ex, 0, batch, cfg, norm, dims, { rand: () => 0.5, config: cfg.augment });
    expect([...batch.tactile].map((v) => +v.toFixed(5))).toEqual(light.map((f) => +symlog(f).toFixed(5)));
  });

  it('is off by default, and then draws no random number', () => {
    expect(defaultConfig().augment.touch_overload).toBeNull();
    let calls = 0;
    const counting = (on: boolean) => {
      const cfg = defaultConfig({ image: { width: 8, height: 8 }, chunk: 2, proprio_history: { steps: 0 }, augment: { shift: 0, touch_overload: on ? {} : null } });
      const dims = featureDims(layout, cfg);
      const batch = allocFeatureBatch(1, cfg, dims);
      calls = 0;
      encodeExample(frame([0, 0]), 0, batch, cfg, norm, dims, { rand: () => (calls++, 0.25), config: cfg.augment });
      return calls;
    };
    // With it on, a holding frame in contact takes two more draws (whether, and how much).
    expect(counting(true) - counting(false)).toBe(2);
  });

  it('refuses a config whose gripper label is not a delta before reading any data, naming the field', async () => {
    const run = trainPolicy({ data: '/nonexistent/dataset', out: '/tmp/never.safetensors', config: { augment: { touch_overload: {} } } });
    await expect(run).rejects.toBeInstanceOf(TrainRefusal);
    await expect(trainPolicy({ data: '/nonexistent/dataset', out: '/tmp/never.safetensors', config: { action: { kind: 'waypoint', gripper: 'absolute' }, augment: { touch_overload: {} } } })).rejects.toThrow(/touch_overload.*delta/);
  });
});
