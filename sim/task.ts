// What every task provides: its objects (built into a fresh world), a success
// predicate, failure causes, a step limit, and a scripted expert.
import type { RigidBody } from '@dimforge/rapier3d-deterministic-compat';
import type { SimAction } from './action.ts';
import type { SimEnv } from './env.ts';
import type { JointState, KeepOut } from './robot.ts';
import type { Rng } from './rng.ts';
import type { Plume } from './plume.ts';
import type { SimWorld } from './world.ts';

export const TASK_NAMES = ['pick-place', 'open-door', 'find-smell', 'gentle-grasp'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Which senses a scripted expert may use (ablations show that touch and smell matter). */
export type ExpertVariant = 'full' | 'no-smell' | 'no-touch';

export interface Expert {
  act(env: SimEnv): SimAction;
}

export interface TaskBuildContext {
  sim: SimWorld;
  rng: Rng;
  plume: Plume;
}

export interface Task {
  readonly name: TaskName;
  /** Control ticks before the episode times out. */
  readonly stepLimit: number;
  /** Where the robot starts (drawn by the task from its ranges). */
  readonly robotStart: JointState;
  /** Fixed furniture the gripper must stop at (see Robot.keepOut). */
  readonly keepOut?: KeepOut[];
  /** Called after every physics step (crush checks, moving odor sources). */
  afterPhysicsStep(env: SimEnv): void;
  success(env: SimEnv): boolean;
  /** A failure cause once the episode cannot succeed any more, else null. */
  failure(env: SimEnv): string | null;
  /** Task-specific state for info() and logs. */
  info(env: SimEnv): Record<string, number | string | boolean>;
  /**
   * Stages of the task this episode has reached, latched (find-smell: the first jar the fingers
   * touched was the odorant one). Eval reports each as a rate with an interval beside success:
   * where few episodes succeed, they show which part of the task a policy has learned.
   */
  milestones?(env: SimEnv): Record<string, boolean>;
  /**
   * The things a policy must find by sight (find-smell: the jars and the bin), where they are now:
   * the targets a vision prior learns to locate in the wrist camera (sim/views.ts).
   */
  landmarks?(): Landmark[];
  /**
   * The landmarks the hand works on in this scene, in order, one per turn of the gripper
   * (pick-place: the mug, then the plate; find-smell: the odorant jar, then the bin): the stages a
   * recorded demonstration is cut into when demonstrations are generated from it (sim/generate.ts).
   * Read when the scene is laid out.
   */
  stages?(): readonly string[];
  /**
   * The landmarks a demonstration searches among before its first stage, hovering over each
   * without turning the gripper until it finds the first stage's (find-smell: the three jars,
   * sniffed until one smells).
   */
  searches?(): readonly string[];
  /**
   * The part of the layout no stage can be moved across (open-door: which side the hinge is on,
   * and so which way the door swings): demonstrations are generated only from recordings of the
   * same variant.
   */
  variant?(): string;
  /** Bodies the hand may carry, and how it grips each (sim/views.ts poses them in the hand). */
  readonly holdables?: Holdable[];
  /**
   * The scene laid out again for rendered views of a demonstration (sim/shifts.ts): the carry's
   * goal, or the object to take, put where the layout could have drawn them.
   */
  readonly relayout?: Relayout;
  expert(variant: ExpertVariant, rng: Rng): Expert;
}

/** How far something was moved (world m), and where its centre now stands. */
export interface Moved {
  x: number;
  y: number;
  at: { x: number; y: number; z: number };
}

export interface Relayout {
  /** Draws the carry's goal (pick-place: the plate; find-smell: the bin) anew, the object to take staying where the layout put it. */
  goal(rng: Rng): Moved;
  /**
   * Draws the object the approach heads for anew, and the goal with it where the layout ties the
   * two (pick-place: the plate stays 22 cm from the mug). Absent where another sense picks the
   * object (find-smell's jars).
   */
  target?(rng: Rng): { target: Moved; goal: Moved };
  /** Puts everything back where the layout put it. */
  restore(): void;
}

export interface Landmark {
  name: string;
  x: number;
  y: number;
  z: number;
}

export interface Holdable {
  body: RigidBody;
  /** The tool point's height above the body's centre when the pads grip it (the expert's grasp height). */
  toolAboveCentre: number;
  /** The body's radius: the fingers' opening when they grip it. */
  radius: number;
  halfHeight: number;
}

export type TaskFactory = (ctx: TaskBuildContext) => Task;

/** The robot's usual start: facing the counter, arm half out, gripper high and open. */
export function defaultStart(rng: Rng): JointState {
  return {
    baseX: rng.uniform(-0.03, 0.03),
    baseY: rng.uniform(-0.03, 0.03),
    baseYaw: rng.uniform(-0.05, 0.05),
    lift: rng.uniform(1.12, 1.2),
    arm: rng.uniform(0.5, 0.6),
    wristYaw: rng.uniform(-0.1, 0.1),
  };
}
