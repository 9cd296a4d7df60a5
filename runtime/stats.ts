/** 95% Wilson score interval for k successes in n trials (0/20 → [0, 0.161]). */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

/** A task milestone's name as reports print it ("touched_odorant_jar_first" → "touched odorant jar first"). */
export const milestoneLabel = (name: string): string => name.replace(/_/g, ' ');

/** "k/n = p% [lo%, hi%]": a count with its rate and 95% Wilson interval, as every report states one. */
export function formatRate(k: number, n: number, ci: readonly [number, number] = wilson(k, n)): string {
  return `${k}/${n} = ${pct(n ? k / n : 0)} [${pct(ci[0])}, ${pct(ci[1])}]`;
}
