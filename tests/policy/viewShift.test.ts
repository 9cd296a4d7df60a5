// View shifts and delta gripper actions: an image shift whose waypoint label
// moves as the real wrist camera says it should, applied only while the hand
// holds nothing; gripper labels as the change from the previous command, and
// the runner's command rebuilt from them.
import * as THREE from 'three/webgpu';
import { describe, expect, it } from 'vitest';
import { wristCameraPose } from '../../sim/camera.ts';
import { defaultConfig } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, viewShift, type Augment, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import { relabelWaypoints, waypointAction } from '../../policy/waypoints.ts';
import { ActionBlender } from '../../policy/controller.ts';

const SIZE = 32;
const FOV = 75; // the simulator's wrist camera
const FOCAL = 0.5 / Math.tan((FOV * Math.PI) / 360); // fy / height
const config = defaultConfig({ action: { kind: 'waypoint' }, image: { width: SIZE, height: SIZE }, modalities: ['camera'], augment: { shift: 0, view_shift: 10, color_jitter: 0, modality_dropout: 0 } });

/** An augment whose draws replay `values` (the view shift takes the first two). */
function fixed(values: number[], focal = FOCAL): Augment {
  let i = 0;
  return { rand: () => values[i++ % values.length], config: config.augment, focal };
}
/** The rand() value that makes viewShift draw `px` from [−s, s]. */
const draw = (px: number, s = 10) => (px + s + 0.5) / (2 * s + 1);

function example(aboveGrasp: number | undefined, image = new Uint8Array(SIZE * SIZE * 3)): PolicyExample {
  return {
    episode: 0,
    t_ns: 0,
    image,
    tactile: new Float32Array(0),
    smell: new Float32Array(0),
    smell_valid: new Uint8Array(0),
    smell_age_s: new Float32Array(0),
    proprio: new Float32Array(0),
    actions: Float32Array.from({ length: config.chunk * 7 }, (_, i) => (i % 7 === 0 ? 0.05 : i % 7 === 1 ? -0.02 : 0)),
    action_valid: new Uint8Array(config.chunk).fill(1),
    mask: Uint8Array.of(0, 1, 1, 1),
    above_grasp: aboveGrasp,
  };
}

/** Identity normalization and camera-only dims: encoded pixels are the raw ones / 255, labels unscaled. */
const norm: Normalizer = {
  image: { mean: [0, 0, 0], std: [1, 1, 1] },
  tactile: { mean: [0], std: [1] },
  smell: { mean: [], std: [] },
  proprio: { mean: [], std: [] },
  action: { mean: new Array(7).fill(0), std: new Array(7).fill(1) },
};
const dims = { tactile: 0, smellChannels: 0, smell: 0, proprio: 0, history: 0 };

function project(camera: THREE.PerspectiveCamera, p: THREE.Vector3): [number, number] {
  const n = p.clone().project(camera);
  return [((n.x + 1) / 2) * SIZE, ((1 - n.y) / 2) * SIZE];
}

describe('view shifts', () => {
  it('move the waypoint as far and as the wrist camera says the tool would have moved to see the shifted image', () => {
    const yaw = 0.4;
    const tool = new THREE.Vector3(0.8, 0.05, 1.17);
    const aboveGrasp = 0.19;
    const shift = viewShift(example(aboveGrasp), config, fixed([draw(3), draw(-2)]));
    expect([shift.px, shift.py]).toEqual([3, -2]);
    // The label moved by −δ: the tool stood δ (hand frame) aside. Where does the scene go in the real camera?
    const [hx, hy] = [-shift.dx, -shift.dy];
    const moved = tool.clone().add(new THREE.Vector3(Math.cos(yaw) * hx - Math.sin(yaw) * hy, Math.sin(yaw) * hx + Math.cos(yaw) * hy, 0));
    const camera = new THREE.PerspectiveCamera(FOV, 1, 0.02, 6);
    // A point of the object at the grasp height, a little ahead of the fingers.
    const object = new THREE.Vector3(tool.x + Math.cos(yaw) * 0.03, tool.y + Math.sin(yaw) * 0.03, tool.z - aboveGrasp);
    wristCameraPose(camera, tool, yaw);
    const [u0, v0] = project(camera, object);
    wristCameraPose(camera, moved, yaw);
    const [u1, v1] = project(camera, object);
    // Seen from the tool moved by δ, the object sits (px, py) pixels over: the shifted image.
    expect(u1 - u0).toBeCloseTo(shift.px, 0);
    expect(v1 - v0).toBeCloseTo(shift.py, 0);
    expect(Math.abs(u1 - u0 - shift.px)).toBeLessThan(0.35);
    expect(Math.abs(v1 - v0 - shift.py)).toBeLessThan(0.35);
  });

  it('shift the image content and the labels together, and leave both alone once the hand holds something', () => {
    const image = new Uint8Array(SIZE * SIZE * 3);
    const [x0, y0] = [12, 15];
    image.fill(255, (y0 * SIZE + x0) * 3, (y0 * SIZE + x0) * 3 + 3);
    const brightest = (img: Float32Array) => {
      let at = 0;
      for (let i = 0; i < SIZE * SIZE; i++) if (img[i * 3] > img[at * 3]) at = i;
      return [at % SIZE, Math.floor(at / SIZE)];
    };
    const batch = allocFeatureBatch(2, config, dims);
    const free = example(0.1, image);
    const held = example(undefined, image);
    const rolls = [draw(4), draw(-3), 0.5, 0.5];
    encodeExample(free, 0, batch, config, norm, dims, fixed(rolls));
    encodeExample(held, 1, batch, config, norm, dims, fixed(rolls));
    const expected = viewShift(free, config, fixed(rolls));
    expect(brightest(batch.image.subarray(0, SIZE * SIZE * 3))).toEqual([x0 + 4, y0 - 3]);
    expect(expected.dy).toBeLessThan(0); // content moved right: the object is further to the hand's −y
    expect(expected.dx).toBeGreaterThan(0); // content moved up: further ahead
    for (let k = 0; k < config.chunk; k++) {
      expect(batch.actions[k * 7]).toBeCloseTo(0.05 + expected.dx, 6);
      expect(batch.actions[k * 7 + 1]).toBeCloseTo(-0.02 + expected.dy, 6);
      expect(batch.actions[k * 7 + 2]).toBe(0);
    }
    // Holding something (no free-approach height): the object moves with the hand, so nothing shifts.
    expect(brightest(batch.image.subarray(SIZE * SIZE * 3))).toEqual([x0, y0]);
    const off = config.chunk * 7;
    expect(batch.actions[off]).toBeCloseTo(0.05, 6);
    expect(batch.actions[off + 1]).toBeCloseTo(-0.02, 6);
  });

  it('apply on the ticks before the gripper first closes, at their height above the approach’s lowest point', () => {
    const poses: Float32Array[] = [];
    const gripper: number[] = [];
    for (let t = 0; t < 20; t++) {
      poses.push(Float32Array.of(0.5, 0, 1.2 - Math.min(t, 10) * 0.02, 0));
      gripper.push(t < 14 ? 0 : 0.5);
    }
    const ex = poses.map((p, t) => ({ ...example(0), pose: p, actions: Float32Array.from({ length: 14 }, (_, i) => (i % 7 === 6 ? gripper[Math.min(19, t + Math.floor(i / 7))] : 0)), action_valid: Uint8Array.of(1, 1) }));
    relabelWaypoints(ex, config.action, 2, 20);
    expect(ex[0].above_grasp).toBeCloseTo(0.2, 6);
    expect(ex[13].above_grasp).toBeCloseTo(0, 6);
    for (let t = 14; t < 20; t++) expect(ex[t].above_grasp).toBeUndefined();
  });
});

describe('view shifts of the carry', () => {
  // An episode: 6 ticks descending (free), 4 closing, 4 lifting straight up, 6 carrying along +x, then still.
  // Every frame shows a held pixel (the jar under the hand) at the same place and a scene bar (the bin, 12 px wide) that moves.
  const HELD = [14, 28]; // x, y of the held blob
  function carryEpisode(): PolicyExample[] {
    const poses: Float32Array[] = [];
    const gripper: number[] = [];
    const scene: number[] = [];
    let [x, z] = [0.5, 1.1];
    for (let t = 0; t < 6; t++, z -= 0.02) (poses.push(Float32Array.of(x, 0, z, 0)), gripper.push(0), scene.push(20));
    for (let t = 0; t < 4; t++) (poses.push(Float32Array.of(x, 0, z, 0)), gripper.push(0.2 * (t + 1)), scene.push(20));
    for (let t = 0; t < 4; t++, z += 0.02) (poses.push(Float32Array.of(x, 0, z, 0)), gripper.push(0.8), scene.push(20));
    for (let t = 0; t < 6; t++, x += 0.02) (poses.push(Float32Array.of(x, 0, z, 0)), gripper.push(0.8), scene.push(20 - 2 * t));
    for (let t = 0; t < 3; t++) (poses.push(Float32Array.of(x, 0, z, 0)), gripper.push(0.8), scene.push(8));
    return poses.map((p, t) => {
      const image = new Uint8Array(SIZE * SIZE * 3);
      image.fill(200, (HELD[1] * SIZE + HELD[0]) * 3, (HELD[1] * SIZE + HELD[0]) * 3 + 3);
      for (let y = 9; y <= 11; y++) image.fill(255, (y * SIZE + scene[t]) * 3, (y * SIZE + scene[t] + 12) * 3);
      const actions = Float32Array.from({ length: config.chunk * 7 }, (_, i) => (i % 7 === 6 ? gripper[Math.min(gripper.length - 1, t + Math.floor(i / 7))] : 0));
      return { ...example(undefined, image), pose: p, t_ns: t * 5e7, actions, action_valid: new Uint8Array(config.chunk).fill(1) };
    });
  }

  it('mark the ticks heading aside from the grasp, not the lift, with the pixels that stay still while held', () => {
    const ex = carryEpisode();
    relabelWaypoints(ex, config.action, config.chunk, 20);
    const carry = ex.flatMap((e, t) => (e.carry_above !== undefined ? [t] : []));
    // The lift's last tick already heads for the end of the carry (its next keyframe is the carry's corner).
    expect(carry[0]).toBeGreaterThanOrEqual(13);
    expect(carry[0]).toBeLessThanOrEqual(14);
    expect(carry).toContain(17);
    for (let t = 0; t < 13; t++) expect(ex[t].carry_above).toBeUndefined();
    expect(ex[17].carry_above).toBeCloseTo(ex[17].pose![2] - ex[6].pose![2], 6); // above the lowest point of the approach
    const held = ex[17].held_pixels!;
    expect(held[HELD[1] * SIZE + HELD[0]]).toBe(1);
    expect(held[10 * SIZE + 14]).toBe(0); // the scene bar crossed it
  });

  it('move the scene and the labels, and leave the held pixels, only when view_shift_carry is on', () => {
    const ex = carryEpisode();
    relabelWaypoints(ex, config.action, config.chunk, 20);
    const t = 17;
    const on = { ...config, augment: { ...config.augment, view_shift_carry: true } };
    const rolls = [draw(4), draw(-3), 0.5, 0.5];
    const augmentOn: Augment = { ...fixed(rolls), config: on.augment };
    const pixel = (img: Float32Array, x: number, y: number) => img[(y * SIZE + x) * 3];
    const batch = allocFeatureBatch(2, on, dims);
    encodeExample(ex[t], 0, batch, on, norm, dims, augmentOn);
    encodeExample(ex[t], 1, batch, config, norm, dims, fixed(rolls));
    const shifted = batch.image.subarray(0, SIZE * SIZE * 3);
    const plain = batch.image.subarray(SIZE * SIZE * 3);
    const sx = 20 - 2 * (t - 14);
    expect(pixel(shifted, sx + 4, 10 - 3)).toBeCloseTo(1, 6); // the scene moved
    expect(pixel(shifted, sx, 10)).toBeCloseTo(0, 6);
    expect(pixel(shifted, HELD[0], HELD[1])).toBeCloseTo(200 / 255, 6); // the held blob did not
    expect(pixel(shifted, HELD[0] + 4, HELD[1] - 3)).toBeCloseTo(0, 6);
    const view = viewShift(ex[t], on, { ...fixed(rolls), config: on.augment });
    expect(Math.hypot(view.dx, view.dy)).toBeGreaterThan(0);
    expect(batch.actions[0]).toBeCloseTo(ex[t].actions[0] + view.dx, 6);
    expect(batch.actions[1]).toBeCloseTo(ex[t].actions[1] + view.dy, 6);
    // Off (the default): the carry is not shifted at all.
    expect(pixel(plain, sx, 10)).toBeCloseTo(1, 6);
    const off = config.chunk * 7;
    expect(batch.actions[off]).toBeCloseTo(ex[t].actions[0], 6);
    expect(batch.actions[off + 1]).toBeCloseTo(ex[t].actions[1], 6);
  });
});

describe('delta gripper actions', () => {
  it('past the last tick hold the gripper where it ended, or with gripper_tail "continue" go on opening as the release did', () => {
    // A release cut short by success: 0.6, 0.55, 0.5 over the last ticks.
    const g = [0.6, 0.6, 0.6, 0.55, 0.5];
    // Rows past the end come from the dataset repeated and marked invalid, as ACT pads its chunks.
    const make = () => g.map((_, t) => ({ ...example(undefined), pose: Float32Array.of(0.5, 0, 1, 0), actions: Float32Array.from({ length: 21 }, (_, i) => (i % 7 === 6 ? g[Math.min(4, t + Math.floor(i / 7))] : 0)), action_valid: Uint8Array.from([0, 1, 2], (r) => (t + r <= 4 ? 1 : 0)), t_ns: t * 5e7 }));
    const held = make();
    relabelWaypoints(held, { ...config.action, gripper: 'delta' }, 3, 20);
    const going = make();
    relabelWaypoints(going, { ...config.action, gripper: 'delta', gripper_tail: 'continue' }, 3, 20);
    // The last tick's chunk: rows 0–2 are ticks 4, 5, 6 less tick 3's command (0.55).
    expect([...held[4].actions.filter((_, i) => i % 7 === 6)].map((v) => +v.toFixed(6))).toEqual([-0.05, -0.05, -0.05]);
    expect([...going[4].actions.filter((_, i) => i % 7 === 6)].map((v) => +v.toFixed(6))).toEqual([-0.05, -0.1, -0.15]);
    // Held, those rows stay out of the loss; going on, they count.
    expect([...held[4].action_valid]).toEqual([1, 0, 0]);
    expect([...held[3].action_valid]).toEqual([1, 1, 0]);
    expect([...going[4].action_valid]).toEqual([1, 1, 1]);
    expect([...going[3].action_valid]).toEqual([1, 1, 1]);
    // Inside the episode the labels are the same either way.
    for (let t = 0; t < 3; t++) expect([...going[t].actions.slice(0, 7 * (4 - t)).filter((_, i) => i % 7 === 6)]).toEqual([...held[t].actions.slice(0, 7 * (4 - t)).filter((_, i) => i % 7 === 6)]);
    // Never past fully open.
    const open = g.map((_, t) => ({ ...example(undefined), pose: Float32Array.of(0.5, 0, 1, 0), actions: Float32Array.from({ length: 21 }, (_, i) => (i % 7 === 6 ? [0.3, 0.2, 0.1, 0.05, 0.02][Math.min(4, t + Math.floor(i / 7))] : 0)), action_valid: Uint8Array.of(1, 1, 1), t_ns: t * 5e7 }));
    relabelWaypoints(open, { ...config.action, gripper: 'delta', gripper_tail: 'continue' }, 3, 20);
    expect(open[4].actions[20]).toBeCloseTo(0 - 0.05, 6);
  });

  it('label the change from the previous command, and the blender adds each to the command it gave last', () => {
    const g = [0, 0, 0.2, 0.206, 0.212, 0.212];
    const ex = g.map((_, t) => ({ ...example(undefined), pose: Float32Array.of(0.5, 0, 1, 0), actions: Float32Array.from({ length: 14 }, (_, i) => (i % 7 === 6 ? g[Math.min(5, t + Math.floor(i / 7))] : 0)), action_valid: Uint8Array.of(1, 1), t_ns: t * 5e7 }));
    const absolute = ex.map((e) => ({ ...e, actions: e.actions.slice() }));
    relabelWaypoints(ex, { ...config.action, gripper: 'delta' }, 2, 20);
    expect([...ex.map((e) => e.actions[6])].map((v) => +v.toFixed(6))).toEqual([0, 0, 0.2, 0.006, 0.006, 0]);
    // Row 1 is two ticks of change: the command a tick ahead less the previous one.
    expect(ex[2].actions[13]).toBeCloseTo(0.206, 6);
    // Absolute labels keep the command.
    relabelWaypoints(absolute, config.action, 2, 20);
    expect(absolute.map((e) => e.actions[6])).toEqual(g.map((v) => Math.fround(v)));
    const meta = { config: defaultConfig({ action: { kind: 'waypoint', gripper: 'delta' } }), layout: { proprio: { names: [] } } } as unknown as Parameters<typeof ActionBlender.for>[0];
    const blender = ActionBlender.for(meta);
    const now = { pose: Float32Array.of(0.5, 0, 1, 0), proprio: new Float32Array(0) };
    const step = (d: number) => blender.step(Float32Array.of(0, 0, 0, 0, 0, 0, d), now).gripper;
    expect(step(0.2)).toBeCloseTo(0.2, 6);
    expect(step(0.006)).toBeCloseTo(0.206, 6);
    expect(blender.hold().gripper).toBeCloseTo(0.206, 6); // a blind tick keeps the grip
    expect(step(-0.5)).toBe(0); // clamped to open
    blender.reset();
    expect(step(0.01)).toBeCloseTo(0.01, 6); // an episode starts from open
    expect(waypointAction(Float32Array.of(0, 0, 0, 0, 0, 0, 0.05), now, [], { ...config.action, gripper: 'delta' }, 0.3)!.gripper).toBeCloseTo(0.35, 6);
    // A longer chunk steps by the average rate over its horizon: its last row over its length.
    const two = Float32Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5);
    expect(waypointAction(two, now, [], { ...config.action, gripper: 'delta' }, 0.3)!.gripper).toBeCloseTo(0.55, 6);
  });
});

describe('training with view shifts', () => {
  it('refuses a dataset whose camera has no intrinsics, and twist actions, saying why', async () => {
    const { makeTinyDataset } = await import('./fixtures.ts');
    const { trainPolicy } = await import('../../policy/index.ts');
    const dir = await makeTinyDataset(1, 2);
    const base = { width: 16, heads: 2, ffn: 32, image: { width: 16, height: 16 }, train: { steps: 1, val_fraction: 0 } };
    const out = `${dir}/p.safetensors`;
    await expect(trainPolicy({ data: dir, out, backend: 'cpu', resume: false, config: { ...base, action: { kind: 'waypoint' }, augment: { view_shift: 4 } } })).rejects.toThrow(/view_shift needs the camera's intrinsics/);
    await expect(trainPolicy({ data: dir, out, backend: 'cpu', resume: false, config: { ...base, augment: { view_shift: 4 } } })).rejects.toThrow(/view_shift moves waypoint labels: it needs action.kind "waypoint"/);
  });
});
