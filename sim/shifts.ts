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
import { holdablesAtRest, placeInHand, seenByWrist } from './views.ts';
import { Rng } from './rng.ts';
import type { JointState } from './robot.ts';
import type { CameraData } from './samples.ts';
import type { Relayout, TaskName } from './task.ts';

export interface ShiftRequest {
  /** The recorded frame's joints and finger openings. */
  q: JointState;
  fingers: [number, number];
  /** Where the whole robot is moved, in the world frame (m). */
  shift: { x: number; y: number };
  /** Where the tool stood when it gripped what it now holds (world x, y); null when the hand is empty. */
  grasp: { x: number; y: number } | null;
  /**
   * Lays the scene out again (Task.relayout), drawn from `seed`. `follow` names what the frame's
   * labels are relative to, moved only where the wrist camera then sees it: 'target' the object to
   * take (the goal with it), 'goal' the carry's goal; null moves the object to take and the goal
   * anywhere (the labels depend on neither). null = as recorded.
   */
  relayout?: { seed: number; follow: 'target' | 'goal' | null } | null;
}

/** How far a relayout moved the object to take and the carry's goal (world m); null for what stayed. */
export interface Relaid {
  target: { x: number; y: number } | null;
  goal: { x: number; y: number } | null;
}

export interface ShiftedFrame {
  data: CameraData;
  moved: Relaid;
}

/** A relayout asked of a task that has nothing to lay out again (no carry goal: gentle-grasp, open-door). */
export class NoRelayout extends Error {
  constructor(readonly task: TaskName) {
    super(`task ${task} has no carry goal to lay its scene out again around (pick-place and find-smell have)`);
  }
}

/**
 * A carry's goal counts as in view with its centre up to this far (m) outside the view: of
 * pick-place's plate (radius 9 cm) at least its rim shows, of find-smell's bin its near wall. With
 * the centre required in view, pick-place's six members scored 26/100, with this 41/100
 * (docs/results.md, "Laying the scene out again").
 */
const GOAL_EDGE = 0.07;

/** Draws so many layouts at most for one view before keeping the recorded one (the thing to show could not be put in view). */
const RELAYOUT_TRIES = 20;

/**
 * Renders one wrist-camera image per request, in the layout episode `seed` draws. The object held
 * is the task's holdable nearest the grasp point, put in the hand as its expert grips it; the other
 * objects stand where the layout put them (a demonstration that knocked one over is not mirrored),
 * unless a request lays the scene out again.
 */
export async function* renderShifted(task: TaskName, camera: CameraSource, seed: number, requests: readonly ShiftRequest[]): AsyncGenerator<ShiftedFrame> {
  const env = new SimEnv({ task, camera });
  try {
    await env.reset(seed);
    const holdables = env.task.holdables ?? [];
    const atRest = holdablesAtRest(holdables);
    const { relayout } = env.task;
    for (const req of requests) {
      atRest.restore();
      relayout?.restore();
      const q = { ...req.q, baseX: req.q.baseX + req.shift.x, baseY: req.q.baseY + req.shift.y };
      env.robot.teleport(q, req.fingers);
      let moved: Relaid = { target: null, goal: null };
      if (req.relayout != null) {
        if (!relayout) throw new NoRelayout(task);
        moved = relayoutFor(relayout, req.relayout.follow, env.robot.toolPoint(), env.robot.handYaw(), new Rng(req.relayout.seed, 29));
      }
      if (req.grasp && holdables.length) {
        const { x, y } = req.grasp;
        const away = atRest.at.map((p) => Math.hypot(p.x - x, p.y - y));
        placeInHand(holdables[away.indexOf(Math.min(...away))], env.robot.toolPoint());
      }
      const frames = await camera.render(env);
      yield { data: frames[0].data, moved };
    }
  } finally {
    env.sim?.free();
  }
}

/**
 * One relayout for a view from a tool at `tool`. What the labels follow is moved where the camera
 * sees it: a label that points at something the image does not show teaches a guess, so a view
 * that cannot show it stays as recorded. With nothing followed, everything may go anywhere.
 */
function relayoutFor(relayout: Relayout, follow: 'target' | 'goal' | null, tool: { x: number; y: number; z: number }, yaw: number, rng: Rng): Relaid {
  const none: Relaid = { target: null, goal: null };
  if (follow === null) return relayout.target ? relayout.target(rng) : { target: null, goal: relayout.goal(rng) };
  if (follow === 'target' && !relayout.target) return none;
  for (let k = 0; k < RELAYOUT_TRIES; k++) {
    if (follow === 'goal') {
      const goal = relayout.goal(rng);
      if (seenByWrist(tool, yaw, goal.at, undefined, GOAL_EDGE)) return { target: null, goal };
    } else {
      const moved = relayout.target!(rng);
      if (seenByWrist(tool, yaw, moved.target.at)) return moved;
    }
    relayout.restore();
  }
  return none;
}
