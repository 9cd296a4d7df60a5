// Simulated tactile pads: per finger a rows×cols grid of 3-axis taxel forces
// (shear along the pad, shear up the pad, normal into the pad), made from the
// Rapier contact forces on the finger's collider in the last physics step.
// Each contact's force is spread over nearby taxels with a Gaussian (the
// elastomer spreads load), then noise is added and each axis saturates, like
// a uSkin-style 4×4 three-axis sensor (≤ 3 N per cell, FIELD.md).
//
// Rapier's JS API reports each contact's normal impulse but its tangent
// (friction) impulses read as zero, so shear is reconstructed from the
// touched body's motion: the friction on it is what remains of m·(a − g)
// after all its normal forces, shared among its contacts by normal force.
import type { Collider, RigidBody, TempContactManifold } from '@dimforge/rapier3d-deterministic-compat';
import { GRAVITY, ROBOT } from './layout.ts';
import type { Robot } from './robot.ts';
import type { Rng } from './rng.ts';
import type { SimWorld } from './world.ts';

export interface TouchConfig {
  rows: number;
  cols: number;
  /** Newtons per axis at which a taxel saturates. */
  saturation: number;
  /** Newtons, standard deviation of per-axis noise. */
  noise: number;
}

export const DEFAULT_TOUCH: TouchConfig = { rows: 4, cols: 4, saturation: 3, noise: 0.01 };

const MAX_CONTACTS = 64;
const SPREAD = 0.72; // 2σ² in taxel units², σ = 0.6 taxel pitch

/** One pad contact from the last step, kept in preallocated slots. */
interface PadContact {
  pad: number;
  u: number;
  v: number;
  /** Normal force on the pad (N, world frame). */
  nx: number;
  ny: number;
  nz: number;
  magnitude: number;
  body: RigidBody | null;
}

export class TouchSensor {
  /** Per pad the noise-free taxel forces, rows×cols×3, from the latest physics step. */
  readonly raw: [Float32Array, Float32Array];
  /** Total normal force per pad (N), noise-free: what the squeeze really is. */
  readonly normalTotal: [number, number] = [0, 0];
  private readonly contacts: PadContact[] = [];
  private count = 0;
  private pad = 0;
  private padCollider: Collider | null = null;
  private otherCollider: Collider | null = null;
  private readonly onPair: (other: Collider) => void;
  private readonly onManifold: (m: TempContactManifold, flipped: boolean) => void;
  // For the shear estimate: each touched body's velocity one step ago, and its summed normal forces.
  private readonly lastVel = new Map<number, [number, number, number]>();
  private sumN = [0, 0, 0];
  private sumMag = 0;
  private readonly onBodyManifold: (m: TempContactManifold, flipped: boolean) => void;
  private readonly onBodyPair: (other: Collider) => void;
  private bodyCollider: Collider | null = null;

  constructor(
    private readonly sim: SimWorld,
    private readonly robot: Robot,
    readonly config: TouchConfig = DEFAULT_TOUCH,
  ) {
    const n = config.rows * config.cols * 3;
    this.raw = [new Float32Array(n), new Float32Array(n)];
    for (let i = 0; i < MAX_CONTACTS; i++) this.contacts.push({ pad: 0, u: 0, v: 0, nx: 0, ny: 0, nz: 0, magnitude: 0, body: null });
    this.onManifold = (m, flipped) => this.addManifold(m, flipped);
    this.onPair = (other) => {
      this.otherCollider = other;
      this.sim.world.contactPair(this.padCollider!, other, this.onManifold);
    };
    this.onBodyManifold = (m, flipped) => {
      const n = m.normal();
      // Force on collider 2 is +normal·λ; the touched body gets −normal·λ when it is collider 1.
      const s = flipped ? 1 : -1;
      for (let j = 0; j < m.numContacts(); j++) {
        const lambda = m.contactImpulse(j);
        if (!(lambda > 0)) continue;
        const f = lambda / this.sim.dt;
        this.sumN[0] += s * n.x * f;
        this.sumN[1] += s * n.y * f;
        this.sumN[2] += s * n.z * f;
        this.sumMag += f;
      }
    };
    this.onBodyPair = (other) => this.sim.world.contactPair(this.bodyCollider!, other, this.onBodyManifold);
  }

  /** Recomputes the noise-free taxel forces from the contacts of the last physics step. Call every step. */
  update(): void {
    this.count = 0;
    for (let i = 0; i < 2; i++) {
      this.pad = i;
      this.raw[i].fill(0);
      this.normalTotal[i] = 0;
      this.padCollider = this.robot.pads[i];
      this.sim.world.contactPairsWith(this.padCollider, this.onPair);
    }
    const { rows, cols } = this.config;
    const h = this.robot.handYaw();
    const hx = Math.cos(h);
    const hy = Math.sin(h);
    for (let k = 0; k < this.count; k++) {
      const c = this.contacts[k];
      // Shear on the pad: minus its share of the friction on the touched body.
      let sx = 0;
      let sz = 0;
      const body = c.body;
      if (body && body.isDynamic()) this.frictionShare(body, c, (fx, fz) => ((sx = fx), (sz = fz)));
      const side = c.pad === 0 ? 1 : -1;
      const normal = c.nx * -hy * side + c.ny * hx * side;
      const along = sx * hx + 0 * hy;
      this.normalTotal[c.pad] += normal;
      const grid = this.raw[c.pad];
      let wsum = 0;
      for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) wsum += Math.exp(-((r - c.v) ** 2 + (q - c.u) ** 2) / SPREAD);
      if (wsum === 0) continue;
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) {
          const w = Math.exp(-((r - c.v) ** 2 + (q - c.u) ** 2) / SPREAD) / wsum;
          const i3 = (r * cols + q) * 3;
          grid[i3] += along * w;
          grid[i3 + 1] += sz * w;
          grid[i3 + 2] += normal * w;
        }
      }
    }
    this.rememberVelocities();
  }

  private frictionShare(body: RigidBody, c: PadContact, out: (fx: number, fz: number) => void): void {
    const prev = this.lastVel.get(body.handle);
    const v = body.linvel();
    const m = body.mass();
    const ax = prev ? (v.x - prev[0]) / this.sim.dt : 0;
    const ay = prev ? (v.y - prev[1]) / this.sim.dt : 0;
    const az = prev ? (v.z - prev[2]) / this.sim.dt : 0;
    this.sumN[0] = this.sumN[1] = this.sumN[2] = 0;
    this.sumMag = 0;
    for (let i = 0; i < body.numColliders(); i++) {
      this.bodyCollider = body.collider(i);
      this.sim.world.contactPairsWith(this.bodyCollider, this.onBodyPair);
    }
    if (this.sumMag <= 0) return out(0, 0);
    // Friction on the body = m·a − m·g − ΣN; the pad feels its share with the opposite sign.
    const share = c.magnitude / this.sumMag;
    const fx = (m * ax - this.sumN[0]) * share;
    const fy = (m * ay - this.sumN[1]) * share;
    const fz = (m * (az + GRAVITY) - this.sumN[2]) * share;
    const h = this.robot.handYaw();
    out(-(fx * Math.cos(h) + fy * Math.sin(h)), -fz);
  }

  private rememberVelocities(): void {
    for (let k = 0; k < this.count; k++) {
      const b = this.contacts[k].body;
      if (!b || !b.isDynamic()) continue;
      const v = b.linvel();
      const slot = this.lastVel.get(b.handle);
      if (slot) {
        slot[0] = v.x;
        slot[1] = v.y;
        slot[2] = v.z;
      } else this.lastVel.set(b.handle, [v.x, v.y, v.z]);
    }
  }

  private addManifold(m: TempContactManifold, flipped: boolean): void {
    const n = m.numContacts();
    if (n === 0) return;
    const normal = m.normal();
    const sign = flipped ? 1 : -1;
    const f = ROBOT.fingerHalf;
    const { rows, cols } = this.config;
    for (let j = 0; j < n && this.count < MAX_CONTACTS; j++) {
      const lambda = m.contactImpulse(j);
      if (!(lambda > 0)) continue;
      const p = flipped ? m.localContactPoint2(j) : m.localContactPoint1(j);
      if (!p) continue;
      const force = lambda / this.sim.dt;
      const c = this.contacts[this.count++];
      c.pad = this.pad;
      // Contact position on the pad in taxel units (column along x, row 0 at the top).
      c.u = ((p.x / f.x + 1) / 2) * cols - 0.5;
      c.v = ((1 - p.z / f.z) / 2) * rows - 0.5;
      c.nx = sign * normal.x * force;
      c.ny = sign * normal.y * force;
      c.nz = sign * normal.z * force;
      c.magnitude = force;
      c.body = this.otherCollider!.parent();
    }
  }

  /** A measured reading of one pad: noise, then per-axis saturation. Writes into `out`. */
  read(pad: 0 | 1, rng: Rng, out: Float32Array): Float32Array {
    const s = this.config.saturation;
    const raw = this.raw[pad];
    for (let k = 0; k < raw.length; k++) {
      const v = raw[k] + this.config.noise * rng.normal();
      out[k] = v > s ? s : v < -s ? -s : v;
    }
    return out;
  }
}
