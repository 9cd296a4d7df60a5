// The experts close and open the gripper at a steady rate, and stop closing when the pads feel a
// firm grip: a one-tick close is a label on a handful of frames that an L1-fit policy predicts as
// "stay open" (docs/results.md, "Steady squeezes for every task"). Fails if an expert goes back to
// shutting the gripper in one tick.
import { describe, expect, it } from 'vitest';
import { makeDriver, type TaskName } from '../../sim/index.ts';
import { weakerSqueeze } from '../../sim/expert.ts';
import { withEnv } from './helpers.ts';

interface GripRun {
  steps: number[];
  success: boolean;
  /** Weaker pad's squeeze (N) on the tick the gripper stopped closing. */
  squeezeAtStop: number;
}

async function gripRun(task: TaskName, seed: number): Promise<GripRun> {
  return withEnv(task, async (env) => {
    await env.reset(seed);
    const driver = makeDriver(env, 'full');
    const steps: number[] = [];
    let last = 0;
    let squeezeAtStop = NaN;
    while (!env.done()) {
      const a = driver.act(env);
      const step = a.gripper - last;
      if (steps.length && steps[steps.length - 1] > 0 && step <= 0 && Number.isNaN(squeezeAtStop)) squeezeAtStop = weakerSqueeze(env);
      steps.push(step);
      last = a.gripper;
      await env.step(a, driver.disturbance?.() ?? null);
    }
    return { steps, success: env.success(), squeezeAtStop };
  });
}

describe.each([
  ['pick-place', true, true],
  ['find-smell', true, true],
  ['open-door', false, false],
] as const)('%s expert', (task, byTouch, opens) => {
  it('closes over many ticks at a steady rate, stops by touch, and opens the same way', async () => {
    for (const seed of [0, 1, 2]) {
      const run = await gripRun(task as TaskName, seed);
      const where = `${task} seed ${seed}`;
      expect(run.success, where).toBe(true);
      expect(Math.max(...run.steps.map(Math.abs)), where).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(run.steps.filter((s) => s > 0).length, where).toBeGreaterThanOrEqual(10);
      if (byTouch) expect(run.squeezeAtStop, where).toBeGreaterThanOrEqual(5);
      if (opens) expect(run.steps.filter((s) => s < 0).length, where).toBeGreaterThanOrEqual(5);
    }
  });
});
