// A counter-based RNG (PCG hash) in plain u32 arithmetic, so the CPU and the
// WGSL kernels draw bit-identical uniforms from (seed, counter + index).

export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) >>> 0)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Uniform in [0, 1) with 24 bits, exactly as the WGSL version computes it. */
export function uniformAt(seed: number, counter: number, i: number): number {
  const h = pcgHash((pcgHash(seed >>> 0) + ((counter + i) >>> 0)) >>> 0);
  return (h >>> 8) * 5.960464477539063e-8;
}

/** Standard normal by Box–Muller on two decorrelated uniforms. */
export function normalAt(seed: number, counter: number, i: number): number {
  const u1 = 1 - uniformAt(seed, counter, 2 * i);
  const u2 = uniformAt(seed, counter, 2 * i + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export const WGSL_RNG = /* wgsl */ `
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn uniform_at(seed: u32, counter: u32, i: u32) -> f32 {
  let h = pcg_hash(pcg_hash(seed) + counter + i);
  return f32(h >> 8u) * 5.960464477539063e-8;
}
fn normal_at(seed: u32, counter: u32, i: u32) -> f32 {
  let u1 = 1.0 - uniform_at(seed, counter, 2u * i);
  let u2 = uniform_at(seed, counter, 2u * i + 1u);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
`;
