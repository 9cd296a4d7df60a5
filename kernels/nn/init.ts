// Parameter initialization from the seeded counter RNG, so the same seed gives
// the same weights on every backend.
import { tidy } from '../autograd.ts';
import type { Backend } from '../backend.ts';
import { Tensor } from '../tensor.ts';

/** Mixes a module path into a seed so each parameter draws its own stream. */
export function seedFor(seed: number, name: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** He/Kaiming-style uniform init: U(−b, b) with b = gain·sqrt(3 / fanIn). */
export function kaimingUniform(shape: readonly number[], fanIn: number, seed: number, backend: Backend, gain = 1): Tensor {
  const bound = gain * Math.sqrt(3 / fanIn);
  // tidy frees the draw and the scaled intermediate; only the result survives.
  return tidy(() => Tensor.random(shape, 'uniform', seed, backend).mulScalar(2 * bound).addScalar(-bound));
}
