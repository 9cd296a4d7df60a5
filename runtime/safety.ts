// The safety filter between the policy and the robot. Every commanded action
// passes through it, in this order:
//
// 1. non-finite values become 0 (a NaN twist is not a command);
// 2. velocity limits, per axis, linear and angular;
// 3. acceleration limits: per axis, the change from the last command is at
//    most max_accel · dt (a safe stop is not filtered: it is immediate);
// 4. the workspace box: a linear velocity that would carry the end effector
//    out of the box within the next tick is zeroed along that world axis
//    (needs the end-effector pose from proprio; skipped when unknown);
// 5. the gripper-force limit from touch: above max_grip_force_n the gripper
//    may not close further; above max_grip_force_n · grip_hard_factor it is
//    opened by grip_backoff each tick until the force drops.
import type { ActionData } from '../sensors/index.ts';
import type { SafetyConfig } from './config.ts';

export interface SafetyContext {
  /** Seconds until the next command (one control period). */
  dtS: number;
  /** End-effector position in the world frame, when known. */
  ee: { x: number; y: number; z: number } | null;
  /** Base yaw (rad) to turn the base-frame twist into the world frame (0 when unknown). */
  baseYaw: number;
  /** Grip force felt by touch, N, when known. */
  gripForceN: number | null;
}

export type Limit = 'non_finite' | 'velocity' | 'acceleration' | 'workspace' | 'grip_force';

export interface Filtered {
  action: ActionData;
  /** Which limits changed the action this time. */
  limited: Limit[];
}

const clampAbs = (v: number, max: number) => Math.max(-max, Math.min(max, v));

export class SafetyFilter {
  private last: ActionData = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };
  /** Times each limit acted, since start. */
  readonly counts: Record<Limit, number> = { non_finite: 0, velocity: 0, acceleration: 0, workspace: 0, grip_force: 0 };

  constructor(readonly config: SafetyConfig) {}

  /** The last command that went out (after filtering). */
  get lastCommand(): ActionData {
    return this.last;
  }

  /** After a safe stop the robot stands still: acceleration limits ramp up from zero again. */
  noteStop(gripper: number): void {
    this.last = { linear: [0, 0, 0], angular: [0, 0, 0], gripper };
  }

  filter(a: ActionData, ctx: SafetyContext): Filtered {
    const c = this.config;
    const limited = new Set<Limit>();
    const lin = [0, 0, 0];
    const ang = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      let l = a.linear[i];
      let w = a.angular[i];
      if (!Number.isFinite(l)) (l = 0), limited.add('non_finite');
      if (!Number.isFinite(w)) (w = 0), limited.add('non_finite');
      const lv = clampAbs(l, c.max_linear_m_s);
      const wv = clampAbs(w, c.max_angular_rad_s);
      if (lv !== l || wv !== w) limited.add('velocity');
      const dl = c.max_linear_accel_m_s2 * ctx.dtS;
      const dw = c.max_angular_accel_rad_s2 * ctx.dtS;
      lin[i] = Math.max(this.last.linear[i] - dl, Math.min(this.last.linear[i] + dl, lv));
      ang[i] = Math.max(this.last.angular[i] - dw, Math.min(this.last.angular[i] + dw, wv));
      if (lin[i] !== lv || ang[i] !== wv) limited.add('acceleration');
    }
    if (c.workspace && ctx.ee) {
      // Base-frame twist → world frame, zero outward motion per world axis, and back.
      const cy = Math.cos(ctx.baseYaw);
      const sy = Math.sin(ctx.baseYaw);
      const world = [cy * lin[0] - sy * lin[1], sy * lin[0] + cy * lin[1], lin[2]];
      const p = [ctx.ee.x, ctx.ee.y, ctx.ee.z];
      let changed = false;
      for (let i = 0; i < 3; i++) {
        const next = p[i] + world[i] * ctx.dtS;
        if ((next > c.workspace.max[i] && world[i] > 0) || (next < c.workspace.min[i] && world[i] < 0)) {
          world[i] = 0;
          changed = true;
        }
      }
      if (changed) {
        limited.add('workspace');
        lin[0] = cy * world[0] + sy * world[1];
        lin[1] = -sy * world[0] + cy * world[1];
        lin[2] = world[2];
      }
    }
    let g = Number.isFinite(a.gripper) ? Math.max(0, Math.min(1, a.gripper)) : this.last.gripper;
    if (!Number.isFinite(a.gripper)) limited.add('non_finite');
    if (ctx.gripForceN !== null && ctx.gripForceN > c.max_grip_force_n) {
      const hard = ctx.gripForceN > c.max_grip_force_n * c.grip_hard_factor;
      const capped = hard ? Math.max(0, this.last.gripper - c.grip_backoff) : Math.min(g, this.last.gripper);
      if (capped !== g) limited.add('grip_force');
      g = capped;
    }
    const action: ActionData = { linear: [lin[0], lin[1], lin[2]], angular: [ang[0], ang[1], ang[2]], gripper: g };
    for (const l of limited) this.counts[l]++;
    this.last = action;
    return { action, limited: [...limited] };
  }
}
