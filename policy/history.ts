// Motion history: where the robot's joints were over the last few seconds,
// relative to where they are now. A reactive policy with no memory cannot
// tell "I just arrived at this jar" from "I have sniffed it for two seconds"
// or "I already visited that jar": the demonstrations are not Markov in the
// current frame. A short, subsampled history of joint displacements makes
// them nearly so (as observation stacking does for Atari and diffusion
// policies), at the cost of a few inputs. One class serves training (fed the
// dataset's frames in order) and inference (fed live frames), so both see
// identical inputs.

/** Joint-position entries of the proprio vector: the names that start with `position.`. */
export function positionCount(names: readonly string[]): number {
  let n = 0;
  while (n < names.length && names[n].startsWith('position.')) n++;
  return n;
}

export class MotionHistory {
  private readonly ring: Float32Array;
  private count = 0;

  /**
   * @param steps history entries (0 = off)
   * @param every control ticks between entries
   * @param joints position entries at the front of each proprio vector
   */
  constructor(
    readonly steps: number,
    readonly every: number,
    readonly joints: number,
  ) {
    this.ring = new Float32Array((steps * every + 1) * joints);
  }

  get width(): number {
    return this.steps * this.joints;
  }

  reset(): void {
    this.count = 0;
  }

  /**
   * Records this tick's proprio and writes into `out` (steps × joints, oldest
   * first) the displacement of each past entry from now. Before the episode
   * has that much past, the earliest recorded position stands in, so the
   * displacement is what the robot has moved so far.
   */
  push(proprio: ArrayLike<number>, out: Float32Array): Float32Array {
    const J = this.joints;
    const slots = this.steps * this.every + 1;
    const at = this.count % slots;
    for (let j = 0; j < J; j++) this.ring[at * J + j] = proprio[j];
    this.count++;
    for (let s = 0; s < this.steps; s++) {
      const back = (this.steps - s) * this.every;
      const tick = Math.max(0, this.count - 1 - back);
      const slot = tick % slots;
      for (let j = 0; j < J; j++) out[s * J + j] = this.ring[slot * J + j] - proprio[j];
    }
    return out;
  }
}
