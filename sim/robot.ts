// The home robot: a differential-drive base that translates and turns, a lift,
// a telescoping arm, a wrist yaw and a parallel gripper pointing down, with a
// tactile pad on each finger, an e-nose and a camera on the wrist.
//
// Physics model (the simplest honest one that makes touch matter): the base,
// lift, arm and wrist are position-controlled and move the palm as a
// kinematic body, integrating commanded joint velocities within their
// position and velocity limits. The two fingers are dynamic bodies on
// prismatic impulse joints with force-limited position motors, so the squeeze
// on an object is a real contact force, bounded by the motor's force limit.
import type { ImpulseJoint, RigidBody, Collider } from '@dimforge/rapier3d-deterministic-compat';
import { COUNTER, LIMITS, ROBOT } from './layout.ts';
import { GROUP_ROBOT, type SimWorld } from './world.ts';

export const JOINT_NAMES = ['base_x', 'base_y', 'base_yaw', 'lift', 'arm', 'wrist_yaw', 'finger_left', 'finger_right'] as const;

export interface JointState {
  baseX: number;
  baseY: number;
  baseYaw: number;
  /** Height of the tool point (centre of the finger pads) above the floor. */
  lift: number;
  /** Telescoping arm extension. */
  arm: number;
  wristYaw: number;
}

/** End-effector twist in the base frame (m/s, rad/s) plus gripper 0 open … 1 closed. */
export interface Command {
  vx: number;
  vy: number;
  vz: number;
  wz: number;
  gripper: number;
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** A region of fixed furniture the gripper may not enter (the arm is kinematic, so this is its collision stop). */
export interface KeepOut {
  min: [number, number, number];
  max: [number, number, number];
}

const GRIPPER_RADIUS = 0.075;

export class Robot {
  /** Fixed furniture the gripper stops at; tasks add theirs. */
  readonly keepOut: KeepOut[] = [];
  readonly q: JointState;
  /** Joint velocities actually applied in the last physics step. */
  readonly qd: JointState = { baseX: 0, baseY: 0, baseYaw: 0, lift: 0, arm: 0, wristYaw: 0 };
  readonly cmd: Command = { vx: 0, vy: 0, vz: 0, wz: 0, gripper: 0 };
  readonly palm: RigidBody;
  readonly fingers: [RigidBody, RigidBody];
  readonly pads: [Collider, Collider];
  private readonly joints: [ImpulseJoint, ImpulseJoint];
  private readonly base: RigidBody;
  private readonly mast: RigidBody;
  private readonly armBar: RigidBody;
  private gripperTarget: number = ROBOT.fingerOpenMax;
  // Base-frame joint velocity split, recomputed once per control tick.
  private baseFwd = 0;
  private readonly scratchV = { x: 0, y: 0, z: 0 };
  private readonly scratchQ = { x: 0, y: 0, z: 0, w: 1 };

  constructor(
    private readonly sim: SimWorld,
    start: JointState,
  ) {
    const R = sim.R;
    this.q = { ...start };
    this.base = sim.kinematicVisual('robot-base', { kind: 'cylinder', radius: ROBOT.baseRadius, halfHeight: ROBOT.baseHeight / 2, color: 0x2b2d31 });
    this.mast = sim.kinematicVisual('robot-mast', { kind: 'box', half: [0.025, 0.025, 0.75], color: 0x3c3f45 });
    this.armBar = sim.kinematicVisual('robot-arm', { kind: 'box', half: [0.45, 0.02, 0.02], color: 0x8d9199 });

    const tool = this.toolPoint();
    const hy = this.q.baseYaw + this.q.wristYaw;
    const ph = ROBOT.palmHalf;
    this.palm = sim.world.createRigidBody(
      R.RigidBodyDesc.kinematicPositionBased()
        .setTranslation(tool.x, tool.y, tool.z + ROBOT.palmAboveTool)
        .setRotation({ x: 0, y: 0, z: Math.sin(hy / 2), w: Math.cos(hy / 2) }),
    );
    sim.world.createCollider(R.ColliderDesc.cuboid(ph.x, ph.y, ph.z).setCollisionGroups(GROUP_ROBOT), this.palm);
    sim.register('robot-palm', this.palm, { kind: 'box', half: [ph.x, ph.y, ph.z], color: 0x1f2124 });

    const f = ROBOT.fingerHalf;
    const makeFinger = (side: 1 | -1, name: string): [RigidBody, Collider, ImpulseJoint] => {
      const s = side * (f.y + this.gripperTarget);
      const body = sim.world.createRigidBody(
        R.RigidBodyDesc.dynamic()
          .setTranslation(tool.x - Math.sin(hy) * s, tool.y + Math.cos(hy) * s, tool.z)
          .setRotation({ x: 0, y: 0, z: Math.sin(hy / 2), w: Math.cos(hy / 2) })
          .setLinearDamping(2)
          .setAngularDamping(2),
      );
      const collider = sim.world.createCollider(
        R.ColliderDesc.cuboid(f.x, f.y, f.z).setCollisionGroups(GROUP_ROBOT).setFriction(1.0).setMass(ROBOT.fingerMass),
        body,
      );
      const data = R.JointData.prismatic({ x: 0, y: 0, z: -ROBOT.palmAboveTool }, { x: 0, y: 0, z: 0 }, { x: 0, y: side, z: 0 });
      data.limitsEnabled = true;
      data.limits = [f.y, f.y + ROBOT.fingerOpenMax];
      const joint = sim.world.createImpulseJoint(data, this.palm, body, true) as ImpulseJoint & {
        configureMotorModel(m: number): void;
        setMotorMaxForce(f: number): void;
        configureMotorPosition(t: number, k: number, c: number): void;
        setLimits(a: number, b: number): void;
      };
      joint.setLimits(f.y, f.y + ROBOT.fingerOpenMax);
      joint.configureMotorModel(R.MotorModel.ForceBased);
      joint.setMotorMaxForce(LIMITS.gripperForce);
      joint.configureMotorPosition(f.y + this.gripperTarget, LIMITS.gripperStiffness, LIMITS.gripperDamping);
      sim.register(name, body, { kind: 'box', half: [f.x, f.y, f.z], color: 0xc9ccd1 });
      return [body, collider, joint];
    };
    const left = makeFinger(1, 'robot-finger-left');
    const right = makeFinger(-1, 'robot-finger-right');
    this.fingers = [left[0], right[0]];
    this.pads = [left[1], right[1]];
    this.joints = [left[2], right[2]];
    this.placeVisuals(false);
  }

  /** Tool point (centre between the pads) from the joint state. */
  toolPoint(out = { x: 0, y: 0, z: 0 }): { x: number; y: number; z: number } {
    const r = ROBOT.armRoot + this.q.arm;
    out.x = this.q.baseX + Math.cos(this.q.baseYaw) * r;
    out.y = this.q.baseY + Math.sin(this.q.baseYaw) * r;
    out.z = this.q.lift;
    return out;
  }

  handYaw(): number {
    return this.q.baseYaw + this.q.wristYaw;
  }

  /** Sets the command for the coming control period; resolves the twist into joint velocities. */
  command(c: Command): void {
    const finite = (v: number) => (Number.isFinite(v) ? v : 0);
    this.cmd.vx = finite(c.vx);
    this.cmd.vy = finite(c.vy);
    this.cmd.vz = finite(c.vz);
    this.cmd.wz = finite(c.wz);
    this.cmd.gripper = clamp(finite(c.gripper), 0, 1);
    this.gripperTarget = ROBOT.fingerOpenMax * (1 - this.cmd.gripper);
    const f = ROBOT.fingerHalf;
    for (const j of this.joints) {
      (j as unknown as { configureMotorPosition(t: number, k: number, c: number): void }).configureMotorPosition(
        f.y + this.gripperTarget,
        LIMITS.gripperStiffness,
        LIMITS.gripperDamping,
      );
    }
  }

  /** Advances the kinematic joints by one physics step, inside their limits. */
  integrate(dt: number): void {
    const q = this.q;
    const c = this.cmd;
    const r = ROBOT.armRoot + q.arm;
    // Lateral tool motion comes from turning the base; forward motion from the arm first, the base for the rest.
    const yawRate = clamp(c.vy / r, -LIMITS.baseYawRate, LIMITS.baseYawRate);
    let armV = clamp(c.vx, -LIMITS.arm.v, LIMITS.arm.v);
    if ((q.arm >= LIMITS.arm.max && armV > 0) || (q.arm <= LIMITS.arm.min && armV < 0)) armV = 0;
    this.baseFwd = clamp(c.vx - armV, -LIMITS.baseV, LIMITS.baseV);
    const liftV = clamp(c.vz, -LIMITS.lift.v, LIMITS.lift.v);
    const wristV = clamp(c.wz - yawRate, -LIMITS.wristYaw.v, LIMITS.wristYaw.v);

    const px = q.baseX, py = q.baseY, pyaw = q.baseYaw, parm = q.arm, pw = q.wristYaw, pl = q.lift;
    q.baseYaw += yawRate * dt;
    q.baseX = clamp(q.baseX + Math.cos(q.baseYaw) * this.baseFwd * dt, LIMITS.baseX.min, LIMITS.baseX.max);
    q.baseY = clamp(q.baseY + Math.sin(q.baseYaw) * this.baseFwd * dt, LIMITS.baseY.min, LIMITS.baseY.max);
    q.arm = clamp(q.arm + armV * dt, LIMITS.arm.min, LIMITS.arm.max);
    q.wristYaw = clamp(q.wristYaw + wristV * dt, LIMITS.wristYaw.min, LIMITS.wristYaw.max);
    q.lift = clamp(q.lift + liftV * dt, this.minLift(), LIMITS.lift.max);
    if (this.blocked()) {
      // Stop on contact with fixed furniture: this step's motion is undone.
      q.baseX = px;
      q.baseY = py;
      q.baseYaw = pyaw;
      q.arm = parm;
      q.wristYaw = pw;
      q.lift = pl;
    }
    this.qd.baseX = (q.baseX - px) / dt;
    this.qd.baseY = (q.baseY - py) / dt;
    this.qd.baseYaw = (q.baseYaw - pyaw) / dt;
    this.qd.arm = (q.arm - parm) / dt;
    this.qd.wristYaw = (q.wristYaw - pw) / dt;
    this.qd.lift = (q.lift - pl) / dt;
    this.placeVisuals(true);
  }

  private blocked(): boolean {
    if (this.keepOut.length === 0) return false;
    const t = this.toolPoint(this.scratchV);
    const r = GRIPPER_RADIUS;
    for (const b of this.keepOut) {
      // The gripper spans from the fingertips to above the palm: a vertical capsule around the tool point.
      if (
        t.x > b.min[0] - r && t.x < b.max[0] + r &&
        t.y > b.min[1] - r && t.y < b.max[1] + r &&
        t.z + ROBOT.palmAboveTool + ROBOT.palmHalf.z > b.min[2] && t.z - ROBOT.fingerHalf.z < b.max[2]
      ) return true;
    }
    return false;
  }

  /** The fingertips may not enter the counter: a workspace limit on the lift over its footprint. */
  private minLift(): number {
    const t = this.toolPoint(this.scratchV);
    const margin = ROBOT.palmHalf.y;
    const over = t.x > COUNTER.xMin - margin && t.x < COUNTER.xMax + margin && t.y > COUNTER.yMin - margin && t.y < COUNTER.yMax + margin;
    const floor = over ? COUNTER.top + ROBOT.fingerHalf.z + LIMITS.counterClearance : LIMITS.lift.min;
    return Math.max(LIMITS.lift.min, floor);
  }

  private placeVisuals(next: boolean): void {
    const q = this.q;
    const cy = Math.cos(q.baseYaw);
    const sy = Math.sin(q.baseYaw);
    const set = (body: RigidBody, x: number, y: number, z: number, yaw: number) => {
      const v = this.scratchV;
      v.x = x;
      v.y = y;
      v.z = z;
      const r = this.scratchQ;
      r.z = Math.sin(yaw / 2);
      r.w = Math.cos(yaw / 2);
      if (next) {
        body.setNextKinematicTranslation(v);
        body.setNextKinematicRotation(r);
      } else {
        body.setTranslation(v, true);
        body.setRotation(r, true);
      }
    };
    set(this.base, q.baseX, q.baseY, ROBOT.baseHeight / 2, q.baseYaw);
    set(this.mast, q.baseX, q.baseY, 0.75, q.baseYaw);
    const r = ROBOT.armRoot + q.arm;
    const barZ = q.lift + ROBOT.palmAboveTool + 0.03;
    set(this.armBar, q.baseX + cy * (r - 0.45), q.baseY + sy * (r - 0.45), barZ, q.baseYaw);
    set(this.palm, q.baseX + cy * r, q.baseY + sy * r, q.lift + ROBOT.palmAboveTool, q.baseYaw + q.wristYaw);
  }

  /**
   * Puts the robot at joint state `q` at once, without stepping physics: for viewers that
   * mirror a remote robot from its joint states (the web app). `fingerOpening` is per finger
   * (pad face to the centre line, m), as proprio reports it.
   */
  teleport(q: Partial<JointState>, fingerOpening?: [number, number]): void {
    Object.assign(this.q, q);
    this.placeVisuals(false);
    if (!fingerOpening) return;
    const t = this.toolPoint({ x: 0, y: 0, z: 0 });
    const h = this.handYaw();
    const rot = { x: 0, y: 0, z: Math.sin(h / 2), w: Math.cos(h / 2) };
    for (const i of [0, 1] as const) {
      const s = (i === 0 ? 1 : -1) * (ROBOT.fingerHalf.y + Math.max(0, fingerOpening[i]));
      this.fingers[i].setTranslation({ x: t.x - Math.sin(h) * s, y: t.y + Math.cos(h) * s, z: t.z }, true);
      this.fingers[i].setRotation(rot, true);
    }
  }

  /** Per-finger opening (pad face to the centre line), measured from the bodies. */
  fingerOpening(i: 0 | 1): number {
    const p = this.fingers[i].translation();
    const t = this.toolPoint(this.scratchV);
    const h = this.handYaw();
    const along = -(p.x - t.x) * Math.sin(h) + (p.y - t.y) * Math.cos(h);
    return (i === 0 ? along : -along) - ROBOT.fingerHalf.y;
  }

  fingerVelocity(i: 0 | 1): number {
    const v = this.fingers[i].linvel();
    const h = this.handYaw();
    const along = -v.x * Math.sin(h) + v.y * Math.cos(h);
    return i === 0 ? along : -along;
  }

  /** The finger motor's force estimate (N, positive closing), within its limit. */
  fingerEffort(i: 0 | 1): number {
    const f = LIMITS.gripperStiffness * (this.fingerOpening(i) - this.gripperTarget) + LIMITS.gripperDamping * this.fingerVelocity(i);
    return clamp(f, -LIMITS.gripperForce, LIMITS.gripperForce);
  }
}
