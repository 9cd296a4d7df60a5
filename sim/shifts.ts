// Rendered view shifts: a demonstration frame seen again with the whole robot
// moved aside, in the scene the demonstration was recorded in (its episode
// seed draws the same layout). What the policy side relabels them with is in
// policy/shifts.ts.
//
// Why rendered: shifting the recorded image (policy/features.ts viewShift)
// cannot show what lay outside it, and while the hand carries something the
// hand and the object stay put in a wrist camera while the scene moves past,
// which a shifted image gets wrong at every edge. The simulator renders the
// displaced view exactly (SPARTN renders it with a NeRF).
import { SimEnv, type CameraSource } from './env.ts';
import { holdablesAtRest, placeInHand } from './views.ts';
import { Rng } from './rng.ts';
import type { JointState } from './robot.ts';
import type { CameraData } from './samples.ts';
import type { TaskName } from './task.ts';

export interface ShiftRequest {
  /** The recorded frame's joints and finger openings. */
  q: JointState;
  fingers: [number, number];
  /** Where the whole robot is moved, in the world frame (m). */
  shift: { x: number; y: number };
  /** Where the tool stood when it gripped what it now holds (world x, y); null when the hand is empty. */
  grasp: { x: number; y: number } | null;
  /** Puts the task's carry goal (Task.goal) somewhere else its layout could have, drawn from this seed; null = where it was. */
  goal?: number | null;
}

export interface ShiftedFrame {
  data: CameraData;
  /** How far the goal was moved (world m); null when it was not. */
  goal: { x: number; y: number } | null;
}

/**
 * Renders one wrist-camera image per request, in the layout episode `seed` draws. The object held
 * is the task's holdable nearest the grasp point, put in the hand as its expert grips it; the other
 * objects stand where the layout put them (a demonstration that knocked one over is not mirrored),
 * but for the carry's goal where a request moves it.
 */
export async function* renderShifted(task: TaskName, camera: CameraSource, seed: number, requests: readonly ShiftRequest[]): AsyncGenerator<ShiftedFrame> {
  const env = new SimEnv({ task, camera });
  try {
    await env.reset(seed);
    const holdables = env.task.holdables ?? [];
    const atRest = holdablesAtRest(holdables);
    const { goal } = env.task;
    for (const req of requests) {
      atRest.restore();
      goal?.restore();
      if (req.goal != null && !goal) throw new Error(`task ${task} has no carry goal to move`);
      const moved = req.goal != null && goal ? goal.move(new Rng(req.goal, 29)) : null;
      const q = { ...req.q, baseX: req.q.baseX + req.shift.x, baseY: req.q.baseY + req.shift.y };
      env.robot.teleport(q, req.fingers);
      if (req.grasp && holdables.length) {
        const { x, y } = req.grasp;
        const away = atRest.at.map((p) => Math.hypot(p.x - x, p.y - y));
        placeInHand(holdables[away.indexOf(Math.min(...away))], env.robot.toolPoint());
      }
      const frames = await camera.render(env);
      yield { data: frames[0].data, goal: moved };
    }
  } finally {
    env.sim?.free();
  }
}
