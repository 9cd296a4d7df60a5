// A second, fixed camera (camera/scene) read beside the wrist camera: real MCAP
// logs with both streams, a policy trained on them with its own image token,
// masked with the camera modality, and never view-shifted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, Tensor, noGrad, tidy } from '../../kernels/index.ts';
import { MultimodalPolicy, defaultConfig, loadCheckpoint, trainPolicy, type PolicyInputs } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, type Augment, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import { Dataset } from '../../sensors/index.ts';
import { TINY, firstLosses, makeTinyDataset, optionalGpu } from './fixtures.ts';

const SCENE = { ...TINY, scene_camera: 'camera/scene', train: { ...TINY.train, steps: 60 } };
const gpu = await optionalGpu('scene-camera test');

let withScene: string;
let wristOnly: string;
let out: string;
beforeAll(async () => {
  withScene = await makeTinyDataset(2, 3, undefined, true);
  wristOnly = await makeTinyDataset(1, 2);
  out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-scene-')), 'policy.safetensors');
});

describe('scene camera', () => {
  it('the dataset keeps the wrist camera as the camera and reads the scene camera beside it', async () => {
    const ds = await Dataset.open(withScene);
    // camera/scene sorts before camera/wrist: the wrist camera must still be the one view shifts move.
    expect((await ds.layout({ rate_hz: 10, horizon: 0 })).camera).toBe('camera/wrist');
    const { layout, examples } = await ds.examples({ rate_hz: 10, horizon: 0, image: { width: 16, height: 16 }, scene_camera: 'camera/scene' });
    expect(layout).toMatchObject({ camera: 'camera/wrist', scene_camera: 'camera/scene' });
    const late = examples.slice(5);
    expect(late.every((e) => e.scene_image?.length === 16 * 16 * 3)).toBe(true);
    // A different view: the synthetic scene camera shows the cards in reverse order.
    expect(late.some((e) => e.scene_image!.some((v, i) => v !== e.image[i]))).toBe(true);
    await expect((await Dataset.open(wristOnly)).layout({ rate_hz: 10, horizon: 0, scene_camera: 'camera/scene' })).rejects.toThrow(/scene camera camera\/scene is not among the dataset's camera streams \(camera\/wrist\)/);
  });

  it('trains with a second image token, masked with the camera modality', async () => {
    await trainPolicy({ data: withScene, out, backend: 'cpu', resume: false, config: SCENE });
    const { meta, tensors } = loadCheckpoint(out);
    expect(meta.layout.scene_camera).toBe('camera/scene');
    expect(meta.normalizer.scene?.mean).toHaveLength(3);
    expect(Object.keys(tensors).filter((n) => n.startsWith('enc_scene.')).length).toBeGreaterThan(0);
    const backend = new CpuBackend();
    const model = new MultimodalPolicy(meta.config, meta.dims, backend);
    model.loadStateDict(tensors);
    const B = 4;
    const { width, height } = meta.config.image;
    // Rows: camera seen / scene seen; camera seen / scene missing; camera masked / scene "seen"; camera masked / scene missing.
    const mask = Float32Array.from({ length: B * 4 }, (_, i) => (i % 4 === 0 ? (i >= 8 ? 1 : 0) : 0));
    const sceneMissing = Float32Array.of(0, 1, 0, 1);
    const image = Tensor.random([1, height, width, 3], 'normal', 1, backend);
    const scene = Tensor.random([1, height, width, 3], 'normal', 5, backend);
    const values = await noGrad(() =>
      tidy(() => {
        const inputs: PolicyInputs = {
          image: image.expand([B, height, width, 3]),
          scene: scene.expand([B, height, width, 3]),
          sceneMissing: Tensor.fromArray(sceneMissing, [B, 1], backend),
          tactile: Tensor.zeros([B, meta.dims.tactile], backend),
          smell: Tensor.zeros([B, meta.dims.smell], backend),
          proprio: Tensor.zeros([B, meta.dims.proprio], backend),
          mask: Tensor.fromArray(mask, [B, 4], backend),
        };
        return model.forward(inputs);
      }),
    ).toArray();
    const row = meta.config.chunk * 7;
    const rows = [0, 1, 2, 3].map((b) => values.slice(b * row, (b + 1) * row));
    expect(values.every(Number.isFinite)).toBe(true);
    // The scene token is read: losing only the scene view changes the chunk.
    expect(rows[0]).not.toEqual(rows[1]);
    // Masking the camera modality hides the scene view too: what it shows no longer matters.
    expect(rows[2]).toEqual(rows[3]);
    model.dispose();
    image.dispose();
    scene.dispose();
  }, 120_000);

  it.skipIf(!gpu)('the first training losses with a scene camera match on WebGPU and CPU', async () => {
    const losses = await firstLosses(withScene, SCENE, 3);
    expect(losses.cpu.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(Math.abs(losses.webgpu[i] - losses.cpu[i])).toBeLessThanOrEqual(1e-3 * losses.cpu[i] + 1e-5);
  }, 120_000);

  it('a view shift moves the wrist image and its label, never the scene image; a scene shift moves the scene image, never the label', () => {
    const S = 8;
    const config = defaultConfig({ action: { kind: 'waypoint' }, image: { width: S, height: S }, modalities: ['camera'], scene_camera: 'camera/scene', augment: { shift: 0, view_shift: 3, scene_shift: 0, color_jitter: 0, modality_dropout: 0 } });
    const ramp = (k: number) => Uint8Array.from({ length: S * S * 3 }, (_, i) => (Math.floor(i / 3) * k) % 256);
    const ex: PolicyExample = {
      episode: 0,
      t_ns: 0,
      image: ramp(3),
      scene_image: ramp(5),
      tactile: new Float32Array(0),
      smell: new Float32Array(0),
      smell_valid: new Uint8Array(0),
      smell_age_s: new Float32Array(0),
      proprio: new Float32Array(0),
      actions: new Float32Array(config.chunk * 7),
      action_valid: new Uint8Array(config.chunk).fill(1),
      mask: Uint8Array.of(0, 1, 1, 1),
      above_grasp: 0.05,
    };
    const id = { mean: [0, 0, 0], std: [1, 1, 1] };
    const norm: Normalizer = { image: id, scene: id, tactile: { mean: [0], std: [1] }, smell: { mean: [], std: [] }, proprio: { mean: [], std: [] }, action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) } };
    const dims = { tactile: 0, smellChannels: 0, smell: 0, proprio: 0, history: 0 };
    const plain = allocFeatureBatch(1, config, dims);
    encodeExample(ex, 0, plain, config, norm, dims, null);
    // rand() = 0 draws a shift of −3 px both ways (and nothing else draws here with jitter and dropout off).
    const augment: Augment = { rand: () => 0, config: config.augment, focal: 0.65 };
    const shifted = allocFeatureBatch(1, config, dims);
    encodeExample(ex, 0, shifted, config, norm, dims, augment);
    expect(Array.from(shifted.image)).not.toEqual(Array.from(plain.image));
    expect(shifted.actions[0]).not.toBe(0);
    expect(Array.from(shifted.scene)).toEqual(Array.from(plain.scene));
    expect(plain.sceneMissing[0]).toBe(0);
    // Scene shifts alone: the fixed view moves as a whole, hand and things together, and the label stays.
    const sceneOnly = { ...config, augment: { ...config.augment, view_shift: 0, scene_shift: 2 } };
    const moved = allocFeatureBatch(1, sceneOnly, dims);
    encodeExample(ex, 0, moved, sceneOnly, norm, dims, { ...augment, config: sceneOnly.augment });
    expect(Array.from(moved.image)).toEqual(Array.from(plain.image));
    expect(Array.from(moved.actions)).toEqual(Array.from(plain.actions));
    // rand() = 0 shifts by −2 px both ways: pixel (x, y) shows the frame's (x − 2, y − 2), edges replicated.
    const px = (b: Float32Array, x: number, y: number) => b[(y * S + x) * 3];
    expect(px(moved.scene, 5, 6)).toBe(px(plain.scene, 3, 4));
    expect(px(moved.scene, 1, 1)).toBe(px(plain.scene, 0, 0));
    // No scene frame → marked missing, zeros in.
    const none = allocFeatureBatch(1, config, dims);
    encodeExample({ ...ex, scene_image: undefined }, 0, none, config, norm, dims, null);
    expect(none.sceneMissing[0]).toBe(1);
    expect(none.scene.every((v) => v === 0)).toBe(true);
  });

  it('scene_when "holding": the scene view reads as missing unless the measured grip force says the hand holds something', () => {
    const S = 8;
    const config = defaultConfig({ image: { width: S, height: S }, modalities: ['camera', 'proprio'], proprio_history: { steps: 0 }, scene_camera: 'camera/scene', scene_when: 'holding', holding_force: 2, augment: { shift: 0, color_jitter: 0, modality_dropout: 0 } });
    const layout = { camera: 'camera/wrist', scene_camera: 'camera/scene', image: { width: S, height: S }, tactile: { streams: [], taxels: [] }, smell: { stream: null, channels: [], history: 8 }, proprio: { stream: 'proprio', names: ['gripper_opening', 'gripper_force'] }, action: { stream: 'action', horizon: 9, names: [] } };
    const dims = featureDims(layout, config);
    expect(dims.grip_force).toBe(1);
    const id = { mean: [0, 0, 0], std: [1, 1, 1] };
    const norm: Normalizer = { image: id, scene: id, tactile: { mean: [0], std: [1] }, smell: { mean: [], std: [] }, proprio: { mean: [0, 0], std: [1, 1] }, action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) } };
    const seen = (force: number, proprioMissing = false) => {
      const ex: PolicyExample = {
        episode: 0,
        t_ns: 0,
        image: new Uint8Array(S * S * 3).fill(100),
        scene_image: new Uint8Array(S * S * 3).fill(200),
        tactile: new Float32Array(0),
        smell: new Float32Array(0),
        smell_valid: new Uint8Array(0),
        smell_age_s: new Float32Array(0),
        proprio: Float32Array.of(0.05, force),
        actions: new Float32Array(config.chunk * 7),
        action_valid: new Uint8Array(config.chunk).fill(1),
        mask: Uint8Array.of(0, 1, 1, proprioMissing ? 1 : 0),
      };
      const out = allocFeatureBatch(1, config, dims);
      encodeExample(ex, 0, out, config, norm, dims, null);
      return out.sceneMissing[0] === 0;
    };
    expect(seen(3)).toBe(true);
    expect(seen(1)).toBe(false);
    expect(seen(3, true)).toBe(false); // no proprio: holding is unknown
    const noForce = { ...layout, proprio: { stream: 'proprio', names: ['gripper_opening'] } };
    expect(() => featureDims(noForce, config)).toThrow(/scene_when "holding" reads the grip force, and the dataset's proprio has no gripper_force \(gripper_opening\)/);
  });
});
