// Smell and touch must matter: experts deprived of them fail as predicted.
import { describe, expect, it } from 'vitest';
import { range, runSeeds, summary } from './helpers.ts';

describe('ablations', () => {
  it('find-smell: an expert that ignores smell succeeds near chance (1/3)', async () => {
    const results = await runSeeds('find-smell', 'no-smell', range(0, 20));
    const ok = results.filter((r) => r.success).length;
    // 1/3 of 20 ≈ 6.7; the 95 % binomial range is about 3–11.
    expect(ok, summary(results)).toBeGreaterThanOrEqual(2);
    expect(ok, summary(results)).toBeLessThanOrEqual(12);
    expect(results.filter((r) => r.failure === 'wrong_jar').length).toBeGreaterThanOrEqual(8);
  });

  it('gentle-grasp: an expert that ignores touch crushes the cup in most seeds', async () => {
    const results = await runSeeds('gentle-grasp', 'no-touch', range(0, 20));
    const crushed = results.filter((r) => r.failure === 'crushed').length;
    expect(crushed, summary(results)).toBeGreaterThanOrEqual(15);
  });
});
