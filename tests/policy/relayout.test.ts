// Relayout views (augment.rendered_shift.relayout) of a pick-place
// demonstration, rendered by the real simulator: the approach's labels follow
// the mug, moved only where the camera sees it; the frames just before the
// grasp are not laid out again (their timing would be wrong); the carry's
// labels follow the plate. (Frames whose labels follow nothing: find-smell's
// sniffs, tests/policy/renderedShift.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyConfig, RECIPES, attachShifts, type ShiftRender, type ShiftRenderer } from '../../policy/index.ts';
import type { PolicyExample } from '../../policy/features.ts';
import { relabelWaypoints } from '../../policy/waypoints.ts';
import { Dataset } from '../../sensors/index.ts';
import { recordWithCamera } from '../helpers/demos.ts';
import { simShiftRenderer } from '../../cli/shifts.ts';

let dir: string;
const base = RECIPES['few-shot'];
const config = PolicyConfig.parse({ ...base, augment: { ...base.augment, rendered_shift: { frames: 'both', views: 1, reach: 1e-6, relayout: true } } });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-relayout-'));
  await recordWithCamera('pick-place', dir);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('relayout views of a pick-place demonstration', () => {
  it('labels follow what the frame heads for: the mug on the approach, the plate in the carry', async () => {
    const ds = await Dataset.open(path.join(dir, 'demos'));
    const got = await ds.examples({ rate_hz: config.rate_hz, horizon: config.chunk - 1, image: config.image, smell_history: config.smell_history, scene_camera: null });
    const { layout } = got;
    const examples: PolicyExample[] = got.examples;
    relabelWaypoints(examples, config.action, config.chunk, config.rate_hz);
    const scenes = (await ds.info()).episodes;
    const asked: ShiftRender[] = [];
    const moves: { target: { x: number; y: number } | null; goal: { x: number; y: number } | null }[] = [];
    const noting: ShiftRenderer = async function* (requests, image) {
      asked.push(...requests);
      for await (const view of simShiftRenderer(requests, image)) {
        moves.push(view.moved);
        yield view;
      }
    };
    await attachShifts(examples, scenes, layout.proprio.names, config, noting);
    const shifted = examples.filter((e) => e.shifted);
    expect(asked.length).toBe(shifted.length);
    const hand = (ex: PolicyExample, d: { x: number; y: number }) => {
      const yaw = ex.pose![3];
      return { x: Math.cos(yaw) * d.x + Math.sin(yaw) * d.y, y: -Math.sin(yaw) * d.x + Math.cos(yaw) * d.y };
    };
    const seen = { approach: 0, carry: 0, kept: 0 };
    shifted.forEach((ex, i) => {
      const { dx, dy } = ex.shifted![0];
      const follow = asked[i].relayout?.follow;
      const moved = moves[i];
      if (follow === null) {
        // Labels that follow nothing: the mug and the plate anywhere, the labels as recorded.
        expect(moved.target).not.toBeNull();
        expect(Math.hypot(dx, dy)).toBeLessThan(1e-5);
      } else if (follow === 'target' || follow === 'goal') {
        // The approach follows the mug, the carry the plate: the labels as if the tool stood −δ aside.
        expect(ex.carry_above !== undefined).toBe(follow === 'goal');
        const followed = moved[follow];
        if (!followed) return;
        seen[follow === 'target' ? 'approach' : 'carry']++;
        const d = hand(ex, followed);
        expect(dx).toBeCloseTo(-d.x, 5);
        expect(dy).toBeCloseTo(-d.y, 5);
      } else {
        // Not laid out again: just before the grasp, where the gripper starts to close.
        seen.kept++;
        expect(moved).toEqual({ target: null, goal: null });
        expect(ex.above_grasp).toBeDefined();
      }
    });
    expect(seen.approach).toBeGreaterThan(10);
    expect(seen.carry).toBeGreaterThan(10);
    expect(seen.kept).toBeGreaterThan(0);
  }, 120_000);
});
