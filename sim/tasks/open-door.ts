// open-door: open a hinged cabinet door past 60° by its handle.
// Randomized: hinge on the left or right, cabinet centre y −0.15…0.15 m,
// door plane x 0.84–0.88 m, hinge friction 0.2–0.6 N·m; robot start.
// Success: the door's opening angle exceeds 60°. Failures: none besides the
// step limit (the door cannot be broken). Step limit 240 ticks (12 s).
import { COUNTER } from '../layout.ts';
import { PhasedExpert, moveTo, squeeze, type Grip } from '../expert.ts';
import { defaultStart, type Task, type TaskFactory } from '../task.ts';
import { GROUP_ONLY_ROBOT, Y_TO_Z } from '../world.ts';

const DOOR_W = 0.3;
const DOOR_HH = 0.15;
const HANDLE_AT = 0.25; // from the hinge along the door
const HANDLE_OUT = 0.07; // in front of the door face
const HANDLE_R = 0.012;
const HANDLE_HH = 0.07;
/** How far the expert's hand centre stays to the robot's side of the handle while it grips (m). */
const HAND_OFFSET = 0.03;
const SUCCESS_ANGLE = (60 * Math.PI) / 180;

export const openDoor: TaskFactory = ({ sim, rng }) => {
  const R = sim.R;
  const robotStart = defaultStart(rng);
  const side = rng.next() < 0.5 ? 1 : -1; // +1: hinge on the robot's left
  const yc = rng.uniform(-0.15, 0.15);
  const face = rng.uniform(0.84, 0.88);
  const friction = rng.uniform(0.2, 0.6);
  const hingeZ = COUNTER.top + 0.02 + DOOR_HH;
  const hinge = { x: face - 0.01, y: yc + side * (DOOR_W / 2), z: hingeZ };
  // The cabinet carcass behind the door.
  const carcass = sim.fixedBox('cabinet', [face + 0.13, yc, COUNTER.top + 0.175], [0.12, DOOR_W / 2 + 0.02, 0.175], 0x7a5c3e);
  const cp = carcass.translation();
  // The door: panel, handle bar and its standoff, one body hinged at `hinge`. It collides only with the robot.
  const door = sim.world.createRigidBody(R.RigidBodyDesc.dynamic().setTranslation(hinge.x, hinge.y, hinge.z).setAngularDamping(1));
  const panelAt: [number, number, number] = [0, -side * (DOOR_W / 2), 0];
  const handleAt: [number, number, number] = [-HANDLE_OUT, -side * HANDLE_AT, 0];
  const standoffAt: [number, number, number] = [-HANDLE_OUT / 2 - 0.005, -side * HANDLE_AT, -HANDLE_HH + 0.01];
  const groups = GROUP_ONLY_ROBOT;
  sim.world.createCollider(R.ColliderDesc.cuboid(0.01, DOOR_W / 2 - 0.002, DOOR_HH).setTranslation(...panelAt).setMass(1).setCollisionGroups(groups), door);
  sim.world.createCollider(
    R.ColliderDesc.cylinder(HANDLE_HH, HANDLE_R).setTranslation(...handleAt).setRotation(Y_TO_Z).setMass(0.05).setFriction(1).setCollisionGroups(groups),
    door,
  );
  sim.world.createCollider(R.ColliderDesc.cuboid(HANDLE_OUT / 2 - 0.005, 0.008, 0.01).setTranslation(...standoffAt).setMass(0.02).setCollisionGroups(groups), door);
  sim.register('door', door, { kind: 'box', half: [0.01, DOOR_W / 2 - 0.002, DOOR_HH], color: 0x9b7653 }, panelAt);
  sim.register('door-handle', door, { kind: 'cylinder', radius: HANDLE_R, halfHeight: HANDLE_HH, color: 0xb8bcc2 }, handleAt);
  sim.register('door-standoff', door, { kind: 'box', half: [HANDLE_OUT / 2 - 0.005, 0.008, 0.01], color: 0xb8bcc2 }, standoffAt);
  const data = R.JointData.revolute({ x: hinge.x - cp.x, y: hinge.y - cp.y, z: hinge.z - cp.z }, { x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: -side });
  data.limitsEnabled = true;
  data.limits = [0, 1.9];
  const joint = sim.world.createImpulseJoint(data, carcass, door, true) as unknown as {
    configureMotorModel(m: number): void;
    configureMotorVelocity(v: number, k: number): void;
    setMotorMaxForce(f: number): void;
    setLimits(a: number, b: number): void;
  };
  joint.setLimits(0, 1.9);
  // Hinge friction: a velocity motor holding zero speed with a small torque budget.
  joint.configureMotorModel(R.MotorModel.ForceBased);
  joint.configureMotorVelocity(0, 5);
  joint.setMotorMaxForce(friction);

  const angle = () => {
    const q = door.rotation();
    return -side * 2 * Math.atan2(q.z, q.w);
  };
  const handleWorld = (phi: number) => {
    const yaw = -side * phi;
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    return { x: hinge.x + c * handleAt[0] - s * handleAt[1], y: hinge.y + s * handleAt[0] + c * handleAt[1] };
  };
  let maxAngle = 0;

  const task: Task = {
    name: 'open-door',
    stepLimit: 240,
    robotStart,
    // The cabinet body behind the door: the gripper cannot reach in and push the door from inside.
    keepOut: [{ min: [face, yc - DOOR_W / 2 - 0.02, COUNTER.top], max: [face + 0.25, yc + DOOR_W / 2 + 0.02, COUNTER.top + 0.35] }],
    afterPhysicsStep() {
      const a = angle();
      if (a > maxAngle) maxAngle = a;
    },
    success: () => angle() > SUCCESS_ANGLE,
    failure: () => null,
    landmarks: () => [{ name: 'door-handle', ...handleWorld(angle()), z: hingeZ }],
    stages: () => ['door-handle'],
    variant: () => `hinge_side ${side > 0 ? 'left' : 'right'}`,
    info: () => ({ door_angle: angle(), max_door_angle: maxAngle, hinge_side: side > 0 ? 'left' : 'right' }),
    expert(_variant, erng) {
      const barTop = hingeZ + HANDLE_HH;
      const gripZ = barTop - 0.03 + erng.uniform(-0.003, 0.003);
      // Fingers close along the door's normal: hand yaw follows the door. The palm is longer than the
      // handle's standoff, so the hand stays a little to the robot's side of the handle (the palm
      // clears the door); closing then pins the bar against the near finger, which pulls it.
      const yawAt = (phi: number) => side * (Math.PI / 2) - side * phi;
      const off = (phi: number, d: number) => {
        const h = handleWorld(phi);
        // The door's outward normal (toward the robot) at opening angle phi.
        const yaw = -side * phi;
        return { x: h.x - d * Math.cos(yaw), y: h.y - d * Math.sin(yaw) };
      };
      const pullSpeed = erng.uniform(0.1, 0.14);
      const grip: Grip = { g: 0 };
      return new PhasedExpert(
        [
          moveTo('approach', () => ({ ...off(0, HAND_OFFSET), z: barTop + 0.06, yaw: yawAt(0) }), 0, 0.008, 160),
          moveTo('descend', () => ({ ...off(angle(), HAND_OFFSET), z: gripZ, yaw: yawAt(angle()) }), 0, 0.004, 80),
          // Shut steadily (sim/expert.ts squeeze): only the near finger meets the bar, so "firm" is "shut".
          squeeze('grip', grip, () => ({ ...off(angle(), HAND_OFFSET), z: gripZ, yaw: yawAt(angle()) }), () => grip.g >= 1, 0.05, 30),
          moveTo(
            'pull',
            () => {
              const target = Math.min(angle() + 0.3, 1.4);
              return { ...off(target, HANDLE_R), z: gripZ, yaw: yawAt(target) };
            },
            1,
            0.001,
            300,
            pullSpeed,
          ),
        ],
        erng,
      );
    },
  };
  return task;
};
