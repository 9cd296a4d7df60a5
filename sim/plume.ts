// Odor around a source: a plume that falls with distance, rises slowly, and
// fluctuates with turbulence (FIELD.md: "concentration falls with distance
// and fluctuates"). There is no line of sight: jars with lids still smell.
// Concentration is in arbitrary units where 1 is "at the lid of a strong source".
import type { Rng } from './rng.ts';

export interface OdorSource {
  /** Index into ODORANTS. */
  odorant: number;
  x: number;
  y: number;
  z: number;
  strength: number;
}

/** Odorants the e-nose channels respond to. */
export const ODORANTS = ['target', 'ethanol'] as const;

const SIGMA_H = 0.06; // m, horizontal spread at the source
const RISE = 0.25; // m, e-folding height of the plume above the source
const SINK = 0.04; // m, odor reaching below the source

export class Plume {
  /** Turbulence as a multiplicative Ornstein–Uhlenbeck process (τ 0.4 s, ~30 %). */
  private turbulence = 0;
  readonly sources: OdorSource[] = [];

  constructor(
    private readonly rng: Rng,
    /** Background concentration per odorant (room air). */
    readonly background: number[] = [0, 0.02],
  ) {}

  /** Advances turbulence by dt seconds. */
  advance(dt: number): void {
    const tau = 0.4;
    const a = Math.exp(-dt / tau);
    this.turbulence = a * this.turbulence + Math.sqrt(1 - a * a) * 0.3 * this.rng.normal();
  }

  /** Concentration of each odorant at a point, written into `out`. */
  sample(x: number, y: number, z: number, out: number[]): number[] {
    for (let j = 0; j < out.length; j++) out[j] = this.background[j] ?? 0;
    const gust = Math.max(0, 1 + this.turbulence);
    for (const s of this.sources) {
      const dz = z - s.z;
      // The plume widens as it rises.
      const spread = SIGMA_H + 0.15 * Math.max(0, dz);
      const r2 = (x - s.x) ** 2 + (y - s.y) ** 2;
      const vertical = dz >= 0 ? Math.exp(-dz / RISE) : Math.exp(dz / SINK);
      out[s.odorant] += s.strength * gust * (SIGMA_H / spread) ** 2 * Math.exp(-r2 / (2 * spread * spread)) * vertical;
    }
    return out;
  }
}
