// The experts close and open the gripper at a steady rate, stop closing when the pads feel a firm
// grip, and let go when the pads feel the support take the object's weight: a one-tick close is a
// label on a handful of frames that an L1-fit policy predicts as "stay open", and a release at a
// height looks like a grasp to a policy (docs/results.md, "Letting go"). Fails if an expert goes
// back to shutting the gripper in one tick or to opening in the air.
import { describe, expect, it } from 'vitest';
import { makeDriver, type TaskName } from '../../sim/index.ts';
import { carriedLoad, weakerSqueeze } from '../../sim/expert.ts';
import { withEnv } from './helpers.ts';

interface GripRun {
  steps: number[];
  success: boolean;
  /** Weaker pad's squeeze (N) on the tick the gripper stopped closing. */
  squeezeAtStop: number;
  /** The most the pads carried (N) before letting go, and what they carried on the tick the gripper began to open. */
  carried: number;
  loadAtOpen: number;
}

async function gripRun(task: TaskName, seed: number): Promise<GripRun> {
  return withEnv(task, async (env) => {
    await env.reset(seed);
    const driver = makeDriver(env, 'full');
    const steps: number[] = [];
    let last = 0;
    let squeezeAtStop = NaN;
    let carried = 0;
    let loadAtOpen = NaN;
    while (!env.done()) {
      const a = driver.act(env);
      const step = a.gripper - last;
      if (steps.length && steps[steps.length - 1] > 0 && step <= 0 && Number.isNaN(squeezeAtStop)) squeezeAtStop = weakerSqueeze(env);
      if (step < 0 && Number.isNaN(loadAtOpen)) loadAtOpen = carriedLoad(env);
      if (Number.isNaN(loadAtOpen)) carried = Math.max(carried, carriedLoad(env));
      steps.push(step);
      last = a.gripper;
      await env.step(a, driver.disturbance?.() ?? null);
    }
    return { steps, success: env.success(), squeezeAtStop, carried, loadAtOpen };
  });
}

describe.each([
  ['pick-place', true, true],
  ['find-smell', true, true],
  ['open-door', false, false],
] as const)('%s expert', (task, byTouch, opens) => {
  it('closes over many ticks at a steady rate, stops by touch, and opens the same way once the object is set down', async () => {
    for (const seed of [0, 1, 2]) {
      const run = await gripRun(task as TaskName, seed);
      const where = `${task} seed ${seed}`;
      expect(run.success, where).toBe(true);
      expect(Math.max(...run.steps.map(Math.abs)), where).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(run.steps.filter((s) => s > 0).length, where).toBeGreaterThanOrEqual(10);
      if (byTouch) expect(run.squeezeAtStop, where).toBeGreaterThanOrEqual(5);
      if (opens) {
        expect(run.steps.filter((s) => s < 0).length, where).toBeGreaterThanOrEqual(5);
        // Held up, the pads carry the object's weight (0.2–0.35 kg: 2–3.4 N); set down, under 40% of it.
        expect(run.carried, where).toBeGreaterThan(1.5);
        expect(run.loadAtOpen, where).toBeLessThan(0.4 * run.carried);
      }
    }
  });
});
