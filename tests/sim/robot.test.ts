// The robot is a chain of dynamic bodies on motorized impulse joints: these tests fail if any part
// of it became kinematic (set by code) again. They check the chain's structure, that the measured
// tool point tracks a commanded twist (free and carrying 0.35 kg), that joints stop at their
// position limits, and that a joint's force limit holds: pushing on an obstacle or lifting a load
// beyond it stalls or sags the joint instead of moving as commanded, and proprio shows it.
import type { Collider, RigidBody } from '@dimforge/rapier3d-deterministic-compat';
import { afterEach, describe, expect, it } from 'vitest';
import { COUNTER, LIMITS, ROBOT } from '../../sim/layout.ts';
import { ARM_JOINTS, Robot, type Command, type JointState } from '../../sim/robot.ts';
import { SimWorld } from '../../sim/world.ts';
import { SimEnv, makeDriver } from '../../sim/index.ts';

const START: JointState = { baseX: 0, baseY: 0, baseYaw: 0, lift: 1.3, arm: 0.3, wristYaw: 0 };
const STEPS_PER_TICK = 5;

let sims: SimWorld[] = [];
afterEach(() => {
  for (const s of sims) s.free();
  sims = [];
});

async function build(start: JointState = START): Promise<{ sim: SimWorld; robot: Robot }> {
  const sim = await SimWorld.create();
  sims.push(sim);
  return { sim, robot: new Robot(sim, start) };
}

const cmd = (vx = 0, vy = 0, vz = 0, wz = 0, gripper = 0): Command => ({ vx, vy, vz, wz, gripper });

/** Runs `ticks` control ticks (20 Hz) of command `c`, calling `each` after every physics step. */
function run(sim: SimWorld, robot: Robot, c: Command, ticks: number, each?: () => void): void {
  for (let k = 0; k < ticks; k++) {
    robot.command(c);
    for (let i = 0; i < STEPS_PER_TICK; i++) {
      robot.integrate(sim.dt);
      sim.step();
      each?.();
    }
  }
}

/** The tool point the setpoints put the hand at (where a kinematic arm would be). */
function setpointTool(robot: Robot): { x: number; y: number; z: number } {
  const s = robot.setpoint;
  const r = ROBOT.armRoot + s.arm;
  return { x: s.baseX + Math.cos(s.baseYaw) * r, y: s.baseY + Math.sin(s.baseYaw) * r, z: s.lift };
}

/** A rigid payload under the palm on a fixed joint (it collides with nothing). */
function payload(sim: SimWorld, robot: Robot, mass: number): RigidBody {
  const R = sim.R;
  const p = robot.palm.translation();
  const body = sim.world.createRigidBody(R.RigidBodyDesc.dynamic().setTranslation(p.x, p.y, p.z - 0.1).setCanSleep(false));
  sim.world.createCollider(R.ColliderDesc.cuboid(0.03, 0.03, 0.03).setMass(mass).setCollisionGroups(0), body);
  const id = { x: 0, y: 0, z: 0, w: 1 };
  sim.world.createImpulseJoint(R.JointData.fixed({ x: 0, y: 0, z: -0.1 }, id, { x: 0, y: 0, z: 0 }, id), robot.palm, body, true);
  return body;
}

/** The tracking run: forward, back, sideways, up, down, turns and mixes, 1 s each. */
const TWISTS: [number, number, number, number][] = [
  [0.2, 0, 0, 0], [-0.25, 0, 0, 0], [0, 0.2, 0, 0], [0, -0.2, 0, 0], [0, 0, 0.2, 0], [0, 0, -0.2, 0],
  [0, 0, 0, 1], [0, 0, 0, -1], [0.15, 0.15, -0.1, 0.5], [-0.1, -0.15, 0.1, -0.5], [0.3, 0, 0, 0], [0, 0, 0, 0],
];

function trackingRun(sim: SimWorld, robot: Robot) {
  let max = 0, sum = 0, n = 0, yawMax = 0, path = 0, gap = 0;
  let last = robot.toolPoint();
  for (const [vx, vy, vz, wz] of TWISTS) {
    run(sim, robot, cmd(vx, vy, vz, wz, 1), 20, () => {
      const t = robot.toolPoint();
      const s = setpointTool(robot);
      const e = Math.hypot(t.x - s.x, t.y - s.y, t.z - s.z);
      max = Math.max(max, e);
      sum += e;
      n++;
      yawMax = Math.max(yawMax, Math.abs(robot.handYaw() - robot.setpoint.baseYaw - robot.setpoint.wristYaw));
      path += Math.hypot(t.x - last.x, t.y - last.y, t.z - last.z);
      last = t;
      for (const j of ARM_JOINTS) gap = Math.max(gap, Math.abs(robot.q[j] - robot.setpoint[j]));
    });
  }
  return { max, mean: sum / n, yawMax, path, gap };
}

describe('robot: a chain of dynamic bodies on motorized impulse joints', () => {
  it('every joint from a fixed anchor to the fingers is an impulse joint between dynamic bodies, with the limits of LIMITS', async () => {
    const { sim, robot } = await build();
    const R = sim.R;
    const joints = ARM_JOINTS.map((n) => robot.armJoints[n]);
    const seen: number[] = [];
    sim.world.impulseJoints.forEach((j) => seen.push(j.handle));
    expect(seen).toHaveLength(8); // six arm-chain joints, two fingers
    for (const j of joints) expect(seen).toContain(j.handle);
    const types = joints.map((j) => j.type());
    const P = R.JointType.Prismatic;
    const Rv = R.JointType.Revolute;
    expect(types).toEqual([P, P, Rv, P, P, Rv]);
    // One chain: each joint's parent is the previous joint's child; the first hangs on a fixed body.
    expect(joints[0].body1().isFixed()).toBe(true);
    for (let i = 1; i < joints.length; i++) expect(joints[i].body1().handle).toBe(joints[i - 1].body2().handle);
    expect(joints[5].body2().handle).toBe(robot.palm.handle);
    for (const j of joints) expect(j.body2().isDynamic()).toBe(true);
    for (const f of robot.fingers) expect(f.isDynamic()).toBe(true);
    // No part of the robot is moved by code.
    for (const t of sim.things.filter((t) => t.name.startsWith('robot-'))) expect(t.body.isKinematic(), t.name).toBe(false);
    // Position limits are set on the joints themselves.
    const limits: Record<string, { min: number; max: number }> = { baseX: LIMITS.baseX, baseY: LIMITS.baseY, lift: LIMITS.lift, arm: LIMITS.arm, wristYaw: LIMITS.wristYaw };
    for (const [name, l] of Object.entries(limits)) {
      const j = robot.armJoints[name as keyof typeof robot.armJoints];
      expect(j.limitsEnabled(), name).toBe(true);
      expect(j.limitsMin(), name).toBeCloseTo(l.min, 5);
      expect(j.limitsMax(), name).toBeCloseTo(l.max, 5);
    }
  });

  it('the motors hold the pose against gravity, and q is measured from the bodies', async () => {
    const { sim, robot } = await build();
    run(sim, robot, cmd(), 20);
    for (const j of ARM_JOINTS) expect(Math.abs(robot.q[j] - START[j]), j).toBeLessThan(0.002);
    // The lift holds its load with a tiny, visible sag: q is not the setpoint.
    expect(robot.q.lift).toBeLessThan(robot.setpoint.lift);
    // The palm is where the joint readings say it is.
    const t = robot.toolPoint();
    const p = robot.palm.translation();
    expect(Math.hypot(p.x - t.x, p.y - t.y, p.z - ROBOT.palmAboveTool - t.z)).toBeLessThan(0.001);
  });

  for (const load of [0, 0.35]) {
    it(`the measured tool point tracks a commanded twist within a few mm${load ? ` carrying ${load} kg` : ''}`, async () => {
      const { sim, robot } = await build();
      if (load) payload(sim, robot, load);
      run(sim, robot, cmd(0, 0, 0, 0, 1), 10);
      const r = trackingRun(sim, robot);
      expect(r.path, 'the hand really moved').toBeGreaterThan(0.8);
      expect(r.gap, 'q is measured, not the setpoints').toBeGreaterThan(1e-4);
      expect(r.max * 1000, 'max tool error (mm)').toBeLessThan(6);
      expect(r.mean * 1000, 'mean tool error (mm)').toBeLessThan(2);
      expect(r.yawMax, 'hand yaw error (rad)').toBeLessThan(0.012);
    });
  }

  it('measured joint velocities follow the commanded rate', async () => {
    const { sim, robot } = await build();
    run(sim, robot, cmd(0, 0, 0.2), 10);
    expect(robot.qd.lift).toBeCloseTo(0.2, 2);
    run(sim, robot, cmd(0, 0.3), 10);
    expect(robot.qd.baseYaw).toBeCloseTo(0.3 / (ROBOT.armRoot + robot.q.arm), 1);
    expect(robot.qd.wristYaw).toBeCloseTo(-robot.qd.baseYaw, 1);
  });

  it('a joint stops at its position limit: the arm at full extension, also when its motor is told to go past it', async () => {
    const { sim, robot } = await build({ ...START, baseX: -0.3, arm: 0.7 });
    run(sim, robot, cmd(0.3), 30); // 1.5 s at 0.3 m/s: the arm runs out, the base takes the rest
    expect(robot.q.arm).toBeGreaterThan(LIMITS.arm.max - 0.002);
    expect(robot.q.arm).toBeLessThan(LIMITS.arm.max + 0.001);
    expect(robot.q.baseX).toBeGreaterThan(-0.2);
    // Past the setpoint generator: the joint's own limit stops the motor.
    const m = LIMITS.motors.arm;
    for (let i = 0; i < 100; i++) {
      robot.armJoints.arm.configureMotor(LIMITS.arm.max + 0.3, 0.3, m.stiffness, m.damping);
      sim.step();
    }
    expect(robot.q.arm).toBeLessThan(LIMITS.arm.max + 0.003);
    const { sim: sim2, robot: robot2 } = await build({ ...START, lift: 0.4, arm: 0 });
    run(sim2, robot2, cmd(0, 0, -0.3), 20);
    expect(robot2.q.lift).toBeGreaterThan(LIMITS.lift.min - 0.002);
  });

  it('pressing down on an obstacle, the lift stalls at its force limit: the push is its max force plus the weight it carries', async () => {
    const { sim, robot } = await build({ ...START, lift: 0.8, arm: 0.1 });
    const t = robot.toolPoint();
    const top = 0.6;
    const box = sim.fixedBox('obstacle', [t.x, t.y, top - 0.05], [0.1, 0.1, 0.05], 0x777777);
    const boxCollider: Collider = box.collider(0);
    let force = 0;
    let samples = 0;
    run(sim, robot, cmd(0, 0, -0.2), 40, () => {
      if (robot.q.lift > top + ROBOT.fingerHalf.z + 0.02) return;
      let f = 0;
      for (const c of [...robot.pads, robot.palm.collider(0)]) {
        sim.world.contactPair(c, boxCollider, (m) => {
          for (let j = 0; j < m.numContacts(); j++) f += m.contactImpulse(j) / sim.dt;
        });
      }
      force += f;
      samples++;
    });
    // Stalled on the box: the fingertips rest on its top, the setpoint is ahead, the joint does not move.
    expect(robot.q.lift - ROBOT.fingerHalf.z).toBeGreaterThan(top - 0.003);
    expect(robot.q.lift - ROBOT.fingerHalf.z).toBeLessThan(top + 0.003);
    expect(robot.setpoint.lift).toBeLessThan(robot.q.lift - 0.01);
    expect(Math.abs(robot.qd.lift)).toBeLessThan(0.01);
    expect(robot.jointEffort('lift')).toBeCloseTo(-LIMITS.motors.lift.maxForce, 5);
    // The last 40 steps: the contact force is the motor's limit plus the weight of what the lift moves.
    force = 0;
    samples = 0;
    run(sim, robot, cmd(0, 0, -0.2), 8, () => {
      for (const c of [...robot.pads, robot.palm.collider(0)]) {
        sim.world.contactPair(c, boxCollider, (m) => {
          for (let j = 0; j < m.numContacts(); j++) force += m.contactImpulse(j) / sim.dt;
        });
      }
      samples++;
    });
    const carried = [robot.links.carriage, robot.links.arm, robot.palm, ...robot.fingers].reduce((s, b) => s + b.mass(), 0);
    const expected = LIMITS.motors.lift.maxForce + carried * 9.81;
    expect(force / samples).toBeGreaterThan(expected * 0.9);
    expect(force / samples).toBeLessThan(expected * 1.1);
    // Freed, it does not lunge: the setpoint stayed within the tracking window.
    expect(robot.q.lift - robot.setpoint.lift).toBeLessThan(LIMITS.trackingWindow + 0.001);
  });

  it('a load beyond the lift force limit sags the lift though the command is to hold; one within it is held', async () => {
    const carried = async (kg: number) => {
      const { sim, robot } = await build();
      payload(sim, robot, kg);
      run(sim, robot, cmd(), 10); // 0.5 s holding still
      return robot;
    };
    const light = await carried(1);
    expect(Math.abs(light.q.lift - START.lift)).toBeLessThan(0.003);
    const heavy = await carried(5); // 5 kg + 2.7 kg of arm: 75 N against a 45 N lift
    expect(heavy.q.lift).toBeLessThan(START.lift - 0.1);
    expect(heavy.setpoint.lift).toBeCloseTo(START.lift, 6);
    expect(heavy.jointEffort('lift')).toBeCloseTo(LIMITS.motors.lift.maxForce, 5);
  });

  it('the fingertips stay above the counter when the hand is driven down into it', async () => {
    const { sim, robot } = await build({ ...START, arm: 0.6, lift: 1.1 });
    let lowest = Infinity;
    run(sim, robot, cmd(0, 0, -0.3), 40, () => (lowest = Math.min(lowest, robot.toolPoint().z - ROBOT.fingerHalf.z)));
    expect(robot.toolPoint().x).toBeGreaterThan(COUNTER.xMin);
    expect(lowest).toBeGreaterThan(COUNTER.top - 0.001);
    for (const f of robot.fingers) expect(f.translation().z - ROBOT.fingerHalf.z).toBeGreaterThan(COUNTER.top - 0.002);
  });

  it('teleport places every body at once and the motors hold the new pose', async () => {
    const { sim, robot } = await build();
    const q = { baseX: 0.1, baseY: -0.2, baseYaw: 0.5, lift: 1.0, arm: 0.4, wristYaw: -0.3 };
    robot.teleport(q, [0.02, 0.03]);
    for (const j of ARM_JOINTS) expect(robot.q[j], j).toBeCloseTo(q[j], 9);
    const t = robot.toolPoint();
    const p = robot.palm.translation();
    expect(Math.hypot(p.x - t.x, p.y - t.y, p.z - ROBOT.palmAboveTool - t.z)).toBeLessThan(1e-6);
    expect(robot.fingerOpening(0)).toBeCloseTo(0.02, 6);
    expect(robot.fingerOpening(1)).toBeCloseTo(0.03, 6);
    run(sim, robot, cmd(0, 0, 0, 0, 0.5), 10);
    for (const j of ARM_JOINTS) expect(Math.abs(robot.q[j] - q[j]), j).toBeLessThan(0.002);
  });

  it('is deterministic: the same seed gives the same measured joints', async () => {
    const trace = async () => {
      const env = new SimEnv({ task: 'pick-place' });
      await env.reset(5);
      const d = makeDriver(env, 'full');
      const out: number[] = [];
      for (let i = 0; i < 80; i++) {
        await env.step(d.act(env), d.disturbance?.() ?? null);
        out.push(...ARM_JOINTS.map((j) => env.robot.q[j]), env.robot.fingerOpening(0));
      }
      env.close();
      return out;
    };
    expect(await trace()).toEqual(await trace());
  });
});
