// The carry of a waypoint demonstration: the ticks a view shift may move
// after the grasp (policy/features.ts viewShift, augment.view_shift_carry),
// and the pixels it must leave in place — in a wrist camera the hand and what
// it holds stay put while the scene moves past.
import type { PolicyExample } from './features.ts';
import type { WaypointConfig } from './waypoints.ts';

/** Pixels whose colour changes by less than this (of 255) over the carry, and differs by more from the background, are the hand's and what it holds. */
const STATIC_LEVEL = 30;
/** A carry heads for a keyframe at least this far (m) aside from where the object was taken. */
const CARRY_AWAY = 0.02;
/** Gaps (px) along a row between held-still pixels that are filled in. */
const MAX_GAP = 8;

/**
 * The carry: ticks after the grasp (gripper closed and steady) whose next keyframe lies aside from
 * where the object was taken, i.e. a place in the scene (a bin, a plate), not "straight up".
 * Each gets its height above the approach's lowest point (`carry_above`) and the episode's
 * held-still pixels (`held_pixels`): in a wrist camera the hand and what it holds stay put while
 * the scene moves past, so a view shift of the carry (features.ts) moves every pixel but those.
 */
export function markCarry(eps: PolicyExample[], poses: readonly Float32Array[], gripper: readonly number[], next: Int32Array, free: number, low: number, config: WaypointConfig): void {
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
