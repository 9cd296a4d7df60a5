// Building blocks for scripted experts: drive the tool point to a world-frame
// target with a proportional controller, expressed as the base-frame twist
// the robot takes; phases run one after another.
import type { SimAction } from './action.ts';
import { CONTROL_HZ } from './layout.ts';
import type { SimEnv } from './env.ts';
import type { Rng } from './rng.ts';

export interface Target {
  x: number;
  y: number;
  z: number;
  yaw: number;
}

const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** The experts' usual top speed (m/s): drift noise is at full size from this speed on. */
const FULL_SPEED = 0.2;

/** Writes into `out` a twist toward `target`; returns the remaining distance (m). */
export function twistToward(env: SimEnv, target: Target, out: SimAction, vmax = 0.22, gain = 3): number {
  const robot = env.robot;
  const t = robot.toolPoint();
  const ex = target.x - t.x;
  const ey = target.y - t.y;
  const ez = target.z - t.z;
  const dist = Math.hypot(ex, ey, ez);
  const scale = dist * gain > vmax ? vmax / dist : gain;
  const yaw = robot.q.baseYaw;
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  out.linear[0] = (c * ex + s * ey) * scale;
  out.linear[1] = (-s * ex + c * ey) * scale;
  out.linear[2] = ez * scale;
  out.angular[0] = 0;
  out.angular[1] = 0;
  const eyaw = wrap(target.yaw - robot.handYaw());
  out.angular[2] = Math.max(-1.5, Math.min(1.5, 3 * eyaw));
  return dist;
}

export function yawError(env: SimEnv, yaw: number): number {
  return Math.abs(wrap(yaw - env.robot.handYaw()));
}

/** One step of a scripted plan: act until `done` says so (or `maxTicks` pass). */
export interface Phase {
  name: string;
  act(env: SimEnv, out: SimAction, ticks: number): void;
  done(env: SimEnv, ticks: number): boolean;
  maxTicks?: number;
}

/**
 * Runs phases in order, perturbing the twist so demos differ and, more
 * important, so they show recoveries. A few demonstrations that follow one
 * clean path teach a policy nothing about getting back to it: the first small
 * error takes it where no demo went, and errors compound. So the noise is an
 * Ornstein–Uhlenbeck drift (σ `drift` m/s, horizontal, correlation `tau` s) that pushes
 * the tool several millimetres off the path, which the expert's feedback then
 * corrects — the demonstrations DART collects (Laskey et al., 2017), and what
 * a human teleoperator's wobble gives for free. White noise of the same size
 * averages out within a tick or two and moves the tool far less.
 */
export class PhasedExpert {
  private index = 0;
  private ticks = 0;
  private readonly out: SimAction = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };

  constructor(
    private readonly phases: Phase[],
    private readonly rng: Rng,
    private readonly drift = 0.03,
    private readonly tau = 0.5,
  ) {}
  private readonly ou = [0, 0];
  /** This tick's drift as a push (m/s, base frame), applied by the world, not logged. */
  private readonly push: [number, number, number] = [0, 0, 0];

  get phase(): string {
    return this.phases[Math.min(this.index, this.phases.length - 1)].name;
  }

  act(env: SimEnv): SimAction {
    while (this.index < this.phases.length) {
      const p = this.phases[this.index];
      if (p.done(env, this.ticks) || (p.maxTicks !== undefined && this.ticks >= p.maxTicks)) {
        this.index++;
        this.ticks = 0;
        continue;
      }
      break;
    }
    const p = this.phases[Math.min(this.index, this.phases.length - 1)];
    p.act(env, this.out, this.ticks);
    this.ticks++;
    const dt = 1 / CONTROL_HZ;
    const a = Math.exp(-dt / this.tau);
    // Signal-dependent, as human motor noise is: the faster the commanded motion, the larger the
    // wobble; slow, precise motion near a target (descending, squeezing) stays nearly clean.
    const l = this.out.linear;
    const speed = Math.min(1, Math.hypot(l[0], l[1], l[2]) / FULL_SPEED);
    // Horizontal only: a vertical wobble at sniffing or carrying height would knock objects over.
    for (let i = 0; i < 2; i++) {
      this.ou[i] = a * this.ou[i] + this.drift * Math.sqrt(1 - a * a) * this.rng.normal();
      this.push[i] = speed * this.ou[i];
    }
    return this.out;
  }

  /**
   * This tick's drift, applied by the world on top of the command (SimEnv.step): the demonstration
   * records the expert's correcting command, not the drift, so a policy learns the correction
   * (DART's labels) instead of imitating noise it cannot see.
   */
  disturbance(): readonly [number, number, number] {
    return this.push;
  }
}

/** A phase that moves to a target with a fixed gripper command, until within `tol` metres. */
export function moveTo(name: string, target: (env: SimEnv) => Target, gripper: number | (() => number), tol = 0.006, maxTicks = 120, vmax = 0.22): Phase {
  let dist = Infinity;
  let yerr = Infinity;
  return {
    name,
    maxTicks,
    act(env, out) {
      const t = target(env);
      dist = twistToward(env, t, out, vmax);
      yerr = yawError(env, t.yaw);
      out.gripper = typeof gripper === 'number' ? gripper : gripper();
    },
    done(env) {
      const t = target(env);
      const p = env.robot.toolPoint();
      return Math.hypot(t.x - p.x, t.y - p.y, t.z - p.z) < tol && yawError(env, t.yaw) < 0.05 && dist !== Infinity && yerr !== Infinity;
    },
  };
}

/** Holds still with a gripper command for `ticks` control ticks. */
export function hold(name: string, gripper: number | ((env: SimEnv, ticks: number) => number), ticks: number): Phase {
  let where: Target | null = null;
  return {
    name,
    act(env, out, t) {
      if (t === 0 || !where) {
        const p = env.robot.toolPoint();
        where = { x: p.x, y: p.y, z: p.z, yaw: env.robot.handYaw() };
      }
      twistToward(env, where, out);
      out.gripper = typeof gripper === 'number' ? gripper : gripper(env, t);
    },
    done: (_env, t) => t >= ticks,
  };
}

/** Where the tool stands now, at height `z` with hand yaw `yaw`: a target that holds x and y. */
export function overTool(env: SimEnv, z: number, yaw: number): Target {
  const p = env.robot.toolPoint();
  return { x: p.x, y: p.y, z, yaw };
}

/** The gripper command a squeeze and a release share (0 open … 1 closed), carried from one phase to the next. */
export interface Grip {
  g: number;
}

/** The weaker pad's measured squeeze (N): a grip is only as firm as its lighter side. */
export function weakerSqueeze(env: SimEnv): number {
  return Math.min(env.measuredSqueeze(0), env.measuredSqueeze(1));
}

/**
 * Squeeze like a hand on a trigger: close at one steady `rate` per tick while the tool holds
 * `at` (where it stands, at the grasp height), until `firm(env)` says the grip is firm. Each
 * tick's gripper change is then the same until touch says stop, and when to move on is felt,
 * not counted in ticks. A one-tick close is a label on ten frames out of hundreds, which an L1
 * fit predicts as its median, 0: a policy trained on it reaches the object and never closes
 * (docs/results.md).
 */
export function squeeze(name: string, grip: Grip, at: (env: SimEnv) => Target, firm: (env: SimEnv) => boolean, rate = 0.03, maxTicks = 60): Phase {
  return {
    name,
    maxTicks,
    act(env, out) {
      if (!firm(env)) grip.g = Math.min(1, grip.g + rate);
      twistToward(env, at(env), out);
      out.gripper = grip.g;
    },
    done: (env) => firm(env),
  };
}

/** The squeeze's counterpart: opens at one steady `rate` per tick, standing still, until a pad feels nothing. */
export function release(name: string, grip: Grip, yaw: number, rate = 0.05, maxTicks = 40): Phase {
  return {
    name,
    maxTicks,
    act(env, out) {
      grip.g = Math.max(0, grip.g - rate);
      twistToward(env, overTool(env, env.robot.toolPoint().z, yaw), out);
      out.gripper = grip.g;
    },
    done: (env) => grip.g <= 0 && weakerSqueeze(env) < 0.05,
  };
}

/** The weight the pads carry (N): the shear up both pads, positive while the hand holds something up. */
export function carriedLoad(env: SimEnv): number {
  let s = 0;
  for (const f of env.latestTactile) for (let k = 1; k < f.length; k += 3) s -= f[k];
  return s;
}

/**
 * Sets what the hand holds down on a support: lowers toward `target` (put a little below where the
 * object would rest) until the pads feel the support take its weight (the load falls below
 * `fraction` of what they carried when lowering began), within `near` m above the target. A hand
 * lets go when it feels the touch-down, not at a height: the height of a release is nearly the
 * height of a grasp, and a policy told only heights cannot tell "lift now" from "let go now"
 * (docs/results.md). The `near` guard keeps the lowering's first acceleration, which also lightens
 * the load, from reading as a touch-down.
 */
export function setDown(name: string, target: (env: SimEnv) => Target, grip: Grip, fraction = 0.4, near = 0.03, maxTicks = 100, vmax = 0.12): Phase {
  const move = moveTo(name, target, () => grip.g, 0, maxTicks, vmax);
  let start = 0;
  return {
    name,
    maxTicks,
    act(env, out, t) {
      if (t === 0) start = carriedLoad(env);
      move.act(env, out, t);
    },
    done: (env, t) => t > 0 && carriedLoad(env) < fraction * start && env.robot.toolPoint().z < target(env).z + near,
  };
}

/** Random actions: a smooth random twist and a random gripper, for the chance baseline. */
export class RandomPolicy {
  private readonly out: SimAction = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };
  constructor(private readonly rng: Rng) {}
  act(): SimAction {
    for (let i = 0; i < 3; i++) this.out.linear[i] = 0.9 * this.out.linear[i] + 0.1 * 0.4 * this.rng.normal() * 3;
    this.out.angular[2] = 0.9 * this.out.angular[2] + 0.3 * this.rng.normal();
    if (this.rng.next() < 0.05) this.out.gripper = this.rng.next();
    return this.out;
  }
}
