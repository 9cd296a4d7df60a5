// Rendered view shifts (augment.rendered_shift): demonstration frames seen
// again with the robot moved aside, rendered by whoever can (the simulator,
// through the CLI: sim/shifts.ts), and their waypoint labels moved to match.
// A waypoint is a place in the world, so with the tool moved by δ the label
// is the same place from the moved tool: the old label less δ, exactly.
//
// Why: view shifts of the recorded image (features.ts viewShift) cannot show
// what lay outside it, and during a carry they drag the hand and the object
// with the scene. Carrying the jar to a bin anywhere along 40 cm is
// find-smell's failure from three demonstrations (docs/results.md): three
// carries teach three places. Rendered, every carry frame shows the bin from
// many places, each with its answer (SPARTN's corrective views, rendered
// exactly instead of by a NeRF). With `relayout` a view also moves what the
// frame heads for (the object to take, the carry's goal), and the labels
// follow it the same way.
import type { PolicyConfig } from './config.ts';
import { ACTION_DIM, type PolicyExample } from './features.ts';
import { seededRandom, type EpisodeInfo } from '../sensors/index.ts';
import { TrainRefusal } from './refusal.ts';

/** What a renderer needs to redraw an episode's scene: the log, and the task and seed it names. */
export type ShiftScene = Pick<EpisodeInfo, 'file' | 'task' | 'seed'>;

/** One view to render: a recorded frame's joints (proprio `position.*` entries, by name), the robot moved by `shift` (world, m). */
export interface ShiftRender {
  scene: ShiftScene;
  joints: Record<string, number>;
  shift: { x: number; y: number };
  /** Where the tool gripped what the hand holds (world x, y); null when it holds nothing. */
  grasp: { x: number; y: number } | null;
  /**
   * The scene laid out again, drawn from `seed`: `follow` names what the frame's labels are
   * relative to ('target': the object the approach takes; 'goal': where the carry heads), moved only
   * where the camera then sees it; with null both may go anywhere (the labels depend on neither).
   * null = as recorded.
   */
  relayout: { seed: number; follow: Follow } | null;
}

/** What a frame's waypoint labels are relative to, for a relayout. */
export type Follow = 'target' | 'goal' | null;

/**
 * A rendered view: the RGB image, and how far a relayout moved the object to take (views of the
 * free approach) and the carry's goal (world m; null for what stayed).
 */
export interface RenderedView {
  image: Uint8Array;
  moved: { target: { x: number; y: number } | null; goal: { x: number; y: number } | null };
}

/** Renders the requests in order, each at `image`'s size. */
export type ShiftRenderer = (requests: ShiftRender[], image: { width: number; height: number }) => AsyncIterable<RenderedView>;

/** A rendered alternative to an example's image: the tool stood (dx, dy) further along the hand's forward and left. */
export interface ShiftedView {
  image: Uint8Array;
  dx: number;
  dy: number;
}

/**
 * Renders `views` shifted views of every frame the config names (the carry, the free approach, or
 * both) and attaches them to the examples (`shifted`). `episodes[e]` is example episode e's log. Examples must be one episode after another
 * and relabelled as waypoints (relabelWaypoints marks the phases). Returns the number rendered.
 */
export async function attachShifts(examples: PolicyExample[], episodes: readonly ShiftScene[], proprioNames: readonly string[], config: PolicyConfig, render: ShiftRenderer): Promise<number> {
  const spec = config.augment.rendered_shift;
  if (!spec) return 0;
  const joints = proprioNames.flatMap((n, i) => (n.startsWith('position.') ? [[n.slice('position.'.length), i] as const] : []));
  if (!joints.length) throw new TrainRefusal('augment.rendered_shift: the dataset has no proprio joint positions (position.*) to render the robot from');
  const rand = seededRandom(config.train.seed ^ 0x5417f7);
  const requests: ShiftRender[] = [];
  const owners: { ex: PolicyExample; dx: number; dy: number; follow: Follow; yaw: number }[] = [];
  const grasps = graspPoints(examples);
  for (const ex of examples) {
    ex.shifted = undefined;
    const grasp = grasps.get(ex.episode) ?? null;
    const carry = ex.carry_above !== undefined && grasp !== null;
    const free = ex.above_grasp !== undefined && ex.above_grasp > spec.clearance;
    const wanted = spec.frames === 'both' ? carry || free : spec.frames === 'carry' ? carry : free;
    if (!wanted || !ex.pose || ex.mask[3]) continue;
    const follow: Follow | undefined = !spec.relayout ? undefined : carry ? 'goal' : following(ex, grasp, config.chunk);
    const q = Object.fromEntries(joints.map(([name, i]) => [name, ex.proprio[i]]));
    const c = Math.cos(ex.pose[3]);
    const s = Math.sin(ex.pose[3]);
    for (let k = 0; k < spec.views; k++) {
      const dx = (rand() * 2 - 1) * spec.reach;
      const dy = (rand() * 2 - 1) * spec.reach;
      const relayout = follow !== undefined ? { seed: Math.floor(rand() * 2 ** 31), follow } : null;
      requests.push({ scene: episodes[ex.episode], joints: q, shift: { x: c * dx - s * dy, y: s * dx + c * dy }, grasp: carry ? grasp : null, relayout });
      owners.push({ ex, dx, dy, follow: relayout?.follow ?? null, yaw: ex.pose[3] });
    }
  }
  let i = 0;
  for await (const { image, moved } of render(requests, config.image)) {
    if (i >= owners.length) throw new Error(`augment.rendered_shift: the renderer returned more than the ${owners.length} views asked for`);
    const owner = owners[i++];
    const { ex, follow, yaw } = owner;
    let { dx, dy } = owner;
    if (image.length !== ex.image.length) throw new Error(`augment.rendered_shift: a rendered view has ${image.length} bytes, the dataset's images ${ex.image.length}`);
    // The keyframes ahead are places relative to what the hand heads for: the goal in a carry, the
    // object to take on the way to it. That moved by δ, they are δ further, as if the tool stood −δ aside.
    const followed = follow ? moved[follow] : null;
    if (followed) {
      dx -= Math.cos(yaw) * followed.x + Math.sin(yaw) * followed.y;
      dy -= -Math.sin(yaw) * followed.x + Math.cos(yaw) * followed.y;
    }
    (ex.shifted ??= []).push({ image, dx, dy });
  }
  if (i !== owners.length) throw new Error(`augment.rendered_shift: the renderer returned ${i} of the ${owners.length} views asked for`);
  return i;
}

/** A keyframe this close (m, horizontally) to the grasp point is a place relative to the object taken (above it, at it). */
const AT_OBJECT = 0.03;
/** A free-approach frame whose next keyframe is lower than this (m) over the grasp is about to take the object: not laid out again. */
const ABOVE_OBJECT = 0.05;

/** Each episode's grasp point (tool x, y when the gripper first closed), by episode. */
function graspPoints(examples: readonly PolicyExample[]): Map<number, { x: number; y: number; z: number }> {
  const out = new Map<number, { x: number; y: number; z: number }>();
  for (let t = 1; t < examples.length; t++) {
    const ex = examples[t];
    const prev = examples[t - 1];
    if (ex.episode === prev.episode && !out.has(ex.episode) && ex.above_grasp === undefined && prev.above_grasp !== undefined && ex.pose) out.set(ex.episode, { x: ex.pose[0], y: ex.pose[1], z: ex.pose[2] });
  }
  return out;
}

/**
 * What a free-approach frame's labels are relative to, for a relayout: null when no keyframe of its
 * chunk is at the object (a look around, a rise: the labels hold wherever things stand); 'target'
 * when every one is, high enough over it, and the gripper holds over the chunk (the approach: its
 * labels follow the object); undefined otherwise (keyframes of both kinds, or the grasp at hand,
 * whose timing a moved object would make wrong): not laid out again.
 */
function following(ex: PolicyExample, grasp: { x: number; y: number; z: number } | null, chunk: number): Follow | undefined {
  if (!grasp || !ex.pose) return undefined;
  const [x, y, z, yaw] = ex.pose;
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  let at = 0;
  for (let r = 0; r < chunk; r++) {
    const row = ex.actions.subarray(r * ACTION_DIM, (r + 1) * ACTION_DIM);
    const kx = x + c * row[0] - s * row[1];
    const ky = y + s * row[0] + c * row[1];
    if (Math.hypot(kx - grasp.x, ky - grasp.y) < AT_OBJECT) at++;
  }
  if (at === 0) return null;
  if (at < chunk) return undefined;
  const still = Array.from({ length: chunk }, (_, r) => ex.actions[r * ACTION_DIM + 6]).every((g) => g === ex.actions[6]);
  const high = z + ex.actions[2] - grasp.z > ABOVE_OBJECT;
  return still && high ? 'target' : undefined;
}
