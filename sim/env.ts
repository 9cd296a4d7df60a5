// The gym-like environment: reset(seed) builds a fresh world for the task,
// step(action) advances one control tick and returns every sensor sample
// captured during it, each at its native rate on the sim clock.
// Same seed → same episode, bit for bit (deterministic Rapier, seeded RNGs,
// integer-nanosecond clock).
import type { SimAction } from './action.ts';
import { ENose, DEFAULT_ENOSE, type ENoseConfig, type ENoseReading } from './enose.ts';
import { PHYSICS_HZ, ROBOT, STEPS_PER_CONTROL } from './layout.ts';
import { Plume } from './plume.ts';
import { Rng } from './rng.ts';
import { ARM_JOINTS, JOINT_NAMES, Robot } from './robot.ts';
import { STREAMS, type CameraData, type ProprioData, type Sample, type SmellData, type TactileData } from './samples.ts';
import type { Task, TaskName } from './task.ts';
import { TASKS } from './tasks/index.ts';
import { DEFAULT_TOUCH, TouchSensor, type TouchConfig } from './touch.ts';
import { SimWorld } from './world.ts';
import type { RapierBuild } from './rapier.ts';

export const STEP_NS = 1_000_000_000 / PHYSICS_HZ;
/**
 * The sim clock reads 1 s at reset, not 0: a zero capture time is what a
 * sensor whose clock was never set sends, and streams reject it (sensors/
 * stream.ts), which masked every modality for the first rate window (2 s)
 * of every episode, in training and at run time alike.
 */
export const SIM_EPOCH_NS = 1_000_000_000;
const PROPRIO_EVERY = PHYSICS_HZ / 100;
const TOUCH_EVERY = PHYSICS_HZ / 100;
const SMELL_EVERY = PHYSICS_HZ / 2;
/** Physics steps run at reset, before t = 0, while the robot holds its start pose. */
const SETTLE_STEPS = 10;
/** Modelled transport latency per stream (ns): capture → receive. */
const LATENCY_NS: Record<string, number> = {
  [STREAMS.proprio]: 1_000_000,
  [STREAMS.tactileLeft]: 2_000_000,
  [STREAMS.tactileRight]: 2_000_000,
  [STREAMS.smell]: 5_000_000,
  [STREAMS.camera]: 15_000_000,
  [STREAMS.sceneCamera]: 15_000_000,
  [STREAMS.action]: 0,
};

/** One camera's frame and the stream it goes out on. */
export interface CameraFrame {
  stream: string;
  data: CameraData;
}

/** Renders the cameras; the env calls it when a frame is due. */
export interface CameraSource {
  readonly hz: number;
  /** Called after every reset so the renderer can mirror the new world (and compile its pipelines). */
  attach(env: SimEnv): Promise<void>;
  /** Every camera's frame of this instant. */
  render(env: SimEnv): Promise<CameraFrame[]>;
  dispose(): void;
}

export interface SimEnvOptions {
  task: TaskName;
  camera?: CameraSource | null;
  touch?: TouchConfig;
  enose?: ENoseConfig;
  /** Seconds the e-nose has been powered at reset (default 120: warm). */
  enoseStartAgeS?: number;
  /** Rapier build (default deterministic; 'fast' only for benchmarks: not bit-exact across machines). */
  physics?: RapierBuild;
}

export class SimEnv {
  sim!: SimWorld;
  robot!: Robot;
  task!: Task;
  touch!: TouchSensor;
  enose!: ENose;
  plume!: Plume;
  seed = 0;
  /** Control ticks since reset. */
  tick = 0;
  /** Physics steps since reset. */
  physicsSteps = 0;
  latestSmell: ENoseReading | null = null;
  /** Latest measured taxels per pad (with noise and saturation). */
  readonly latestTactile: [Float32Array, Float32Array];
  private noiseRng = new Rng(0, 1);
  private seq: Record<string, number> = {};
  private nextCameraIndex = 0;
  private readonly concentration = [0, 0];
  private failureCause: string | null = null;
  private succeeded = false;

  constructor(readonly options: SimEnvOptions) {
    const cfg = options.touch ?? DEFAULT_TOUCH;
    const n = cfg.rows * cfg.cols * 3;
    this.latestTactile = [new Float32Array(n), new Float32Array(n)];
  }

  get taskName(): TaskName {
    return this.options.task;
  }

  get timeNs(): number {
    return SIM_EPOCH_NS + this.physicsSteps * STEP_NS;
  }

  /** Builds a fresh world for `seed` and returns the first sample of each stream. */
  async reset(seed: number): Promise<Sample[]> {
    this.sim?.free();
    this.seed = seed >>> 0;
    this.sim = await SimWorld.create(this.options.physics ?? 'deterministic');
    const layout = new Rng(this.seed, 10);
    this.plume = new Plume(new Rng(this.seed, 11), [0, new Rng(this.seed, 12).uniform(0.005, 0.03)]);
    this.task = TASKS[this.options.task]({ sim: this.sim, rng: layout, plume: this.plume });
    this.robot = new Robot(this.sim, this.task.robotStart);
    if (this.task.keepOut) this.robot.keepOut.push(...this.task.keepOut);
    // The joint motors take up the robot's weight before the clock starts, so t = 0 is at rest.
    for (let i = 0; i < SETTLE_STEPS; i++) {
      this.robot.integrate(this.sim.dt);
      this.sim.step();
    }
    this.touch = new TouchSensor(this.sim, this.robot, this.options.touch ?? DEFAULT_TOUCH);
    const episode = new Rng(this.seed, 13);
    this.enose = new ENose(new Rng(7, 0), episode, this.options.enose ?? DEFAULT_ENOSE, this.options.enoseStartAgeS ?? 120, episode.uniform(30, 70), episode.uniform(20, 26));
    this.noiseRng = new Rng(this.seed, 14);
    this.seq = {};
    this.tick = 0;
    this.physicsSteps = 0;
    this.nextCameraIndex = 0;
    this.failureCause = null;
    this.succeeded = false;
    this.latestSmell = null;
    await this.options.camera?.attach(this);
    const out: Sample[] = [];
    this.emitSensors(out, true);
    await this.maybeCamera(out);
    return out;
  }

  /**
   * Applies `action` for one control tick (1/CONTROL_HZ s) and returns the samples captured meanwhile.
   * `disturbance` (m/s, base frame) is a push the world adds to the commanded twist, as DART injects
   * noise into a demonstrator's execution: the robot moves with it, the log records the command.
   */
  async step(action: SimAction, disturbance: readonly [number, number, number] | null = null): Promise<Sample[]> {
    const out: Sample[] = [];
    this.robot.command({ vx: action.linear[0], vy: action.linear[1], vz: action.linear[2], wz: action.angular[2], gripper: action.gripper });
    // The action as commanded: non-finite values zeroed, the gripper clamped to 0…1.
    const c = this.robot.cmd;
    const fin = (v: number) => (Number.isFinite(v) ? v : 0);
    this.push(out, STREAMS.action, this.timeNs, {
      linear: [c.vx, c.vy, c.vz],
      angular: [fin(action.angular[0]), fin(action.angular[1]), c.wz],
      gripper: c.gripper,
    });
    if (disturbance) this.robot.command({ vx: c.vx + disturbance[0], vy: c.vy + disturbance[1], vz: c.vz + disturbance[2], wz: c.wz, gripper: c.gripper });
    for (let i = 0; i < STEPS_PER_CONTROL; i++) {
      this.robot.integrate(this.sim.dt);
      this.sim.step();
      this.physicsSteps++;
      this.touch.update();
      this.task.afterPhysicsStep(this);
      this.emitSensors(out, false);
      await this.maybeCamera(out);
    }
    this.tick++;
    if (!this.succeeded && !this.failureCause) {
      this.failureCause = this.task.failure(this);
      if (!this.failureCause) this.succeeded = this.task.success(this);
    }
    return out;
  }

  /** True once the task's success predicate has held (success is final). */
  success(): boolean {
    return this.succeeded;
  }

  failure(): string | null {
    if (this.failureCause) return this.failureCause;
    if (!this.succeeded && this.tick >= this.task.stepLimit) return 'timeout';
    return null;
  }

  done(): boolean {
    return this.succeeded || this.failure() !== null;
  }

  info(): Record<string, unknown> {
    const tool = this.robot.toolPoint();
    return {
      task: this.taskName,
      seed: this.seed,
      step: this.tick,
      step_limit: this.task.stepLimit,
      t_ns: this.timeNs,
      success: this.succeeded,
      done: this.done(),
      failure: this.failure(),
      ee: { x: tool.x, y: tool.y, z: tool.z, yaw: this.robot.handYaw() },
      ...this.task.info(this),
    };
  }

  close(): void {
    this.options.camera?.dispose();
    this.sim?.free();
  }

  private push(out: Sample[], stream: string, t: number, data: unknown): void {
    const seq = this.seq[stream] ?? 0;
    this.seq[stream] = seq + 1;
    out.push({ stream, t_capture_ns: t, t_receive_ns: t + (LATENCY_NS[stream] ?? 0), seq, data });
  }

  private emitSensors(out: Sample[], first: boolean): void {
    const s = this.physicsSteps;
    const t = this.timeNs;
    if (first || s % TOUCH_EVERY === 0) {
      // The e-nose integrates at the same 100 Hz so its dynamics are smooth between 2 Hz readings.
      if (!first) this.advanceSmell(TOUCH_EVERY / PHYSICS_HZ);
      const cfg = this.touch.config;
      for (const pad of [0, 1] as const) {
        const forces = this.touch.read(pad, this.noiseRng, new Float32Array(cfg.rows * cfg.cols * 3));
        this.latestTactile[pad].set(forces);
        const data: TactileData = { pad: pad === 0 ? 'left' : 'right', rows: cfg.rows, cols: cfg.cols, forces };
        this.push(out, pad === 0 ? STREAMS.tactileLeft : STREAMS.tactileRight, t, data);
      }
    }
    if (first || s % PROPRIO_EVERY === 0) this.push(out, STREAMS.proprio, t, this.proprio());
    if (first || s % SMELL_EVERY === 0) {
      const reading = this.enose.read();
      this.latestSmell = reading;
      const data: SmellData = { ...reading, channels: [...reading.channels], units: [...reading.units] };
      this.push(out, STREAMS.smell, t, data);
    }
  }

  private advanceSmell(dt: number): void {
    const p = this.robot.toolPoint();
    this.plume.advance(dt);
    this.plume.sample(p.x, p.y, p.z + ROBOT.noseAboveTool, this.concentration);
    this.enose.advance(dt, this.concentration);
  }

  private async maybeCamera(out: Sample[]): Promise<void> {
    const cam = this.options.camera;
    if (!cam) return;
    // Frame k is due at k/hz s; it is captured at the first physics step at or after that time.
    const due = Math.ceil((this.nextCameraIndex * PHYSICS_HZ) / cam.hz);
    if (this.physicsSteps < due) return;
    this.nextCameraIndex++;
    for (const frame of await cam.render(this)) this.push(out, frame.stream, this.timeNs, frame.data);
  }

  /** The per-episode RNG for camera noise (seeded, so noisy frames replay too). */
  cameraNoiseRng(): Rng {
    return new Rng(this.seed, 15);
  }

  /** Tactile normal force per pad from the latest measured taxels (what an expert may feel). */
  measuredSqueeze(pad: 0 | 1): number {
    const f = this.latestTactile[pad];
    let s = 0;
    for (let k = 2; k < f.length; k += 3) s += f[k];
    return s;
  }

  private proprio(): ProprioData {
    const r = this.robot;
    const q = r.q;
    const qd = r.qd;
    const tool = r.toolPoint();
    const open = [r.fingerOpening(0), r.fingerOpening(1)];
    return {
      names: [...JOINT_NAMES],
      position: [q.baseX, q.baseY, q.baseYaw, q.lift, q.arm, q.wristYaw, open[0], open[1]],
      velocity: [qd.baseX, qd.baseY, qd.baseYaw, qd.lift, qd.arm, qd.wristYaw, r.fingerVelocity(0), r.fingerVelocity(1)],
      effort: [...ARM_JOINTS.map((j) => r.jointEffort(j)), r.fingerEffort(0), r.fingerEffort(1)],
      gripper_opening: Math.max(0, open[0] + open[1]),
      gripper_force: (this.measuredSqueeze(0) + this.measuredSqueeze(1)) / 2,
      ee_pose: { x: tool.x, y: tool.y, z: tool.z, yaw: r.handYaw() },
    };
  }
}
