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
// exactly instead of by a NeRF).
import type { PolicyConfig } from './config.ts';
import type { PolicyExample } from './features.ts';
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
  /** The carry's goal (a plate, a bin) put elsewhere its scene's layout could have, drawn from this seed; null = where it stood. */
  goal: number | null;
}

/** A rendered view: the RGB image, and how far the goal was moved (world m; null when it was not). */
export interface RenderedView {
  image: Uint8Array;
  goal: { x: number; y: number } | null;
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
  const owners: { ex: PolicyExample; dx: number; dy: number; carry: boolean; yaw: number }[] = [];
  let grasp: { x: number; y: number } | null = null;
  let episode = -1;
  for (let t = 0; t < examples.length; t++) {
    const ex = examples[t];
    ex.shifted = undefined;
    if (ex.episode !== episode) {
      episode = ex.episode;
      grasp = null;
    }
    // The first frame after the free approach is where the gripper closed: the grasp point.
    if (grasp === null && ex.above_grasp === undefined && ex.pose && t > 0 && examples[t - 1].episode === episode) grasp = { x: ex.pose[0], y: ex.pose[1] };
    const carry = ex.carry_above !== undefined && grasp !== null;
    const free = ex.above_grasp !== undefined && ex.above_grasp > spec.clearance;
    const wanted = spec.frames === 'both' ? carry || free : spec.frames === 'carry' ? carry : free;
    if (!wanted || !ex.pose || ex.mask[3]) continue;
    const q = Object.fromEntries(joints.map(([name, i]) => [name, ex.proprio[i]]));
    const c = Math.cos(ex.pose[3]);
    const s = Math.sin(ex.pose[3]);
    for (let k = 0; k < spec.views; k++) {
      const dx = (rand() * 2 - 1) * spec.reach;
      const dy = (rand() * 2 - 1) * spec.reach;
      const goal = spec.move_goal ? Math.floor(rand() * 2 ** 31) : null;
      requests.push({ scene: episodes[episode], joints: q, shift: { x: c * dx - s * dy, y: s * dx + c * dy }, grasp: carry ? grasp : null, goal });
      owners.push({ ex, dx, dy, carry, yaw: ex.pose[3] });
    }
  }
  let i = 0;
  for await (const { image, goal } of render(requests, config.image)) {
    if (i >= owners.length) throw new Error(`augment.rendered_shift: the renderer returned more than the ${owners.length} views asked for`);
    const { ex, carry, yaw } = owners[i++];
    let { dx, dy } = owners[i - 1];
    if (image.length !== ex.image.length) throw new Error(`augment.rendered_shift: a rendered view has ${image.length} bytes, the dataset's images ${ex.image.length}`);
    if (spec.move_goal && !goal) throw new Error('augment.rendered_shift.move_goal: the renderer did not move the goal');
    // A carry heads for the goal: moved by δ, its keyframes are δ further, as if the tool stood −δ aside.
    // The free approach heads for the object to take, wherever the goal stands: its labels stay.
    if (goal && carry) {
      dx -= Math.cos(yaw) * goal.x + Math.sin(yaw) * goal.y;
      dy -= -Math.sin(yaw) * goal.x + Math.cos(yaw) * goal.y;
    }
    (ex.shifted ??= []).push({ image, dx, dy });
  }
  if (i !== owners.length) throw new Error(`augment.rendered_shift: the renderer returned ${i} of the ${owners.length} views asked for`);
  return i;
}
