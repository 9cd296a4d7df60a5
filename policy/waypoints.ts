// Waypoint actions: instead of the twist a demonstration commanded at each
// tick, the policy predicts where the tool goes next — the next keyframe of
// the demonstration, relative to the tool now, in the hand's frame — and a
// proportional Cartesian controller tracks it (as a robot's position
// controller tracks a target pose).
//
// Why: with three demonstrations a twist label says almost nothing about the
// scene. An approach runs at the speed cap, so every frame of it carries the
// same label (one direction), and three demos give three directions to learn
// "where is the cup" from. The waypoint label is the cup's offset itself: it
// changes on every frame of the approach, in step with where the cup appears
// in the wrist camera, so each demo teaches a whole line of that mapping
// (AWE, Shi et al. 2023; keyframes as in PerAct and C2F-ARM).
//
// Keyframes (no phase labels needed): the ticks where the tool stands still
// (holds, grasps), the ticks where the gripper command jumps, and the corners
// of the path between stops (Douglas–Peucker on the tool positions).
import type { ActionData } from '../sensors/index.ts';
import type { PolicyConfig } from './config.ts';
import { ACTION_DIM, type PolicyExample } from './features.ts';
import { markCarry } from './carry.ts';

export type WaypointConfig = PolicyConfig['action'];

const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** Douglas–Peucker: marks the interior points of p[a..b] that a polyline within `eps` of the path needs. */
function markCorners(p: readonly Float32Array[], a: number, b: number, eps: number, out: boolean[]): void {
  if (b - a < 2) return;
  const [ax, ay, az] = p[a];
  const dx = p[b][0] - ax;
  const dy = p[b][1] - ay;
  const dz = p[b][2] - az;
  const len2 = dx * dx + dy * dy + dz * dz;
  let worst = -1;
  let at = -1;
  for (let i = a + 1; i < b; i++) {
    const ux = p[i][0] - ax;
    const uy = p[i][1] - ay;
    const uz = p[i][2] - az;
    const s = len2 > 0 ? Math.max(0, Math.min(1, (ux * dx + uy * dy + uz * dz) / len2)) : 0;
    const d = Math.hypot(ux - s * dx, uy - s * dy, uz - s * dz);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (worst <= eps) return;
  out[at] = true;
  markCorners(p, a, at, eps, out);
  markCorners(p, at, b, eps, out);
}

/**
 * Keyframes of one episode: `poses[t]` is the tool pose at tick t, `gripper[t]`
 * the commanded gripper. The last tick is always one.
 */
export function keyframes(poses: readonly Float32Array[], gripper: readonly number[], config: WaypointConfig, rateHz: number): boolean[] {
  const n = poses.length;
  const key = new Array<boolean>(n).fill(false);
  if (n === 0) return key;
  const step = config.stop_speed / rateHz;
  for (let t = 0; t < n - 1; t++) {
    const moved = Math.hypot(poses[t + 1][0] - poses[t][0], poses[t + 1][1] - poses[t][1], poses[t + 1][2] - poses[t][2]);
    if (moved < step || Math.abs(gripper[t + 1] - gripper[t]) > config.gripper_jump) key[t] = true;
  }
  key[n - 1] = true;
  // Between consecutive keyframes the tool moves; its path's corners are keyframes too.
  let prev = 0;
  for (let t = 1; t < n; t++) {
    if (!key[t]) continue;
    markCorners(poses, prev, t, config.corner, key);
    prev = t;
  }
  return key;
}

/**
 * Rewrites each example's action rows (one episode's examples in order, as
 * the dataset yields them) as waypoint targets: row k = the next keyframe
 * after tick t+k, relative to the tool at t and rotated into the hand's frame
 * [dx, dy, dz, 0, 0, dyaw, gripper]. The gripper column is the command at t+k, less the
 * command at t−1 when `config.gripper` is 'delta'.
 */
export function relabelWaypoints(examples: PolicyExample[], config: WaypointConfig, chunk: number, rateHz: number): void {
  let start = 0;
  while (start < examples.length) {
    let end = start;
    while (end < examples.length && examples[end].episode === examples[start].episode) end++;
    relabelEpisode(examples.slice(start, end), config, chunk, rateHz);
    start = end;
  }
}

function relabelEpisode(eps: PolicyExample[], config: WaypointConfig, chunk: number, rateHz: number): void {
  // Ticks before the first pose take the first one; later ticks without one keep the last.
  let last = eps.find((e) => e.pose)?.pose;
  if (!last) throw new Error(`episode ${eps[0].episode}: no tool pose (proprio ee_pose) in any frame; waypoint actions need one`);
  const poses = eps.map((ex) => (last = ex.pose ?? last!));
  const gripper = eps.map((ex) => ex.actions[6]);
  const key = keyframes(poses, gripper, config, rateHz);
  const next = new Int32Array(eps.length);
  let k = eps.length - 1;
  for (let t = eps.length - 1; t >= 0; t--) {
    next[t] = k;
    if (key[t]) k = t;
  }
  // The free approach: ticks before the gripper first closes, when the scene, not the hand, holds
  // every object; view shifts (features.ts) apply there, at the height of its lowest point.
  const g0 = gripper[0];
  let free = eps.findIndex((_, t) => gripper[t] - g0 > config.gripper_jump);
  if (free < 0) free = eps.length;
  let low = Infinity;
  for (let t = 0; t <= Math.min(free, eps.length - 1); t++) low = Math.min(low, poses[t][2]);
  markCarry(eps, poses, gripper, next, free, low, config);
  const delta = config.gripper === 'delta';
  for (let t = 0; t < eps.length; t++) {
    const ex = eps[t];
    const p = poses[t];
    ex.above_grasp = t < free ? p[2] - low : undefined;
    const before = delta ? gripper[Math.max(0, t - 1)] : 0;
    const c = Math.cos(p[3]);
    const s = Math.sin(p[3]);
    for (let r = 0; r < chunk; r++) {
      const j = Math.min(eps.length - 1, t + r);
      const q = poses[next[j]];
      const past = t + r - j;
      const dx = q[0] - p[0];
      const dy = q[1] - p[1];
      const row = ex.actions.subarray(r * ACTION_DIM, (r + 1) * ACTION_DIM);
      row[0] = c * dx + s * dy;
      row[1] = -s * dx + c * dy;
      row[2] = q[2] - p[2];
      row[3] = 0;
      row[4] = 0;
      row[5] = wrap(q[3] - p[3]);
      row[6] = (past > 0 ? gripperAfter(gripper, past, config) : gripper[j]) - before;
      // Rows past the end are labels too when the tail is defined (the hand stays, the gripper goes
      // on): masked, the last row that the delta gripper steps by has no label in a release's ticks.
      if (past > 0 && config.gripper_tail === 'continue' && r < ex.action_valid.length) ex.action_valid[r] = 1;
    }
  }
}

/** The gripper command `past` ticks after the episode's last one (config.gripper_tail). */
function gripperAfter(gripper: readonly number[], past: number, config: WaypointConfig): number {
  const n = gripper.length;
  if (config.gripper_tail === 'hold' || n < 2) return gripper[n - 1];
  return Math.min(1, Math.max(0, gripper[n - 1] + past * (gripper[n - 1] - gripper[n - 2])));
}

/**
 * The twist (base frame) that tracks a waypoint [dx, dy, dz (hand frame), dyaw]
 * from the tool's pose: proportional, with the speed capped along the line.
 * The simulator's experts steer by the same law (sim/expert.ts twistToward),
 * written again here because policy/ runs robots and does not import sim/.
 */
export function waypointTwist(row: ArrayLike<number>, pose: ArrayLike<number>, baseYaw: number, config: WaypointConfig): ActionData {
  const h = pose[3];
  const wx = Math.cos(h) * row[0] - Math.sin(h) * row[1];
  const wy = Math.sin(h) * row[0] + Math.cos(h) * row[1];
  const bx = Math.cos(baseYaw) * wx + Math.sin(baseYaw) * wy;
  const by = -Math.sin(baseYaw) * wx + Math.cos(baseYaw) * wy;
  const dist = Math.hypot(bx, by, row[2]);
  const scale = dist * config.gain > config.vmax ? config.vmax / dist : config.gain;
  const yawRate = Math.max(-config.yaw_max, Math.min(config.yaw_max, config.yaw_gain * row[5]));
  return { linear: [bx * scale, by * scale, row[2] * scale], angular: [0, 0, yawRate], gripper: Math.min(1, Math.max(0, row[6])) };
}

/**
 * This tick's command from a waypoint chunk: track row 0 from the pose in the
 * example; the base yaw comes from proprio's `position.base_yaw` when the
 * robot has a turning base (0 otherwise). Null when the tick has no pose
 * (proprio missing, stale or unhealthy). Proprio hidden from the network only
 * (an ablation, or a config without it) still steers the tracking: the
 * controller, not the network, reads the pose.
 */
export function waypointAction(chunk: Float32Array, ex: { pose?: Float32Array; proprio: Float32Array }, proprioNames: readonly string[], config: WaypointConfig, lastGripper = 0): ActionData | null {
  if (!ex.pose) return null;
  const i = proprioNames.indexOf('position.base_yaw');
  const a = waypointTwist(chunk.subarray(0, ACTION_DIM), ex.pose, i >= 0 ? ex.proprio[i] : 0, config);
  if (config.gripper === 'delta') {
    // The chunk's last row is the change over its whole horizon: step by its average rate. Row 0
    // alone is a one-tick change, and a gripper that shuts in one tick is a spike an L1 fit
    // predicts as its median, 0 — the policy would never close.
    const H = chunk.length / ACTION_DIM;
    a.gripper = Math.min(1, Math.max(0, lastGripper + chunk[(H - 1) * ACTION_DIM + 6] / H));
  }
  return a;
}
