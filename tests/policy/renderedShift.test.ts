// Rendered view shifts (augment.rendered_shift): a find-smell demonstration's
// frames rendered again by the real simulator camera with the robot moved
// aside. Unmoved, the render is the recorded frame; moved, the scene moves in
// the image the way the waypoint labels say it should (the same convention as
// the image-shift view shift); the held jar moves with the hand; and a
// rendered view replaces the image with every row's label moved by −δ; with
// move_goal the bin is drawn elsewhere and only the carry's labels follow it. (The
// CLI's path, `train --recipe few-shot`, renders them in tests/cli/recipe.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyConfig, RECIPES, attachShifts, trainPolicy, type ShiftRender, type ShiftRenderer, type ShiftScene } from '../../policy/index.ts';
import { allocFeatureBatch, encodeExample, featureDims, type Normalizer, type PolicyExample } from '../../policy/features.ts';
import { relabelWaypoints } from '../../policy/waypoints.ts';
import { Dataset, type Layout } from '../../sensors/index.ts';
import { recordWithCamera } from '../helpers/demos.ts';
import { simShiftRenderer } from '../../cli/shifts.ts';

let dir: string;
let layout: Layout;
let examples: PolicyExample[];
let scenes: ShiftScene[];
const base = RECIPES['few-shot'];
const withShift = (rendered: object) => PolicyConfig.parse({ ...base, augment: { ...base.augment, rendered_shift: { views: 1, ...rendered } } });

async function loadExamples(config: PolicyConfig): Promise<PolicyExample[]> {
  const ds = await Dataset.open(path.join(dir, 'demos'));
  const got = await ds.examples({ rate_hz: config.rate_hz, horizon: config.chunk - 1, image: config.image, smell_history: config.smell_history, scene_camera: null });
  layout = got.layout;
  scenes = (await ds.info()).episodes;
  relabelWaypoints(got.examples, config.action, config.chunk, config.rate_hz);
  return got.examples;
}

const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];

/** The integer translation (px right, py down) of `moved` that best matches `still` over the image's middle. */
function bestShift(still: Uint8Array, moved: Uint8Array, W: number, reach = 8): { px: number; py: number } {
  let best = { px: 0, py: 0, err: Infinity };
  for (let py = -reach; py <= reach; py++)
    for (let px = -reach; px <= reach; px++) {
      let err = 0;
      for (let y = reach; y < W - reach; y++)
        for (let x = reach; x < W - reach; x++) for (let c = 0; c < 3; c++) err += Math.abs(moved[((y + py) * W + x + px) * 3 + c] - still[(y * W + x) * 3 + c]);
      if (err < best.err) best = { px, py, err };
    }
  return best;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-shift-'));
  await recordWithCamera('find-smell', dir);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rendered view shifts', () => {
  it('a view rendered at the recorded pose is the recorded frame, for the free approach and the carry', async () => {
    const config = withShift({ frames: 'both', reach: 1e-6 });
    examples = await loadExamples(config);
    const n = await attachShifts(examples, scenes, layout.proprio.names, config, simShiftRenderer);
    const free = examples.filter((e) => e.shifted && e.carry_above === undefined);
    const carry = examples.filter((e) => e.shifted && e.carry_above !== undefined);
    expect(free.length).toBeGreaterThan(50);
    expect(carry.length).toBeGreaterThan(20);
    expect(n).toBe(free.length + carry.length);
    // Only the frames named get views: not the grasp (fingers around the jar) nor the lift straight up.
    expect(examples.filter((e) => e.shifted).every((e) => (e.above_grasp ?? 1) > 0.03)).toBe(true);
    expect(median(free.map((e) => meanAbs(e.image, e.shifted![0].image)))).toBeLessThan(2);
    // The carried jar is put in the hand as the expert grips it, not exactly where it slid to.
    expect(median(carry.map((e) => meanAbs(e.image, e.shifted![0].image)))).toBeLessThan(6);
  }, 120_000);

  it('clearance sets how close above the grasp the free approach is still rendered', async () => {
    const config = withShift({ frames: 'free', reach: 1e-6, clearance: 0.01 });
    const near = await loadExamples(config);
    const n = await attachShifts(near, scenes, layout.proprio.names, config, simShiftRenderer);
    const shifted = near.filter((e) => e.shifted);
    expect(n).toBe(shifted.length);
    expect(shifted.every((e) => e.above_grasp! > 0.01)).toBe(true);
    // The default (3 cm) leaves out frames that 1 cm renders, and only those.
    const low = shifted.filter((e) => e.above_grasp! <= 0.03);
    expect(low.length).toBeGreaterThan(0);
    const defaultFree = examples.filter((e) => e.shifted && e.carry_above === undefined).length;
    expect(n).toBe(defaultFree + low.length);
  }, 120_000);

  it('moving the robot moves the scene in the image as the labels say, and the held jar with the hand', async () => {
    const W = 32;
    const focal = layout.focal!;
    const view_depth = PolicyConfig.parse({}).augment.view_depth;
    const names = layout.proprio.names;
    const joints = (ex: PolicyExample) => Object.fromEntries(names.flatMap((n, i) => (n.startsWith('position.') ? [[n.slice(9), ex.proprio[i]]] : [])));
    // High over the counter, so the jars' parallax is small: the scene shifts as one.
    const high = examples.filter((e) => (e.above_grasp ?? 0) > 0.12 && e.shifted);
    const frame = high[high.length >> 1];
    const delta = 0.03;
    const yaw = frame.pose![3];
    const along = (f: number, l: number) => ({ x: Math.cos(yaw) * f - Math.sin(yaw) * l, y: Math.sin(yaw) * f + Math.cos(yaw) * l });
    const requests: ShiftRender[] = [
      { scene: scenes[0], joints: joints(frame), shift: along(delta, 0), grasp: null, relayout: null },
      { scene: scenes[0], joints: joints(frame), shift: along(0, delta), grasp: null, relayout: null },
    ];
    const images: Uint8Array[] = [];
    for await (const { image } of simShiftRenderer(requests, { width: W, height: W })) images.push(image);
    const metresPerPx = (frame.above_grasp! + view_depth) / (focal * W);
    const expected = delta / metresPerPx;
    expect(expected).toBeGreaterThan(2);
    // viewShift's convention: content moved down (+py) stands further back; moved right (+px), further to the hand's −y.
    const forward = bestShift(frame.image, images[0], W);
    expect(forward.px).toBe(0);
    expect(Math.abs(forward.py - expected)).toBeLessThanOrEqual(1.5);
    const left = bestShift(frame.image, images[1], W);
    expect(left.py).toBe(0);
    expect(Math.abs(left.px - expected)).toBeLessThanOrEqual(1.5);

    // In a carry, what the hand holds stays put in the image while the scene moves.
    const carry = examples.filter((e) => e.carry_above !== undefined)[5];
    const grasp = examples.find((e, t) => t > 0 && e.above_grasp === undefined && examples[t - 1].above_grasp !== undefined)!.pose!;
    const held: Uint8Array[] = [];
    const cy = carry.pose![3];
    const shift = { x: Math.cos(cy) * 0 - Math.sin(cy) * 0.06, y: Math.sin(cy) * 0 + Math.cos(cy) * 0.06 };
    for await (const img of simShiftRenderer([{ scene: scenes[0], joints: joints(carry), shift, grasp: { x: grasp[0], y: grasp[1] }, relayout: null }], { width: W, height: W })) held.push(img.image);
    const region = (img: Uint8Array) => {
      // The bottom middle of the image: the fingers and the jar between them.
      let diff = 0;
      for (let y = W - 8; y < W; y++) for (let x = 12; x < 20; x++) for (let c = 0; c < 3; c++) diff += Math.abs(img[(y * W + x) * 3 + c] - carry.image[(y * W + x) * 3 + c]);
      return diff / (8 * 8 * 3);
    };
    expect(region(held[0])).toBeLessThan(12);
    expect(meanAbs(held[0], carry.image)).toBeGreaterThan(region(held[0]) + 5);
  }, 120_000);

  it('relayout: the carry\'s views put the bin elsewhere in view and their labels follow it; the free approach\'s labels stay', async () => {
    const config = withShift({ frames: 'both', reach: 1e-6, relayout: true });
    const moved = await loadExamples(config);
    // The real renderer, with the goal's moves written down as they pass.
    const goals: ({ x: number; y: number } | null)[] = [];
    const noting: ShiftRenderer = async function* (requests, image) {
      for await (const view of simShiftRenderer(requests, image)) {
        // find-smell's jars are picked by smell: only the bin moves.
        expect(view.moved.target).toBeNull();
        goals.push(view.moved.goal);
        yield view;
      }
    };
    const n = await attachShifts(moved, scenes, layout.proprio.names, config, noting);
    const shifted = moved.filter((e) => e.shifted);
    expect(goals.length).toBe(n);
    expect(shifted.length).toBe(n);
    const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
    let carries = 0;
    let freeMoved = 0;
    const moves: number[] = [];
    shifted.forEach((ex, i) => {
      const { dx, dy } = ex.shifted![0];
      const g = goals[i];
      if (ex.carry_above === undefined) {
        // The free approach (the sniffs, the jar): the bin anywhere or nowhere, the labels as recorded.
        if (g) freeMoved++;
        expect(Math.hypot(dx, dy)).toBeLessThan(1e-5);
      } else if (!g) {
        // No place for the bin in view: the view as recorded.
        expect(Math.hypot(dx, dy)).toBeLessThan(1e-5);
      } else {
        carries++;
        moves.push(g.y);
        // The bin δ further: the labels as if the tool stood −δ aside (in the hand's frame).
        const yaw = ex.pose![3];
        expect(dx).toBeCloseTo(-(Math.cos(yaw) * g.x + Math.sin(yaw) * g.y), 5);
        expect(dy).toBeCloseTo(-(-Math.sin(yaw) * g.x + Math.cos(yaw) * g.y), 5);
      }
    });
    expect(carries).toBeGreaterThan(20);
    expect(freeMoved).toBeGreaterThan(50);
    expect(spread(moves)).toBeGreaterThan(0.1);
    // The bin is drawn where it was moved to: the carry's last frames, over the bin, look different
    // with it moved (unmoved, they are the recorded frames: the first test).
    const late = shifted.filter((e, i) => e.carry_above !== undefined && Math.hypot(goals[i]?.x ?? 0, goals[i]?.y ?? 0) > 0.05).slice(-10);
    expect(late.length).toBeGreaterThan(5);
    expect(median(late.map((e) => meanAbs(e.image, e.shifted![0].image)))).toBeGreaterThan(10);
  }, 120_000);

  it('a rendered view replaces the image and moves every row of the waypoint by −δ', async () => {
    const config = withShift({ frames: 'carry', reach: 0.08, share: 1 });
    const ex = { ...examples.find((e) => e.carry_above !== undefined && e.shifted)! };
    ex.shifted = [{ image: ex.shifted![0].image, dx: 0.05, dy: -0.03 }];
    const dims = featureDims(layout, config);
    const stats = (n: number, std = 1) => ({ mean: new Array(n).fill(0), std: new Array(n).fill(std) });
    const norm: Normalizer = { image: stats(3), tactile: stats(1), smell: stats(dims.smellChannels), proprio: stats(dims.proprio), action: { mean: [0, 0, 0, 0, 0, 0, 0], std: [0.1, 0.1, 0.1, 1, 1, 1, 1] } };
    const noJitter = { ...config.augment, color_jitter: 0, modality_dropout: 0, tactile_noise: 0, smell_noise: 0 };
    const batch = allocFeatureBatch(1, config, dims);
    encodeExample(ex, 0, batch, config, norm, dims, { rand: () => 0.3, config: noJitter, focal: layout.focal });
    for (let k = 0; k < config.chunk; k++) {
      expect(batch.actions[k * 7]).toBeCloseTo((ex.actions[k * 7] - 0.05) / 0.1, 5);
      expect(batch.actions[k * 7 + 1]).toBeCloseTo((ex.actions[k * 7 + 1] + 0.03) / 0.1, 5);
      expect(batch.actions[k * 7 + 2]).toBeCloseTo(ex.actions[k * 7 + 2] / 0.1, 5);
    }
    expect(batch.image[5]).toBeCloseTo(ex.shifted[0].image[5] / 255, 5);
    // share 0: the recorded frame and its own labels.
    encodeExample(ex, 0, batch, config, norm, dims, { rand: () => 0.3, config: { ...noJitter, rendered_shift: { ...noJitter.rendered_shift!, share: 0 } }, focal: layout.focal });
    expect(batch.actions[0]).toBeCloseTo(ex.actions[0] / 0.1, 5);
    expect(batch.image[5]).toBeCloseTo(ex.image[5] / 255, 5);
  });

  it('training refuses rendered shifts with nothing to render them, with twist labels, or beside a scene camera', async () => {
    const out = path.join(dir, 'p.safetensors');
    const config = { ...base, augment: { ...base.augment, rendered_shift: {} }, train: { steps: 2 } };
    await expect(trainPolicy({ data: path.join(dir, 'demos'), out, backend: 'cpu', resume: false, config })).rejects.toThrow(/rendered_shift needs a renderer/);
    await expect(trainPolicy({ data: path.join(dir, 'demos'), out, backend: 'cpu', resume: false, config: { ...config, action: { kind: 'twist' }, augment: { rendered_shift: {} } } })).rejects.toThrow(/needs action.kind "waypoint"/);
    await expect(trainPolicy({ data: path.join(dir, 'demos'), out, backend: 'cpu', resume: false, config: { ...config, scene_camera: 'camera/scene' } })).rejects.toThrow(/wrist camera only/);
  }, 60_000);
});
