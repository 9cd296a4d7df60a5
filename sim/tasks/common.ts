// Small helpers the tasks share.
import type { RigidBody } from '@dimforge/rapier3d-deterministic-compat';
import { ROBOT } from '../layout.ts';
import type { Holdable, Landmark } from '../task.ts';

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
