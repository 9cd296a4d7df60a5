// pick-place: put the mug onto the plate.
// Randomized: mug radius 3.5–4.5 cm, mass 0.2–0.35 kg, position x 0.70–0.85 m,
// y −0.3…0.3 m; plate (radius 9 cm) likewise, at least 22 cm from the mug;
// robot start (task.ts defaultStart).
// Success: the mug stands upright on the plate, released and at rest.
// Failures: mug_tipped (tilted > 60°), mug_dropped (fell off the counter),
// plate_pushed (plate moved > 10 cm). Step limit 300 ticks (15 s).
import type { RigidBody } from '@dimforge/rapier3d-deterministic-compat';
import { COUNTER } from '../layout.ts';
import { PhasedExpert, hold, moveTo, overTool, release, setDown, squeeze, weakerSqueeze, type Grip } from '../expert.ts';
import { defaultStart, type Task, type TaskFactory } from '../task.ts';
import { graspHeight, holdable, landmarkOf, movable, speed, uprightness } from './common.ts';
import type { Rng } from '../rng.ts';

const PLATE_R = 0.09;
const PLATE_HH = 0.008;

export const pickPlace: TaskFactory = ({ sim, rng }) => {
  const robotStart = defaultStart(rng);
  const mugR = rng.uniform(0.035, 0.045);
  const mugHH = 0.05;
  const place = (r: Rng) => ({ x: r.uniform(0.7, 0.85), y: r.uniform(-0.3, 0.3) });
  // The plate, drawn until it stands far enough from the mug.
  const plateFor = (r: Rng, mug: { x: number; y: number }) => {
    for (;;) {
      const p = place(r);
      if (Math.hypot(mug.x - p.x, mug.y - p.y) >= 0.22) return p;
    }
  };
  let mx = 0, my = 0, px = 0, py = 0;
  do {
    ({ x: mx, y: my } = place(rng));
    ({ x: px, y: py } = place(rng));
  } while (Math.hypot(mx - px, my - py) < 0.22);
  const plate = sim.dynamicCylinder({ name: 'plate', color: 0xf4f4f0, mass: 0.6, friction: 0.9 }, px, py, COUNTER.top, PLATE_R, PLATE_HH);
  const mug = sim.dynamicCylinder({ name: 'mug', color: 0x2f6db5, mass: rng.uniform(0.2, 0.35), friction: 0.8 }, mx, my, COUNTER.top, mugR, mugHH);
  const plateStart = { x: px, y: py };
  const plateTop = COUNTER.top + 2 * PLATE_HH;
  const mugBody: RigidBody = mug.body;
  const plateMover = movable([plate.body], plateStart);
  const mugMover = movable([mugBody], { x: mx, y: my });

  const task: Task = {
    name: 'pick-place',
    stepLimit: 300,
    robotStart,
    afterPhysicsStep() {},
    success(env) {
      const m = mugBody.translation();
      const p = plate.body.translation();
      const bottom = m.z - mugHH;
      const released = env.touch.normalTotal[0] < 0.05 && env.touch.normalTotal[1] < 0.05;
      return (
        Math.hypot(m.x - p.x, m.y - p.y) < PLATE_R - 0.02 &&
        bottom > plateTop - 0.01 &&
        bottom < plateTop + 0.015 &&
        uprightness(mugBody) > Math.cos((15 * Math.PI) / 180) &&
        released &&
        speed(mugBody) < 0.05
      );
    },
    failure() {
      if (mugBody.translation().z < COUNTER.top - 0.05) return 'mug_dropped';
      if (uprightness(mugBody) < 0.5) return 'mug_tipped';
      const p = plate.body.translation();
      if (Math.hypot(p.x - plateStart.x, p.y - plateStart.y) > 0.1) return 'plate_pushed';
      return null;
    },
    landmarks: () => [landmarkOf('mug', mugBody), landmarkOf('plate', plate.body)],
    stages: () => ['mug', 'plate'],
    holdables: [holdable(mugBody, mugR, mugHH)],
    relayout: {
      goal: (r) => plateMover.to(plateFor(r, { x: mx, y: my })),
      target(r) {
        const m = place(r);
        return { target: mugMover.to(m), goal: plateMover.to(plateFor(r, m)) };
      },
      restore() {
        mugMover.restore();
        plateMover.restore();
      },
    },
    info() {
      const m = mugBody.translation();
      const p = plate.body.translation();
      return { mug_x: m.x, mug_y: m.y, mug_z: m.z, plate_x: p.x, plate_y: p.y, mug_radius: mugR };
    },
    expert(_variant, erng) {
      const jitter = () => erng.uniform(-0.004, 0.004);
      const yaw = erng.uniform(-0.3, 0.3);
      const top = COUNTER.top + 2 * mugHH;
      const above = top + 0.08;
      const grasp = graspHeight(top) + jitter();
      let offsetZ = 0; // tool height above the mug's bottom once grasped
      // Squeeze steadily (sim/expert.ts squeeze) until the weaker pad feels this firm a grip (N); open steadily on the plate.
      const firm = erng.uniform(5, 7);
      const grip: Grip = { g: 0 };
      const mugAt = () => mugBody.translation();
      return new PhasedExpert(
        [
          moveTo('approach', () => ({ x: mugAt().x + jitter(), y: mugAt().y, z: above, yaw }), 0, 0.01),
          moveTo('descend', () => ({ x: mugAt().x, y: mugAt().y, z: grasp, yaw }), 0, 0.004),
          squeeze('close', grip, (env) => overTool(env, grasp, yaw), (env) => weakerSqueeze(env) >= firm),
          {
            name: 'lift',
            act(env, out, t) {
              if (t === 0) offsetZ = env.robot.q.lift - (mugAt().z - mugHH);
              const p = env.robot.toolPoint();
              moveTo('x', () => ({ x: p.x, y: p.y, z: above + 0.04, yaw }), grip.g).act(env, out, t);
            },
            done: (env) => env.robot.q.lift > above + 0.03,
            maxTicks: 80,
          },
          moveTo('carry', () => ({ x: plate.body.translation().x, y: plate.body.translation().y, z: above + 0.04, yaw }), () => grip.g, 0.006, 160),
          setDown('lower', () => ({ x: plate.body.translation().x, y: plate.body.translation().y, z: plateTop + offsetZ - 0.01, yaw }), grip),
          release('release', grip, yaw),
          moveTo('retreat', (env) => overTool(env, above + 0.08, yaw), 0, 0.01, 80),
          hold('wait', 0, 1000),
        ],
        erng,
      );
    },
  };
  return task;
};
