// The physics world and the list of visible things in it. Every body that the
// camera should see is registered with a visual (shape, size, colour) so that
// the renderer mirrors physics without knowing about tasks.
import type { Collider, RigidBody, World } from '@dimforge/rapier3d-deterministic-compat';
import { loadRapier, type Rapier, type RapierBuild } from './rapier.ts';
import { COUNTER, GRAVITY, PHYSICS_HZ } from './layout.ts';

export type Visual =
  | { kind: 'box'; half: [number, number, number]; color: number }
  /** A cylinder along the body's z axis. */
  | { kind: 'cylinder'; radius: number; halfHeight: number; color: number };

export interface Thing {
  name: string;
  body: RigidBody;
  visual: Visual;
  /** Offset of the visual in the body frame. */
  offset: [number, number, number];
}

// Collision groups: the robot's palm and fingers (its only colliders: the base, mast and arm
// links have none) never collide with each other.
const ROBOT = 0x0001;
const WORLDG = 0x0002;
export const GROUP_ROBOT = (ROBOT << 16) | WORLDG;
export const GROUP_WORLD = (WORLDG << 16) | (ROBOT | WORLDG);
/** A world object that only the robot can touch (a door that must not rub its own cabinet). */
export const GROUP_ONLY_ROBOT = (WORLDG << 16) | ROBOT;

/** Rotates Rapier's y-axis cylinders onto z. */
export const Y_TO_Z = { x: Math.SQRT1_2, y: 0, z: 0, w: Math.SQRT1_2 };

export interface ShapeOptions {
  name: string;
  color: number;
  friction?: number;
  mass?: number;
  group?: number;
}

export class SimWorld {
  readonly world: World;
  readonly things: Thing[] = [];
  readonly dt = 1 / PHYSICS_HZ;
  /** Physics steps taken (what cached measurements are keyed on). */
  steps = 0;

  private constructor(
    readonly R: Rapier,
    world: World,
  ) {
    this.world = world;
  }

  static async create(build: RapierBuild = 'deterministic'): Promise<SimWorld> {
    const R = await loadRapier(build);
    const world = new R.World({ x: 0, y: 0, z: -GRAVITY });
    world.timestep = 1 / PHYSICS_HZ;
    // Contacts are predicted 1 cm ahead (Rapier's default is 2 cm). Objects here move at most about
    // 1 cm per step; a wider margin only made stale manifolds: a finger passing a cup's rim 2 cm
    // away kept the rim's diagonal normal and was kicked by a contact it never touched.
    world.integrationParameters.normalizedPredictionDistance = 0.01;
    const sim = new SimWorld(R, world);
    sim.buildKitchen();
    return sim;
  }

  private buildKitchen(): void {
    this.fixedBox('floor', [0, 0, -0.05], [3, 3, 0.05], 0x8a7f72);
    const cx = (COUNTER.xMin + COUNTER.xMax) / 2;
    const hx = (COUNTER.xMax - COUNTER.xMin) / 2;
    const hy = (COUNTER.yMax - COUNTER.yMin) / 2;
    // Counter top (light stone) over a cabinet body (wood).
    this.fixedBox('counter', [cx, 0, COUNTER.top - 0.02], [hx, hy, 0.02], 0xd9d4c7);
    this.fixedBox('counter-body', [cx + 0.02, 0, (COUNTER.top - 0.04) / 2], [hx - 0.02, hy, (COUNTER.top - 0.04) / 2], 0x6b4f36);
    // The wall behind the counter, so the camera has a backdrop.
    this.fixedBox('wall', [COUNTER.xMax + 0.05, 0, 1.2], [0.05, 1.5, 1.2], 0xe8e1d0);
  }

  fixedBox(name: string, at: [number, number, number], half: [number, number, number], color: number, group = GROUP_WORLD): RigidBody {
    const body = this.world.createRigidBody(this.R.RigidBodyDesc.fixed().setTranslation(at[0], at[1], at[2]));
    this.world.createCollider(this.R.ColliderDesc.cuboid(half[0], half[1], half[2]).setCollisionGroups(group).setFriction(0.8), body);
    this.things.push({ name, body, visual: { kind: 'box', half, color }, offset: [0, 0, 0] });
    return body;
  }

  /** A dynamic upright cylinder whose bottom rests at z = `bottom`. */
  dynamicCylinder(opts: ShapeOptions, x: number, y: number, bottom: number, radius: number, halfHeight: number): { body: RigidBody; collider: Collider } {
    const body = this.world.createRigidBody(
      this.R.RigidBodyDesc.dynamic().setTranslation(x, y, bottom + halfHeight).setCcdEnabled(false),
    );
    const collider = this.world.createCollider(
      this.R.ColliderDesc.cylinder(halfHeight, radius)
        .setRotation(Y_TO_Z)
        .setFriction(opts.friction ?? 0.8)
        .setMass(opts.mass ?? 0.2)
        .setCollisionGroups(opts.group ?? GROUP_WORLD),
      body,
    );
    this.things.push({ name: opts.name, body, visual: { kind: 'cylinder', radius, halfHeight, color: opts.color }, offset: [0, 0, 0] });
    return { body, collider };
  }

  register(name: string, body: RigidBody, visual: Visual, offset: [number, number, number] = [0, 0, 0]): void {
    this.things.push({ name, body, visual, offset });
  }

  step(): void {
    this.world.step();
    this.steps++;
  }

  free(): void {
    this.world.free();
  }
}
