// Episode context: the motion history that makes few-shot demonstrations
// nearly Markov, and the e-nose baseline smell is read against. Training
// (attachContext over recorded frames) and inference (the runner's live
// context) must give the same inputs for the same frames.
import { describe, expect, it } from 'vitest';
import { MotionHistory, positionCount } from '../../policy/history.ts';
import { EpisodeContext, attachContext } from '../../policy/context.ts';
import type { PolicyExample } from '../../policy/features.ts';

const row = (...v: number[]) => Float32Array.from(v);

describe('MotionHistory', () => {
  it('reports displacements of past entries from now, oldest first, every N ticks', () => {
    const h = new MotionHistory(2, 3, 1);
    const out = new Float32Array(2);
    // Positions 0, 1, 2, … one per tick: entries are 6 and 3 ticks back.
    for (let t = 0; t <= 9; t++) h.push(row(t), out);
    expect([...out]).toEqual([-6, -3]);
  });

  it('uses the first position before the episode has that much past, and forgets it on reset', () => {
    const h = new MotionHistory(3, 2, 2);
    const out = new Float32Array(6);
    h.push(row(1, 10), out);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
    h.push(row(2, 10), out);
    h.push(row(4, 7), out);
    // Tick 2: 6, 4 and 2 ticks back are all before the start → the first position (1, 10); 2 back is tick 0 too.
    expect([...out]).toEqual([-3, 3, -3, 3, -3, 3]);
    h.reset();
    h.push(row(5, 5), out);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('keeps working past the ring length (many episodes of ticks)', () => {
    const h = new MotionHistory(4, 5, 1);
    const out = new Float32Array(4);
    for (let t = 0; t < 1000; t++) h.push(row(t * 0.5), out);
    expect([...out]).toEqual([-10, -7.5, -5, -2.5]);
  });

  it('counts only the position entries of a proprio vector', () => {
    expect(positionCount(['position.a', 'position.b', 'velocity.a', 'velocity.b', 'gripper_opening'])).toBe(2);
    expect(positionCount(['gripper_opening'])).toBe(0);
  });
});

/** Examples with only the fields the context reads: two joints, two smell channels, a 2-row window. */
function examples(episodes: number[]): PolicyExample[] {
  return episodes.map((episode, i) => ({
    episode,
    proprio: row(i, -i, 99),
    smell: row(0, 0, 1000 + i, 2000 + i),
    smell_valid: Uint8Array.from([0, 1]),
    mask: Uint8Array.from([0, 0, 0, 0]),
  })) as unknown as PolicyExample[];
}
const LAYOUT = { proprio: { names: ['position.a', 'position.b', 'velocity.a'] }, smell: { channels: ['mox0', 'mox1'] } };

describe('attachContext', () => {
  it('gives dataset frames the context a live runner would see, restarting at each episode', () => {
    const config = { proprio_history: { steps: 2, every: 2 } };
    const data = examples([0, 0, 0, 0, 0, 1, 1, 1]);
    attachContext(data, config, LAYOUT);
    const live = new EpisodeContext(config, LAYOUT);
    data.forEach((ex, i) => {
      if (i === 5) live.reset();
      const seen = live.observe({ ...ex, history: undefined, smell_baseline: undefined });
      expect([...ex.history!]).toEqual([...seen.history!]);
      expect([...ex.smell_baseline!]).toEqual([...seen.smell_baseline!]);
    });
    // The first frame of the second episode has no past: zero displacement, not a jump from episode 0.
    expect([...data[5].history!]).toEqual([0, 0, 0, 0]);
    expect([...data[4].history!]).toEqual([-4, 4, -2, 2]);
    // The baseline is each episode's first reading, kept for the whole episode.
    expect([...data[4].smell_baseline!]).toEqual([1000, 2000]);
    expect([...data[7].smell_baseline!]).toEqual([1005, 2005]);
  });

  it('a tick without proprio enters the history as the last known position, and before any as nothing', () => {
    const context = new EpisodeContext({ proprio_history: { steps: 1, every: 1 } }, LAYOUT);
    const [a, b, c, d] = examples([0, 0, 0, 0]);
    // The first live frame often has nothing yet (samples still in flight): proprio masked, zeros.
    a.mask[3] = 1;
    a.proprio.fill(0);
    expect([...context.observe(a, true).history!]).toEqual([0, 0]);
    expect([...context.observe(b, true).history!]).toEqual([0, 0]);
    c.mask[3] = 1;
    c.proprio.fill(0);
    // Held at b's position (1, −1), not zero.
    expect([...context.observe(c, true).history!]).toEqual([0, 0]);
    expect([...context.observe(d, true).history!]).toEqual([1 - 3, -1 + 3]);
  });

  it('waits for a valid, positive smell reading before taking a baseline', () => {
    const context = new EpisodeContext({ proprio_history: { steps: 0, every: 1 } }, LAYOUT);
    const [a, b, c] = examples([0, 0, 0]);
    a.smell_valid.fill(0);
    b.smell.set([0, 0, -5, 7]);
    expect(context.observe(a).smell_baseline).toBeUndefined();
    expect(context.observe(b).smell_baseline).toBeUndefined();
    expect([...context.observe(c).smell_baseline!]).toEqual([1002, 2002]);
    expect(c.history).toBeUndefined();
  });
});
