// Small helpers the tasks share.
import type { RigidBody } from '@dimforge/rapier3d-deterministic-compat';
import { ROBOT } from '../layout.ts';
import type { Holdable, Landmark, Moved } from '../task.ts';

/** Cosine of the angle between a body's z axis and world up. */
export function uprightness(body: RigidBody): number {
  const q = body.rotation();
  return 1 - 2 * (q.x * q.x + q.y * q.y);
}

/** Tool height at which the pads grip an upright object of this top height without the palm touching it. */
export function graspHeight(top: number): number {
  return top - (ROBOT.palmAboveTool - ROBOT.palmHalf.z) + 0.008;
}

export function speed(body: RigidBody): number {
  const v = body.linvel();
  return Math.hypot(v.x, v.y, v.z);
}

/** A body standing upright on the counter (centre `halfHeight` above it), gripped as the experts grip it. */
export function holdable(body: RigidBody, radius: number, halfHeight: number): Holdable {
  return { body, radius, halfHeight, toolAboveCentre: graspHeight(2 * halfHeight) - halfHeight };
}

/** A body's centre as a landmark. */
export function landmarkOf(name: string, body: RigidBody): Landmark {
  const p = body.translation();
  return { name, x: p.x, y: p.y, z: p.z };
}

/**
 * Bodies moved as one, whose centre the layout put at `at`: `to(p)` puts that centre at p, `restore`
 * puts them back where they stood when first asked (after the reset's settling steps).
 */
export function movable(bodies: readonly RigidBody[], at: { x: number; y: number }): { to(p: { x: number; y: number }): Moved; restore(): void } {
  let rest: { x: number; y: number; z: number }[] | null = null;
  const resting = () => (rest ??= bodies.map((b) => ({ ...b.translation() })));
  return {
    to(p) {
      const from = resting();
      const d = { x: p.x - at.x, y: p.y - at.y };
      bodies.forEach((b, i) => b.setTranslation({ x: from[i].x + d.x, y: from[i].y + d.y, z: from[i].z }, false));
      return { ...d, at: { x: p.x, y: p.y, z: from[0].z } };
    },
    restore() {
      const from = resting();
      bodies.forEach((b, i) => b.setTranslation(from[i], false));
    },
  };
}
