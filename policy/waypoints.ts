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
      const dx = q[0] - p[0];
      const dy = q[1] - p[1];
      const row = ex.actions.subarray(r * ACTION_DIM, (r + 1) * ACTION_DIM);
      row[0] = c * dx + s * dy;
      row[1] = -s * dx + c * dy;
      row[2] = q[2] - p[2];
      row[3] = 0;
      row[4] = 0;
      row[5] = wrap(q[3] - p[3]);
      row[6] = gripper[j] - before;
    }
  }
}

/** Pixels whose colour changes by less than this (of 255) over the carry, and differs by more from the background, are the hand's and what it holds. */
const STATIC_LEVEL = 30;
/** A carry heads for a keyframe at least this far (m) aside from where the object was taken. */
const CARRY_AWAY = 0.02;

/**
 * The carry: ticks after the grasp (gripper closed and steady) whose next keyframe lies aside from
 * where the object was taken, i.e. a place in the scene (a bin, a plate), not "straight up".
 * Each gets its height above the approach's lowest point (`carry_above`) and the episode's
 * held-still pixels (`held_pixels`): in a wrist camera the hand and what it holds stay put while
 * the scene moves past, so a view shift of the carry (features.ts) moves every pixel but those.
 */
function markCarry(eps: PolicyExample[], poses: readonly Float32Array[], gripper: readonly number[], next: Int32Array, free: number, low: number, config: WaypointConfig): void {
  const n = eps.length;
  const steady = config.gripper_jump / 10;
  const held: number[] = [];
  for (let t = free + 1; t < n; t++) if (gripper[t] - gripper[0] > config.gripper_jump && Math.abs(gripper[t] - gripper[t - 1]) <= steady) held.push(t);
  for (const ex of eps) {
    ex.carry_above = undefined;
    ex.held_pixels = undefined;
  }
  // No carry, or no camera to shift.
  const size = eps[held[0]]?.image?.length ?? 0;
  if (held.length < 2 || size === 0) return;
  const [gx, gy] = poses[held[0]];
  const width = Math.round(Math.sqrt(size / 3));
  const lo = new Uint8Array(size).fill(255);
  const hi = new Uint8Array(size);
  for (const t of held) {
    const img = eps[t].image;
    if (img?.length !== size) return;
    for (let i = 0; i < size; i++) {
      if (img[i] < lo[i]) lo[i] = img[i];
      if (img[i] > hi[i]) hi[i] = img[i];
    }
  }
  // Still over the carry and unlike the background: the counter is as still, but it is the scene.
  const bg = dominantColour(eps[0].image);
  const pixels = new Uint8Array(size / 3);
  for (let i = 0; i < pixels.length; i++) {
    let range = 0;
    let fromBg = 0;
    for (let c = 0; c < 3; c++) {
      range = Math.max(range, hi[3 * i + c] - lo[3 * i + c]);
      fromBg = Math.max(fromBg, Math.abs((hi[3 * i + c] + lo[3 * i + c]) / 2 - bg[c]));
    }
    pixels[i] = range < STATIC_LEVEL && fromBg > STATIC_LEVEL ? 1 : 0;
  }
  fillGaps(pixels, width);
  for (const t of held) {
    const q = poses[next[t]];
    if (Math.hypot(q[0] - gx, q[1] - gy) < CARRY_AWAY) continue;
    eps[t].carry_above = poses[t][2] - low;
    eps[t].held_pixels = pixels;
  }
}

/** The most common colour of an RGB image (16 levels a channel): the background a scene stands on. */
function dominantColour(image: Uint8Array): [number, number, number] {
  const count = new Uint32Array(4096);
  const sum = new Float64Array(4096 * 3);
  for (let i = 0; i < image.length; i += 3) {
    const bin = ((image[i] >> 4) << 8) | ((image[i + 1] >> 4) << 4) | (image[i + 2] >> 4);
    count[bin]++;
    for (let c = 0; c < 3; c++) sum[bin * 3 + c] += image[i + c];
  }
  let best = 0;
  for (let b = 1; b < 4096; b++) if (count[b] > count[best]) best = b;
  const n = Math.max(1, count[best]);
  return [sum[best * 3] / n, sum[best * 3 + 1] / n, sum[best * 3 + 2] / n];
}

/**
 * Closes short gaps along each row between held-still pixels: the held object's face shades as
 * it moves under the light, so its inside can change more than its outline. (Square images.)
 */
function fillGaps(pixels: Uint8Array, width: number): void {
  for (let y = 0; y * width < pixels.length; y++) {
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (!pixels[y * width + x]) continue;
      if (last >= 0 && x - last - 1 <= MAX_GAP) for (let k = last + 1; k < x; k++) pixels[y * width + k] = 1;
      last = x;
    }
  }
}
const MAX_GAP = 8;

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
