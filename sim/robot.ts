// The home robot: a mobile base that translates and turns, a lift, a
// telescoping arm, a wrist yaw and a parallel gripper pointing down, with a
// tactile pad on each finger, an e-nose and a camera on the wrist.
//
// Physics model: every joint is a Rapier impulse joint driven by a
// force-limited motor, in one chain of dynamic bodies from a fixed anchor:
//   anchor ─prismatic x→ carriage x ─prismatic y→ carriage y ─revolute z→ base (+ mast)
//   base ─prismatic z→ lift carriage ─prismatic (base forward)→ arm ─revolute z→ palm
//   palm ─prismatic (hand y)→ left finger, right finger
// The base is a "virtual planar base" (as ManiSkill and Habitat model mobile
// bases): two light carriages on prismatic joints and a yaw joint stand in for
// the wheels; the base's weight rests on its wheels, so base and carriages feel
// no gravity, but their mass is what the base motors accelerate. Base, lift
// carriage and arm turn only about z (the mast and arm are rigid in tilt); the
// palm and fingers are free bodies held by their joints.
// Each physics step, integrate() resolves the commanded end-effector twist into
// joint velocities and advances per-joint setpoints inside the velocity,
// position and workspace limits; every joint's motor tracks its setpoint
// (position and velocity) with at most its force or torque (LIMITS.motors), so
// an obstacle or a load beyond that stalls the joint. `q` and `qd` are
// measured from the bodies, not the setpoints: tracking error shows in proprio.
import type { Collider, ImpulseJoint, RigidBody, Rotation, UnitImpulseJoint, Vector } from '@dimforge/rapier3d-deterministic-compat';
import { COUNTER, LIMITS, ROBOT, type MotorLimits } from './layout.ts';
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

/** The arm chain's joints, in chain order (the fingers follow on the palm). */
export const ARM_JOINTS = ['baseX', 'baseY', 'baseYaw', 'lift', 'arm', 'wristYaw'] as const satisfies readonly (keyof JointState)[];
export type ArmJoint = (typeof ARM_JOINTS)[number];

/** End-effector twist in the base frame (m/s, rad/s) plus gripper 0 open … 1 closed. */
export interface Command {
  vx: number;
  vy: number;
  vz: number;
  wz: number;
  gripper: number;
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** A region of fixed furniture the gripper may not enter: a workspace limit on the setpoints. */
export interface KeepOut {
  min: [number, number, number];
  max: [number, number, number];
}

const GRIPPER_RADIUS = 0.075;
/** Height of the base body's origin (the centre of its cylinder). */
const BASE_Z = ROBOT.baseHeight / 2;
/** The wrist joint sits this far below the arm body's origin, at the palm. */
const WRIST_DROP = ROBOT.barAboveTool - ROBOT.palmAboveTool;
const ARM_HALF = 0.45;
/** The lift carriage holds the arm's outer sleeve: a link this long (half, m) along the arm. */
const CARRIAGE_HALF = 0.3;
/** Mass of each virtual base carriage (kg): with the turning base (ROBOT.baseMass) they make the 20 kg mobile base. */
const VIRTUAL_CARRIAGE_MASS = 5;

type MotorJoint = UnitImpulseJoint & ImpulseJoint;

const zeroState = (): JointState => ({ baseX: 0, baseY: 0, baseYaw: 0, lift: 0, arm: 0, wristYaw: 0 });

/** v rotated by the inverse of unit quaternion r (world → body frame). */
function rotateInv(r: Rotation, x: number, y: number, z: number, out: Vector): Vector {
  // q* v q with q* = (−x, −y, −z, w).
  const qx = -r.x, qy = -r.y, qz = -r.z, qw = r.w;
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out.x = x + qw * tx + (qy * tz - qz * ty);
  out.y = y + qw * ty + (qz * tx - qx * tz);
  out.z = z + qw * tz + (qx * ty - qy * tx);
  return out;
}

/** Rotation angle about z of a ⁻¹·b (both near-z rotations), in (−π, π]. */
function relativeYaw(a: Rotation, b: Rotation): number {
  // z and w of conj(a) · b.
  const z = a.w * b.z - a.z * b.w - a.x * b.y + a.y * b.x;
  const w = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
  return wrap(2 * Math.atan2(z, w));
}

const yawQuat = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });

/** The tool point (centre between the pads) of a joint state: the arm's forward kinematics. */
function toolOf(q: Readonly<JointState>, out: { x: number; y: number; z: number }): { x: number; y: number; z: number } {
  const r = ROBOT.armRoot + q.arm;
  out.x = q.baseX + Math.cos(q.baseYaw) * r;
  out.y = q.baseY + Math.sin(q.baseYaw) * r;
  out.z = q.lift;
  return out;
}

export class Robot {
  /** Fixed furniture the gripper stops at; tasks add theirs. */
  readonly keepOut: KeepOut[] = [];
  readonly cmd: Command = { vx: 0, vy: 0, vz: 0, wz: 0, gripper: 0 };
  readonly palm: RigidBody;
  readonly fingers: [RigidBody, RigidBody];
  readonly pads: [Collider, Collider];
  /** The arm chain's joints by name, each an impulse joint with a motor and (prismatic ones) limits. */
  readonly armJoints: Record<ArmJoint, MotorJoint>;
  /** The chain's bodies from the base carriages to the arm (the palm and fingers are above). */
  readonly links: { carriageX: RigidBody; carriageY: RigidBody; base: RigidBody; carriage: RigidBody; arm: RigidBody };
  /** The setpoints the joint motors track (what the old kinematic arm would have been at). */
  readonly setpoint: JointState;
  /** The setpoints' velocities in the last physics step (the motors' target velocities). */
  readonly setpointVel: JointState = zeroState();
  private readonly measured: JointState = zeroState();
  private readonly measuredVel: JointState = zeroState();
  private measuredAt = -1;
  private readonly joints: [MotorJoint, MotorJoint];
  private gripperTarget: number = ROBOT.fingerOpenMax;
  private readonly scratchV = { x: 0, y: 0, z: 0 };
  private readonly scratchR = { x: 0, y: 0, z: 0 };
  private readonly scratchQ: JointState = zeroState();

  constructor(
    private readonly sim: SimWorld,
    start: JointState,
  ) {
    const R = sim.R;
    const world = sim.world;
    const zero = { x: 0, y: 0, z: 0 };
    this.setpoint = { ...start };
    const q = start;
    const cy = Math.cos(q.baseYaw);
    const sy = Math.sin(q.baseYaw);
    const r0 = ROBOT.armRoot + q.arm;
    const hy = q.baseYaw + q.wristYaw;
    const tool = { x: q.baseX + cy * r0, y: q.baseY + sy * r0, z: q.lift };

    /** A dynamic link with no collider and the given mass and box inertia (half extents), awake for good. */
    const link = (at: Vector, yaw: number, mass: number, half: [number, number, number], opts: { com?: Vector; turns?: boolean; gravity?: number } = {}) => {
      const [a, b, c] = half;
      const inertia = { x: (mass * (b * b + c * c)) / 3, y: (mass * (a * a + c * c)) / 3, z: (mass * (a * a + b * b)) / 3 };
      const turns = opts.turns ?? true;
      return world.createRigidBody(
        R.RigidBodyDesc.dynamic()
          .setTranslation(at.x, at.y, at.z)
          .setRotation(yawQuat(yaw))
          .setAdditionalMassProperties(mass, opts.com ?? zero, inertia, { x: 0, y: 0, z: 0, w: 1 })
          .enabledRotations(false, false, turns)
          .setGravityScale(opts.gravity ?? 1)
          .setCanSleep(false),
      );
    };
    const motorize = (j: ImpulseJoint, m: MotorLimits, target: number, limits?: [number, number]): MotorJoint => {
      const joint = j as MotorJoint;
      if (limits) joint.setLimits(limits[0], limits[1]);
      joint.configureMotorModel(R.MotorModel.ForceBased);
      joint.setMotorMaxForce(m.maxForce);
      joint.configureMotor(target, 0, m.stiffness, m.damping);
      return joint;
    };
    const prismatic = (a1: Vector, axis: Vector) => R.JointData.prismatic(a1, zero, axis);
    const M = LIMITS.motors;

    // The virtual planar base: anchor → x carriage → y carriage → base (yaw).
    const anchor = world.createRigidBody(R.RigidBodyDesc.fixed());
    const carriageX = link({ x: q.baseX, y: 0, z: BASE_Z }, 0, VIRTUAL_CARRIAGE_MASS, [0.05, 0.05, 0.05], { turns: false, gravity: 0 });
    const carriageY = link({ x: q.baseX, y: q.baseY, z: BASE_Z }, 0, VIRTUAL_CARRIAGE_MASS, [0.05, 0.05, 0.05], { turns: false, gravity: 0 });
    // The base with its mast (the mast's mass is in it).
    const base = link({ x: q.baseX, y: q.baseY, z: BASE_Z }, q.baseYaw, ROBOT.baseMass, [ROBOT.baseRadius, ROBOT.baseRadius, BASE_Z], { gravity: 0 });
    sim.register('robot-base', base, { kind: 'cylinder', radius: ROBOT.baseRadius, halfHeight: BASE_Z, color: 0x2b2d31 });
    sim.register('robot-mast', base, { kind: 'box', half: [0.025, 0.025, 0.75], color: 0x3c3f45 }, [0, 0, 0.75 - BASE_Z]);
    const barZ = q.lift + ROBOT.barAboveTool;
    const carriage = link({ x: q.baseX, y: q.baseY, z: barZ }, q.baseYaw, ROBOT.carriageMass, [CARRIAGE_HALF, 0.05, 0.05]);
    // The arm body's origin is at its tip (above the tool point); its mass is spread along the bar behind it.
    const arm = link({ x: tool.x, y: tool.y, z: barZ }, q.baseYaw, ROBOT.armMass, [ARM_HALF, 0.02, 0.02], { com: { x: -ARM_HALF, y: 0, z: 0 } });
    sim.register('robot-arm', arm, { kind: 'box', half: [ARM_HALF, 0.02, 0.02], color: 0x8d9199 }, [-ARM_HALF, 0, 0]);

    const ph = ROBOT.palmHalf;
    this.palm = world.createRigidBody(
      R.RigidBodyDesc.dynamic()
        .setTranslation(tool.x, tool.y, tool.z + ROBOT.palmAboveTool)
        .setRotation(yawQuat(hy))
        .setCanSleep(false),
    );
    world.createCollider(R.ColliderDesc.cuboid(ph.x, ph.y, ph.z).setCollisionGroups(GROUP_ROBOT).setMass(ROBOT.palmMass), this.palm);
    sim.register('robot-palm', this.palm, { kind: 'box', half: [ph.x, ph.y, ph.z], color: 0x1f2124 });
    this.links = { carriageX, carriageY, base, carriage, arm };

    const L = LIMITS;
    const jx = world.createImpulseJoint(prismatic({ x: 0, y: 0, z: BASE_Z }, { x: 1, y: 0, z: 0 }), anchor, carriageX, true);
    const jy = world.createImpulseJoint(prismatic(zero, { x: 0, y: 1, z: 0 }), carriageX, carriageY, true);
    const jyaw = world.createImpulseJoint(R.JointData.revolute(zero, zero, { x: 0, y: 0, z: 1 }), carriageY, base, true);
    const jlift = world.createImpulseJoint(prismatic({ x: 0, y: 0, z: ROBOT.barAboveTool - BASE_Z }, { x: 0, y: 0, z: 1 }), base, carriage, true);
    const jarm = world.createImpulseJoint(prismatic({ x: ROBOT.armRoot, y: 0, z: 0 }, { x: 1, y: 0, z: 0 }), carriage, arm, true);
    const jwrist = world.createImpulseJoint(R.JointData.revolute({ x: 0, y: 0, z: -WRIST_DROP }, zero, { x: 0, y: 0, z: 1 }), arm, this.palm, true);
    this.armJoints = {
      baseX: motorize(jx, M.baseX, q.baseX, [L.baseX.min, L.baseX.max]),
      baseY: motorize(jy, M.baseY, q.baseY, [L.baseY.min, L.baseY.max]),
      baseYaw: motorize(jyaw, M.baseYaw, wrap(q.baseYaw)),
      lift: motorize(jlift, M.lift, q.lift, [L.lift.min, L.lift.max]),
      arm: motorize(jarm, M.arm, q.arm, [L.arm.min, L.arm.max]),
      wristYaw: motorize(jwrist, M.wristYaw, q.wristYaw, [L.wristYaw.min, L.wristYaw.max]),
    };

    const f = ROBOT.fingerHalf;
    const makeFinger = (side: 1 | -1, name: string): [RigidBody, Collider, MotorJoint] => {
      const s = side * (f.y + this.gripperTarget);
      const body = world.createRigidBody(
        R.RigidBodyDesc.dynamic()
          .setTranslation(tool.x - Math.sin(hy) * s, tool.y + Math.cos(hy) * s, tool.z)
          .setRotation(yawQuat(hy))
          .setLinearDamping(2)
          .setAngularDamping(2)
          .setCanSleep(false),
      );
      const collider = world.createCollider(
        R.ColliderDesc.cuboid(f.x, f.y, f.z).setCollisionGroups(GROUP_ROBOT).setFriction(1.0).setMass(ROBOT.fingerMass),
        body,
      );
      const data = R.JointData.prismatic({ x: 0, y: 0, z: -ROBOT.palmAboveTool }, zero, { x: 0, y: side, z: 0 });
      const joint = world.createImpulseJoint(data, this.palm, body, true) as MotorJoint;
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
    Object.assign(this.measured, start);
    this.measuredAt = sim.steps;
  }

  /** Joint positions measured from the bodies (the base's yaw unwrapped, not limited to ±π). Read-only. */
  get q(): Readonly<JointState> {
    if (this.measuredAt !== this.sim.steps) this.measure();
    return this.measured;
  }

  /** Joint velocities measured from the bodies (change of `q` since the previous physics step). Read-only. */
  get qd(): Readonly<JointState> {
    if (this.measuredAt !== this.sim.steps) this.measure();
    return this.measuredVel;
  }

  /** Tool point (centre between the pads) from the measured joint state. */
  toolPoint(out = { x: 0, y: 0, z: 0 }): { x: number; y: number; z: number } {
    return toolOf(this.q, out);
  }

  handYaw(): number {
    const q = this.q;
    return q.baseYaw + q.wristYaw;
  }

  /** Sets the command for the coming control period. */
  command(c: Command): void {
    const finite = (v: number) => (Number.isFinite(v) ? v : 0);
    this.cmd.vx = finite(c.vx);
    this.cmd.vy = finite(c.vy);
    this.cmd.vz = finite(c.vz);
    this.cmd.wz = finite(c.wz);
    this.cmd.gripper = clamp(finite(c.gripper), 0, 1);
    this.gripperTarget = ROBOT.fingerOpenMax * (1 - this.cmd.gripper);
    const f = ROBOT.fingerHalf;
    for (const j of this.joints) j.configureMotorPosition(f.y + this.gripperTarget, LIMITS.gripperStiffness, LIMITS.gripperDamping);
  }

  /**
   * The setpoint generator, once per physics step before it: resolves the commanded twist into joint
   * velocities, advances the setpoints inside the velocity, position and workspace limits (and within
   * a tracking window of the measured joints), and hands them to the joint motors.
   */
  integrate(dt: number): void {
    const s = this.setpoint;
    const m = this.q;
    const c = this.cmd;
    const L = LIMITS;
    const r = ROBOT.armRoot + s.arm;
    // Lateral tool motion comes from turning the base; forward motion from the arm first, the base for the rest.
    const yawRate = clamp(c.vy / r, -L.baseYawRate, L.baseYawRate);
    let armV = clamp(c.vx, -L.arm.v, L.arm.v);
    if ((s.arm >= L.arm.max && armV > 0) || (s.arm <= L.arm.min && armV < 0)) armV = 0;
    const baseFwd = clamp(c.vx - armV, -L.baseV, L.baseV);
    const liftV = clamp(c.vz, -L.lift.v, L.lift.v);
    const wristV = clamp(c.wz - yawRate, -L.wristYaw.v, L.wristYaw.v);

    const px = s.baseX, py = s.baseY, pyaw = s.baseYaw, parm = s.arm, pw = s.wristYaw, pl = s.lift;
    // A setpoint stops advancing once it is a tracking window ahead of its measured joint (a stalled joint).
    const W = L.trackingWindow;
    const advance = (sp: number, v: number, at: number) => {
      const next = sp + v * dt;
      return (v > 0 && next - at > W) || (v < 0 && next - at < -W) ? sp : next;
    };
    s.baseYaw = advance(s.baseYaw, yawRate, m.baseYaw);
    s.baseX = clamp(advance(s.baseX, Math.cos(s.baseYaw) * baseFwd, m.baseX), L.baseX.min, L.baseX.max);
    s.baseY = clamp(advance(s.baseY, Math.sin(s.baseYaw) * baseFwd, m.baseY), L.baseY.min, L.baseY.max);
    s.arm = clamp(advance(s.arm, armV, m.arm), L.arm.min, L.arm.max);
    s.wristYaw = clamp(advance(s.wristYaw, wristV, m.wristYaw), L.wristYaw.min, L.wristYaw.max);
    s.lift = clamp(advance(s.lift, liftV, m.lift), this.minLift(), L.lift.max);
    if (this.blocked()) {
      // Stop at fixed furniture: this step's motion is undone.
      s.baseX = px;
      s.baseY = py;
      s.baseYaw = pyaw;
      s.arm = parm;
      s.wristYaw = pw;
      s.lift = pl;
    }
    const v = this.setpointVel;
    v.baseX = (s.baseX - px) / dt;
    v.baseY = (s.baseY - py) / dt;
    v.baseYaw = (s.baseYaw - pyaw) / dt;
    v.arm = (s.arm - parm) / dt;
    v.wristYaw = (s.wristYaw - pw) / dt;
    v.lift = (s.lift - pl) / dt;
    this.driveMotors();
  }

  private driveMotors(): void {
    const s = this.setpoint;
    const v = this.setpointVel;
    const M = LIMITS.motors;
    for (const name of ARM_JOINTS) {
      const target = name === 'baseYaw' ? wrap(s.baseYaw) : s[name];
      this.armJoints[name].configureMotor(target, v[name], M[name].stiffness, M[name].damping);
    }
  }

  /**
   * Reads the joint positions off the bodies (each joint's coordinate: the child's pose in its
   * parent's frame) and the velocities as their change since the last reading, as an encoder would.
   */
  private measure(): void {
    const { base, carriage, arm } = this.links;
    const q = this.measured;
    const qd = this.measuredVel;
    const elapsed = (this.sim.steps - this.measuredAt) * this.sim.dt;
    const prev = this.scratchQ;
    Object.assign(prev, q);
    const pb = base.translation();
    const rb = base.rotation();
    // The yaw joints are unwrapped from the last reading (continuous, like the setpoints).
    q.baseYaw += wrap(2 * Math.atan2(rb.z, rb.w) - q.baseYaw);
    q.baseX = pb.x;
    q.baseY = pb.y;
    const pc = carriage.translation();
    q.lift = rotateInv(rb, pc.x - pb.x, pc.y - pb.y, pc.z - pb.z, this.scratchR).z + BASE_Z - ROBOT.barAboveTool;
    const rc = carriage.rotation();
    const pa = arm.translation();
    q.arm = rotateInv(rc, pa.x - pc.x, pa.y - pc.y, pa.z - pc.z, this.scratchR).x - ROBOT.armRoot;
    q.wristYaw += wrap(relativeYaw(arm.rotation(), this.palm.rotation()) - q.wristYaw);
    if (elapsed > 0) for (const k of ARM_JOINTS) qd[k] = (q[k] - prev[k]) / elapsed;
    this.measuredAt = this.sim.steps;
  }

  private blocked(): boolean {
    if (this.keepOut.length === 0) return false;
    const t = this.setpointTool(this.scratchV);
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

  private setpointTool(out: Vector): Vector {
    return toolOf(this.setpoint, out);
  }

  /** The fingertips may not enter the counter: a workspace limit on the lift setpoint over its footprint. */
  private minLift(): number {
    const t = this.setpointTool(this.scratchV);
    const margin = ROBOT.palmHalf.y;
    const over = t.x > COUNTER.xMin - margin && t.x < COUNTER.xMax + margin && t.y > COUNTER.yMin - margin && t.y < COUNTER.yMax + margin;
    const floor = over ? COUNTER.top + ROBOT.fingerHalf.z + LIMITS.counterClearance : LIMITS.lift.min;
    return Math.max(LIMITS.lift.min, floor);
  }

  /**
   * Puts the robot at joint state `q` at once, without stepping physics: for viewers that
   * mirror a remote robot from its joint states (the web app). Every body is placed, velocities
   * are zeroed and the motors hold the new pose. `fingerOpening` is per finger (pad face to the
   * centre line, m), as proprio reports it; without it the fingers keep their opening.
   */
  teleport(q: Partial<JointState>, fingerOpening?: [number, number]): void {
    const open: [number, number] = fingerOpening ?? [this.fingerOpening(0), this.fingerOpening(1)];
    const next = { ...this.q, ...q };
    const { carriageX, carriageY, base, carriage, arm } = this.links;
    const cy = Math.cos(next.baseYaw);
    const sy = Math.sin(next.baseYaw);
    const r = ROBOT.armRoot + next.arm;
    const barZ = next.lift + ROBOT.barAboveTool;
    const h = next.baseYaw + next.wristYaw;
    const tool = { x: next.baseX + cy * r, y: next.baseY + sy * r, z: next.lift };
    const place = (body: RigidBody, x: number, y: number, z: number, yaw: number) => {
      body.setTranslation({ x, y, z }, true);
      body.setRotation(yawQuat(yaw), true);
      body.setLinvel({ x: 0, y: 0, z: 0 }, true);
      body.setAngvel({ x: 0, y: 0, z: 0 }, true);
    };
    place(carriageX, next.baseX, 0, BASE_Z, 0);
    place(carriageY, next.baseX, next.baseY, BASE_Z, 0);
    place(base, next.baseX, next.baseY, BASE_Z, next.baseYaw);
    place(carriage, next.baseX, next.baseY, barZ, next.baseYaw);
    place(arm, tool.x, tool.y, barZ, next.baseYaw);
    place(this.palm, tool.x, tool.y, tool.z + ROBOT.palmAboveTool, h);
    for (const i of [0, 1] as const) {
      const s = (i === 0 ? 1 : -1) * (ROBOT.fingerHalf.y + Math.max(0, open[i]));
      place(this.fingers[i], tool.x - Math.sin(h) * s, tool.y + Math.cos(h) * s, tool.z, h);
    }
    Object.assign(this.setpoint, next);
    Object.assign(this.setpointVel, zeroState());
    Object.assign(this.measured, next);
    Object.assign(this.measuredVel, zeroState());
    this.measuredAt = this.sim.steps;
    this.driveMotors();
  }

  /** Per-finger opening (pad face to the centre line), measured from the bodies. */
  fingerOpening(i: 0 | 1): number {
    const p = this.fingers[i].translation();
    const t = this.palm.translation();
    const h = this.handYaw();
    const along = -(p.x - t.x) * Math.sin(h) + (p.y - t.y) * Math.cos(h);
    return (i === 0 ? along : -along) - ROBOT.fingerHalf.y;
  }

  /** Per-finger opening rate (m/s, positive opening): the finger's velocity relative to the palm. */
  fingerVelocity(i: 0 | 1): number {
    const f = this.fingers[i];
    const v = f.linvel();
    const pf = f.translation();
    const vp = this.palm.linvel();
    const pp = this.palm.translation();
    const w = this.palm.angvel();
    const dx = pf.x - pp.x, dy = pf.y - pp.y, dz = pf.z - pp.z;
    const rx = v.x - vp.x - (w.y * dz - w.z * dy);
    const ry = v.y - vp.y - (w.z * dx - w.x * dz);
    const h = this.handYaw();
    const along = -rx * Math.sin(h) + ry * Math.cos(h);
    return i === 0 ? along : -along;
  }

  /**
   * The arm-chain motor's force (N) or torque (N·m) estimate from its law, the measured joint and the
   * setpoint, within its limit: it sits at the limit when the joint is stalled.
   */
  jointEffort(name: ArmJoint): number {
    const m = LIMITS.motors[name];
    const q = this.q;
    const qd = this.qd;
    const e = name === 'baseYaw' ? this.setpoint.baseYaw - q.baseYaw : this.setpoint[name] - q[name];
    return clamp(m.stiffness * e + m.damping * (this.setpointVel[name] - qd[name]), -m.maxForce, m.maxForce);
  }

  /** The finger motor's force estimate (N, positive closing), within its limit. */
  fingerEffort(i: 0 | 1): number {
    const f = LIMITS.gripperStiffness * (this.fingerOpening(i) - this.gripperTarget) + LIMITS.gripperDamping * this.fingerVelocity(i);
    return clamp(f, -LIMITS.gripperForce, LIMITS.gripperForce);
  }
}
