// Labelled wrist-camera views for a vision prior: random layouts of a task,
// the hand put at random poses over them (empty, or holding one of the
// task's objects as its expert grips it), each frame labelled with where the
// task's landmarks stand from the tool, in the hand's frame, and whether the
// camera sees them.
//
// Why: three demonstrations put the jars and the bin in three places, so a
// camera encoder trained on them alone learns which scene it is in, not where
// things are (docs/results.md). The simulator can show it thousands of
// layouts it never acts in; what the encoder learns there (a jar 6 cm ahead,
// the bin 20 cm to the left) is what the policy's waypoint labels are made
// of. No task labels, no demonstrations: a pretrained visual encoder, as the
// field's policies use, made here because nothing can be downloaded.
import { COUNTER, ROBOT } from './layout.ts';
import { Rng } from './rng.ts';
import { SimEnv, type CameraSource } from './env.ts';
import type { CameraData } from './samples.ts';
import type { Holdable, TaskName } from './task.ts';

/** Landmark offsets are given in units of this many metres. */
export const VIEW_SCALE_M = 0.2;
/** Per landmark: forward and left offset from the tool (÷ VIEW_SCALE_M), and 1 when the wrist camera sees it. */
export const VIEW_TARGETS_PER_LANDMARK = 3;

export interface LabelledView {
  image: CameraData;
  /** [landmarks × 3]: dx, dy (hand frame, ÷ VIEW_SCALE_M), visible. */
  targets: Float32Array;
  /** Weight per target: the offsets count only where the camera sees the landmark. */
  weights: Float32Array;
  held: boolean;
  /** The tool point and hand yaw the view was rendered from (world frame). */
  tool: { x: number; y: number; z: number; yaw: number };
}

export interface ViewOptions {
  task: TaskName;
  camera: CameraSource;
  /** Layouts (episode seeds from `seed` on) and poses rendered per layout. */
  layouts: number;
  perLayout: number;
  seed: number;
  /** Share of poses with an object in the hand (default 0.35; 0 for a task with nothing to carry). */
  holdShare?: number;
  /** Vertical field of view of the wrist camera (degrees), for the visibility flag. */
  fovDeg?: number;
}

/**
 * Whether the wrist camera of a tool at `tool` with hand yaw `yaw` sees `point`: within 90% of the
 * image's half-width of its centre (widened by `radius` m, for a thing that shows while its centre
 * does not), at least 3 cm below the lens (sim/camera.ts wristCameraPose).
 */
export function seenByWrist(tool: { x: number; y: number; z: number }, yaw: number, point: { x: number; y: number; z: number }, fovDeg = 75, radius = 0): boolean {
  const tanHalf = Math.tan((fovDeg * Math.PI) / 360) * 0.9;
  const wx = point.x - tool.x;
  const wy = point.y - tool.y;
  const fx = Math.cos(yaw) * wx + Math.sin(yaw) * wy;
  const fy = -Math.sin(yaw) * wx + Math.cos(yaw) * wy;
  const depth = tool.z + ROBOT.cameraAboveTool - point.z;
  return depth > 0.03 && Math.abs(fx - ROBOT.cameraForward) < tanHalf * depth + radius && Math.abs(fy) < tanHalf * depth + radius;
}

/** The landmark names of a task, in target order (a throwaway world is built to ask). */
export async function landmarkNames(task: TaskName): Promise<string[]> {
  const env = new SimEnv({ task, camera: null });
  await env.reset(0);
  const names = env.task.landmarks?.().map((l) => l.name) ?? [];
  env.sim.free();
  return names;
}

/**
 * Renders `layouts × perLayout` labelled views. Layout seeds are the task's episode seeds (the
 * layout a seed draws is the episode's), so a caller keeps them apart from demonstration and
 * evaluation seeds.
 */
export async function* renderViews(opts: ViewOptions): AsyncGenerator<LabelledView> {
  const env = new SimEnv({ task: opts.task, camera: opts.camera });
  try {
    for (let l = 0; l < opts.layouts; l++) {
      await env.reset(opts.seed + l);
      const task = env.task;
      if (!task.landmarks) throw new Error(`task ${opts.task} names no landmarks for a vision prior`);
      const holdables = task.holdables ?? [];
      const atRest = holdablesAtRest(holdables);
      const rng = new Rng(opts.seed + l, 21);
      for (let k = 0; k < opts.perLayout; k++) {
        atRest.restore();
        const marks = task.landmarks();
        const held = holdables.length > 0 && rng.next() < (opts.holdShare ?? 0.35) ? holdables[rng.int(holdables.length)] : null;
        const pose = samplePose(rng, marks, held);
        env.robot.teleport(pose.q, pose.fingers);
        if (held) placeInHand(held, pose.tool);
        const frames = await opts.camera.render(env);
        // Landmarks after the hand took its object: the held one is where the hand is.
        const now = task.landmarks();
        const targets = new Float32Array(now.length * VIEW_TARGETS_PER_LANDMARK);
        const weights = new Float32Array(targets.length);
        const c = Math.cos(pose.yaw);
        const s = Math.sin(pose.yaw);
        now.forEach((m, i) => {
          const wx = m.x - pose.tool.x;
          const wy = m.y - pose.tool.y;
          const fx = c * wx + s * wy; // forward of the tool
          const fy = -s * wx + c * wy; // left of the tool
          const seen = seenByWrist(pose.tool, pose.yaw, m, opts.fovDeg);
          const o = i * VIEW_TARGETS_PER_LANDMARK;
          targets[o] = fx / VIEW_SCALE_M;
          targets[o + 1] = fy / VIEW_SCALE_M;
          targets[o + 2] = seen ? 1 : 0;
          weights[o] = weights[o + 1] = seen ? 1 : 0;
          weights[o + 2] = 1;
        });
        yield { image: frames[0].data, targets, weights, held: held !== null, tool: { ...pose.tool, yaw: pose.yaw } };
      }
    }
  } finally {
    env.sim?.free();
  }
}

interface Pose {
  q: { baseX: number; baseY: number; baseYaw: number; lift: number; arm: number; wristYaw: number };
  fingers: [number, number];
  tool: { x: number; y: number; z: number };
  yaw: number;
}

/**
 * A hand pose over the counter like the demonstrations' (yaw ±0.35 rad, from grasp height to
 * well above the start height), aimed near a landmark half the time so that close views, where
 * the grasp is decided, are common.
 */
function samplePose(rng: Rng, marks: { x: number; y: number; z: number }[], held: Holdable | null): Pose {
  let x: number;
  let y: number;
  if (marks.length && rng.next() < 0.5) {
    const m = marks[rng.int(marks.length)];
    x = m.x + 0.06 * rng.normal();
    y = m.y + 0.06 * rng.normal();
  } else {
    x = rng.uniform(COUNTER.xMin, COUNTER.xMax);
    y = rng.uniform(-0.45, 0.45);
  }
  x = Math.min(COUNTER.xMax, Math.max(COUNTER.xMin, x));
  // Held: the object's bottom clears the counter; empty: the pads at or above a grasp of a 10 cm object.
  const zMin = held ? COUNTER.top + held.toolAboveCentre + held.halfHeight + 0.01 : COUNTER.top + 0.07;
  const z = rng.uniform(zMin, COUNTER.top + 0.42);
  const yaw = rng.uniform(-0.35, 0.35);
  const baseYaw = rng.uniform(-0.05, 0.05);
  const baseX = rng.uniform(-0.05, 0.1);
  const arm = Math.min(0.85, Math.max(0, (x - baseX) / Math.cos(baseYaw) - ROBOT.armRoot));
  const r = ROBOT.armRoot + arm;
  const q = { baseX, baseY: y - Math.sin(baseYaw) * r, baseYaw, lift: z, arm, wristYaw: yaw - baseYaw };
  const tool = { x: baseX + Math.cos(baseYaw) * r, y: q.baseY + Math.sin(baseYaw) * r, z };
  const open = held ? held.radius : rng.next() < 0.6 ? ROBOT.fingerOpenMax : rng.uniform(0.015, ROBOT.fingerOpenMax);
  return { q, fingers: [open, open], tool, yaw };
}

/** Where the layout put each holdable, and a function that puts them all back there. */
export function holdablesAtRest(holdables: readonly Holdable[]): { at: { x: number; y: number; z: number }[]; restore(): void } {
  const rest = holdables.map((h) => ({ t: { ...h.body.translation() }, r: { ...h.body.rotation() } }));
  return {
    at: rest.map((r) => r.t),
    restore() {
      holdables.forEach((h, i) => {
        h.body.setTranslation(rest[i].t, false);
        h.body.setRotation(rest[i].r, false);
      });
    },
  };
}

/** Puts a holdable between the pads as its expert grips it, upright. */
export function placeInHand(h: Holdable, tool: { x: number; y: number; z: number }): void {
  h.body.setTranslation({ x: tool.x, y: tool.y, z: tool.z - h.toolAboveCentre }, false);
  h.body.setRotation({ x: 0, y: 0, z: 0, w: 1 }, false);
}
