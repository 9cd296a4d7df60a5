// gentle-grasp: lift a fragile paper cup 10 cm without ever squeezing it
// harder than it can bear. The crush force is drawn per episode and is not
// visible: it can only be felt through the tactile pads.
// Randomized: cup radius 3.0–4.2 cm, mass 30–80 g, crush force 3–6 N per
// finger, position x 0.70–0.85 m, y −0.25…0.25 m; robot start.
// Success: the cup's bottom is ≥ 10 cm above the counter for 0.5 s, never crushed.
// Failures: crushed (a finger pressed harder than the crush force at any
// physics step), dropped (cup tipped or fell). Step limit 200 ticks (10 s).
import { COUNTER, ROBOT } from '../layout.ts';
import { PhasedExpert, hold, moveTo, overTool, squeeze, weakerSqueeze, type Grip } from '../expert.ts';
import { defaultStart, type Task, type TaskFactory } from '../task.ts';
import { graspHeight, holdable, landmarkOf, uprightness } from './common.ts';

const LIFT = 0.1;
const HOLD_TICKS = 10;

export const gentleGrasp: TaskFactory = ({ sim, rng }) => {
  const robotStart = defaultStart(rng);
  const r = rng.uniform(0.03, 0.042);
  const hh = 0.05;
  const crushForce = rng.uniform(3, 6);
  const cup = sim.dynamicCylinder(
    { name: 'cup', color: 0xf2efe6, mass: rng.uniform(0.03, 0.08), friction: 0.8 },
    rng.uniform(0.7, 0.85),
    rng.uniform(-0.25, 0.25),
    COUNTER.top,
    r,
    hh,
  );
  let crushed = false;
  let peak = 0;
  let heldTicks = 0;
  const lifted = () => cup.body.translation().z - hh >= COUNTER.top + LIFT;

  const task: Task = {
    name: 'gentle-grasp',
    stepLimit: 200,
    robotStart,
    afterPhysicsStep(env) {
      const squeeze = Math.max(env.touch.normalTotal[0], env.touch.normalTotal[1]);
      if (squeeze > peak) peak = squeeze;
      if (squeeze > crushForce) crushed = true;
    },
    success() {
      heldTicks = lifted() ? heldTicks + 1 : 0;
      return !crushed && heldTicks >= HOLD_TICKS;
    },
    failure() {
      if (crushed) return 'crushed';
      if (cup.body.translation().z < COUNTER.top - 0.05 || uprightness(cup.body) < 0.5) return 'dropped';
      return null;
    },
    landmarks: () => [landmarkOf('cup', cup.body)],
    stages: () => ['cup'],
    holdables: [holdable(cup.body, r, hh)],
    info() {
      return { cup_z: cup.body.translation().z, peak_squeeze_n: peak, crushed };
    },
    expert(variant, erng) {
      const jitter = () => erng.uniform(-0.004, 0.004);
      const yaw = erng.uniform(-0.5, 0.5);
      const top = COUNTER.top + 2 * hh;
      const grasp = graspHeight(top) + jitter();
      // Feel for the cup: close fast to just outside its radius, then in small steps until the pads feel the target squeeze.
      const target = erng.uniform(1.0, 1.6);
      const preClose = 1 - (r + 0.01) / ROBOT.fingerOpenMax;
      const grip: Grip = { g: preClose };
      const at = () => cup.body.translation();
      return new PhasedExpert(
        [
          moveTo('approach', () => ({ x: at().x + jitter(), y: at().y, z: top + 0.06, yaw }), 0, 0.01),
          moveTo('descend', () => ({ x: at().x, y: at().y, z: grasp, yaw }), 0, 0.004),
          hold('preclose', preClose, 6),
          // The no-touch variant shuts at once and moves on when the command says shut.
          variant === 'no-touch'
            ? squeeze('squeeze', grip, (env) => overTool(env, grasp, yaw), (env) => env.robot.cmd.gripper >= 1 && env.tick > 0, 1, 80)
            : squeeze('squeeze', grip, (env) => overTool(env, grasp, yaw), (env) => weakerSqueeze(env) >= target, 0.006, 80),
          hold('settle', () => grip.g, 4),
          moveTo('lift', (env) => overTool(env, grasp + LIFT + 0.04, yaw), () => grip.g, 0.005, 100, 0.12),
          hold('hold', () => grip.g, 1000),
        ],
        erng,
      );
    },
  };
  return task;
};
