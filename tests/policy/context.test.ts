// Motion history: the memory that makes few-shot demonstrations nearly
// Markov. Training (attachHistory over recorded frames) and inference (the
// runner's live history) must give the same inputs for the same frames.
import { describe, expect, it } from 'vitest';
import { MotionHistory, attachHistory, positionCount } from '../../policy/history.ts';

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

describe('attachHistory', () => {
  it('gives dataset frames the history a live runner would see, restarting at each episode', () => {
    const config = { proprio_history: { steps: 2, every: 2 } };
    const examples = [0, 0, 0, 0, 0, 1, 1, 1].map((episode, i) => ({ episode, proprio: row(i, -i, 99) }));
    attachHistory(examples, config, 2);
    const live = new MotionHistory(2, 2, 2);
    const out = new Float32Array(4);
    examples.forEach((ex, i) => {
      if (i === 5) live.reset();
      live.push(ex.proprio, out);
      expect([...ex.history!]).toEqual([...out]);
    });
    // The first frame of the second episode has no past: zero displacement, not a jump from episode 0.
    expect([...examples[5].history!]).toEqual([0, 0, 0, 0]);
    expect([...examples[4].history!]).toEqual([-4, 4, -2, 2]);
  });

  it('attaches nothing when the config turns history off', () => {
    const examples = [{ episode: 0, proprio: row(1, 2) }] as { episode: number; proprio: Float32Array; history?: Float32Array }[];
    attachHistory(examples, { proprio_history: { steps: 0, every: 1 } }, 2);
    expect(examples[0].history).toBeUndefined();
  });
});
