// Waypoint actions: keyframes found in a demonstration without phase labels,
// labels that point from each tick to the next keyframe in the hand's frame,
// and a runner that tracks the predicted waypoint with the P controller.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, episodeFrames, frameToExample, observationStreams } from '../../sensors/index.ts';
import { PolicyRunner, defaultConfig, loadCheckpoint, trainPolicy } from '../../policy/index.ts';
import type { PolicyExample } from '../../policy/features.ts';
import { keyframes, relabelWaypoints, waypointAction, waypointTwist } from '../../policy/waypoints.ts';
import { makeTinyDataset } from './fixtures.ts';

const RATE = 20;
const WP = defaultConfig({ action: { kind: 'waypoint' } }).action;
const pose = (x: number, y: number, z: number, yaw = 0) => Float32Array.of(x, y, z, yaw);

/** A path: 10 ticks along +x at 0.2 m/s, 10 ticks down, a 5-tick hold during which the gripper closes, then 10 ticks up. */
function demoPath(yaw = 0): { poses: Float32Array[]; gripper: number[] } {
  const poses: Float32Array[] = [];
  const gripper: number[] = [];
  let [x, z] = [0.5, 1.1];
  const push = (g: number) => {
    poses.push(pose(x, 0.1, z, yaw));
    gripper.push(g);
  };
  for (let t = 0; t < 10; t++, x += 0.01) push(0); // ticks 0–9; tick 10 is the corner
  for (let t = 0; t < 10; t++, z -= 0.01) push(0); // ticks 10–19; tick 20 ends the descent
  for (let t = 0; t < 5; t++) push(t < 2 ? 0 : 1); // ticks 20–24: hold, close at 22
  for (let t = 0; t < 10; t++, z += 0.01) push(1); // ticks 25–34
  push(1);
  return { poses, gripper };
}

function examplesFor(poses: Float32Array[], gripper: number[], chunk: number): PolicyExample[] {
  return poses.map((p, t) => {
    const actions = new Float32Array(chunk * 7);
    for (let k = 0; k < chunk; k++) actions[k * 7 + 6] = gripper[Math.min(gripper.length - 1, t + k)];
    return { episode: 0, t_ns: t * 5e7, pose: p, actions, action_valid: new Uint8Array(chunk).fill(1) } as unknown as PolicyExample;
  });
}

describe('waypoint keyframes', () => {
  it('marks the corner, the stops and the end of a path, and nothing along its straight runs', () => {
    const { poses, gripper } = demoPath();
    const key = keyframes(poses, gripper, WP, RATE);
    const marked = key.flatMap((k, t) => (k ? [t] : []));
    expect(marked).toContain(10); // the corner between the approach and the descent
    for (let t = 20; t <= 24; t++) expect(marked).toContain(t); // standing still
    expect(marked).toContain(poses.length - 1);
    for (const t of [1, 5, 8, 12, 16, 27, 31]) expect(marked).not.toContain(t);
  });

  it('labels each tick with the next keyframe, relative to the tool and in the hand frame; the gripper column stays the command', () => {
    const yaw = Math.PI / 2; // the hand faces +y: world +x is the hand's −y
    const { poses, gripper } = demoPath(yaw);
    const ex = examplesFor(poses, gripper, 3);
    relabelWaypoints(ex, WP, 3, RATE);
    // Tick 4 heads for the corner at tick 10: 6 cm along world +x → (0, −0.06) in the hand frame.
    expect(ex[4].actions[0]).toBeCloseTo(0, 6);
    expect(ex[4].actions[1]).toBeCloseTo(-0.06, 6);
    expect(ex[4].actions[2]).toBeCloseTo(0, 6);
    // Row 2 of tick 9 belongs to tick 11 (in the descent): the end of the descent, seen from tick 9.
    expect(ex[9].actions[14]).toBeCloseTo(0, 6);
    expect(ex[9].actions[15]).toBeCloseTo(-0.01, 6);
    expect(ex[9].actions[16]).toBeCloseTo(-0.1, 6);
    // While holding, the target is where the tool is: it waits while the gripper closes.
    expect(Math.hypot(ex[22].actions[0], ex[22].actions[1], ex[22].actions[2])).toBeLessThan(1e-6);
    expect(ex[22].actions[6]).toBe(1);
    // The last tick of the hold heads for the top of the lift.
    expect(ex[24].actions[2]).toBeCloseTo(0.1, 6);
  });

  it('refuses an episode with no tool pose, naming what is missing', () => {
    const ex = examplesFor([pose(0, 0, 0)], [0], 1);
    delete (ex[0] as { pose?: Float32Array }).pose;
    expect(() => relabelWaypoints(ex, WP, 1, RATE)).toThrow(/episode 0: no tool pose \(proprio ee_pose\)/);
  });
});

describe('waypoint tracking', () => {
  it('steers toward the waypoint in the base frame: proportional when near, capped when far', () => {
    // Hand yaw 0.5, base yaw 0.2; a waypoint 2 cm ahead of the hand.
    const near = waypointTwist([0.02, 0, 0, 0, 0, 0.1, 0.3], [0, 0, 1, 0.5], 0.2, WP);
    const world = [Math.cos(0.5) * 0.02, Math.sin(0.5) * 0.02];
    const base = [Math.cos(0.2) * world[0] + Math.sin(0.2) * world[1], -Math.sin(0.2) * world[0] + Math.cos(0.2) * world[1]];
    expect(near.linear[0]).toBeCloseTo(base[0] * WP.gain, 9);
    expect(near.linear[1]).toBeCloseTo(base[1] * WP.gain, 9);
    expect(near.angular[2]).toBeCloseTo(0.1 * WP.yaw_gain, 9);
    expect(near.gripper).toBeCloseTo(0.3, 6);
    const far = waypointTwist([0.3, 0.4, 0, 0, 0, 3, 2], [0, 0, 1, 0], 0, WP);
    expect(Math.hypot(...far.linear)).toBeCloseTo(WP.vmax, 9);
    expect(far.linear[0] / far.linear[1]).toBeCloseTo(0.75, 9);
    expect(far.angular[2]).toBe(WP.yaw_max);
    expect(far.gripper).toBe(1);
  });

  it('holds when there is no pose to track from, and reads the base yaw from proprio when there is one', () => {
    expect(waypointAction(Float32Array.of(0.01, 0, 0, 0, 0, 0, 0), { proprio: new Float32Array(2) }, ['position.base_x', 'position.base_yaw'], WP)).toBeNull();
    // Base turned +90°: a waypoint along world +x is the base's −y.
    const a = waypointAction(Float32Array.of(0.01, 0, 0, 0, 0, 0, 0), { pose: pose(0, 0, 1, 0), proprio: Float32Array.of(0, Math.PI / 2) }, ['position.base_x', 'position.base_yaw'], WP)!;
    expect(a.linear[0]).toBeCloseTo(0, 6); // π/2 stored as float32
    expect(a.linear[1]).toBeCloseTo(-0.01 * WP.gain, 6);
  });
});

describe('a waypoint policy end to end', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    dir = await makeTinyDataset(1, 3);
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-wp-')), 'p.safetensors');
  });
  afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

  it('trains on waypoint labels, stores their statistics, and the runner tracks its newest chunk', async () => {
    const config = { width: 32, heads: 2, ffn: 64, image: { width: 16, height: 16 }, action: { kind: 'waypoint' }, train: { steps: 5, val_fraction: 0 } };
    await trainPolicy({ data: dir, out, backend: 'cpu', resume: false, config });
    const { meta } = loadCheckpoint(out);
    expect(meta.config.action.kind).toBe('waypoint');
    // Normalized against the waypoint labels, not the dataset's twist statistics.
    expect(meta.normalizer.action.mean).not.toEqual(JSON.parse(fs.readFileSync(path.join(dir, 'norm_stats.json'), 'utf8')).action.mean);
    const runner = await PolicyRunner.load(out, { backend: 'cpu' });
    try {
      const ds = await Dataset.open(dir);
      const frames = [...episodeFrames(await ds.episode(0), { rate_hz: meta.config.rate_hz, streams: observationStreams(meta.layout) })];
      const frame = frames[10];
      const ex = frameToExample(frame, meta.layout);
      expect(ex.pose).toBeDefined();
      runner.reset();
      const chunk = await runner.predict(frame);
      runner.reset();
      const acted = await runner.act(frame);
      const expected = waypointAction(chunk, ex, meta.layout.proprio.names, meta.config.action)!;
      for (let j = 0; j < 3; j++) expect(acted.linear[j]).toBeCloseTo(expected.linear[j], 6);
      expect(acted.angular[2]).toBeCloseTo(expected.angular[2], 6);
      expect(acted.gripper).toBeCloseTo(expected.gripper, 6);
      expect(Math.hypot(...acted.linear)).toBeLessThanOrEqual(meta.config.action.vmax + 1e-9);
    } finally {
      runner.dispose();
    }
  }, 120_000);
});
