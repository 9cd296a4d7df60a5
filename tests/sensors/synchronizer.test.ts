import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, Stream, Synchronizer, levelValue, type Frame, type Sample } from '../../sensors/index.ts';

const T0 = 1_700_000_000_000_000_000;
const MS = 1e6;

const DATA: Record<string, (i: number) => unknown> = {
  'tactile/left': (i) => ({ pad: 'left', rows: 1, cols: 1, forces: new Float32Array([0, 0, (i % 7) * 0.1]) }),
  proprio: (i) => ({ names: ['j'], position: [i * 0.001], velocity: [0], effort: [0], gripper_opening: 0.01, gripper_force: 0 }),
  smell: (i) => ({ channels: ['a'], units: ['ohm'], values: [1000 + i], temperature_c: 25, humidity_pct: 40, heater_step: 0, warmed_up: true }),
};
const NAMES = Object.keys(DATA);

interface Plan {
  /** Per stream: capture intervals (ms) and receive latencies (ms). */
  streams: { intervals: number[]; latencies: number[] }[];
  ticks: number[];
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  streams: fc.tuple(
    ...NAMES.map(() =>
      fc
        .array(fc.tuple(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 60 })), { maxLength: 60 })
        .map((pairs) => ({ intervals: pairs.map((p) => p[0]), latencies: pairs.map((p) => p[1]) })),
    ),
  ),
  ticks: fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 25 }),
});

/** Builds streams, pushes every sample in receive order, returns frames at the ticks. */
function run(plan: Plan): { frames: Frame[]; pushed: Map<string, Sample[]> } {
  const clock = new ManualClock(T0);
  const streams = NAMES.map((n) => new Stream(n, { clock, config: { buffer_s: 100, max_samples: 100_000 } }));
  const all: Sample[] = [];
  plan.streams.forEach((spec, k) => {
    let t = T0;
    spec.intervals.forEach((dt, i) => {
      t += dt * MS;
      all.push({ stream: NAMES[k], t_capture_ns: t, t_receive_ns: t + spec.latencies[i] * MS, seq: i, data: DATA[NAMES[k]](i) } as Sample);
    });
  });
  all.sort((a, b) => a.t_receive_ns - b.t_receive_ns);
  const sync = new Synchronizer(streams);
  const pushed = new Map<string, Sample[]>(NAMES.map((n) => [n, []]));
  const ticks = [...plan.ticks].sort((a, b) => a - b).map((ms) => T0 + ms * MS);
  const frames: Frame[] = [];
  let next = 0;
  for (const t of ticks) {
    while (next < all.length && all[next].t_receive_ns <= t) {
      const s = all[next++];
      clock.set(s.t_receive_ns);
      const r = streams[NAMES.indexOf(s.stream)].push(s);
      if (r.ok) pushed.get(s.stream)!.push(r.sample);
    }
    clock.set(t);
    frames.push(sync.frame(t));
  }
  return { frames, pushed };
}

describe('Synchronizer', () => {
  it('property: no frame ever holds a sample captured or received after t, and each slot is the newest one known', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const { frames, pushed } = run(plan);
        for (const f of frames) {
          for (const name of NAMES) {
            const slot = f.slots[name];
            const known = pushed.get(name)!.filter((s) => s.t_capture_ns <= f.t_ns && s.t_receive_ns <= f.t_ns);
            const newest = known.reduce<Sample | null>((a, s) => (a === null || s.t_capture_ns > a.t_capture_ns ? s : a), null);
            if (slot.sample) {
              expect(slot.sample.t_capture_ns).toBeLessThanOrEqual(f.t_ns);
              expect(slot.sample.t_receive_ns).toBeLessThanOrEqual(f.t_ns);
            }
            expect(slot.sample).toBe(newest);
            for (const h of slot.history) expect(h.t_capture_ns <= f.t_ns && h.t_receive_ns <= f.t_ns).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: masks match staleness, missing data and health exactly', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        const { frames } = run(plan);
        for (const f of frames) {
          for (const name of NAMES) {
            const slot = f.slots[name];
            const maxAge = 2 / { 'tactile/left': 100, proprio: 100, smell: 2 }[name]!;
            const stale = slot.age_s !== null && slot.age_s > maxAge;
            const unhealthy = levelValue(slot.health) >= levelValue('ERROR');
            expect(slot.masked).toBe(slot.sample === null || stale || unhealthy);
            if (slot.sample) expect(slot.age_s).toBeCloseTo((f.t_ns - slot.sample.t_capture_ns) / 1e9, 6);
            expect(slot.reason).toBe(slot.sample === null ? 'missing' : stale ? 'stale' : unhealthy ? 'unhealthy' : 'ok');
            expect(f.masked.includes(name)).toBe(slot.masked);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: deterministic — the same inputs give the same frames', () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        expect(run(plan).frames).toEqual(run(plan).frames);
      }),
      { numRuns: 50 },
    );
  });

  it('gives slow streams a history window, oldest first, ending with the latest sample', () => {
    const clock = new ManualClock(T0);
    const nose = new Stream('smell', { clock });
    const prop = new Stream('proprio', { clock });
    for (let i = 0; i < 10; i++) {
      const t = T0 + i * 500 * MS;
      clock.set(t + MS);
      expect(nose.push({ stream: 'smell', t_capture_ns: t, t_receive_ns: t + MS, seq: i, data: DATA.smell(i) }).ok).toBe(true);
    }
    const sync = new Synchronizer([nose, prop], { slots: { smell: { history: 4 } } });
    const t = T0 + 4600 * MS;
    const f = sync.frame(t);
    expect(f.slots.smell.history.map((s) => s.seq)).toEqual([6, 7, 8, 9]);
    expect(f.slots.smell.sample!.seq).toBe(9);
    expect(f.slots.smell.age_s).toBeCloseTo(0.1, 9);
    expect(f.slots.smell.masked).toBe(false);
    expect(f.slots.proprio).toMatchObject({ sample: null, masked: true, reason: 'missing' });
    expect(f.masked).toEqual(['proprio']);
    // 1.5 s later the last smell sample is 1.6 s old: beyond 2 periods (1 s) → stale.
    expect(sync.frame(t + 1500 * MS).slots.smell).toMatchObject({ masked: true, reason: 'stale' });
  });

  it('masks a fresh sample when its stream is unhealthy', () => {
    const clock = new ManualClock(T0);
    const tac = new Stream('tactile/left', { clock });
    for (let i = 0; i < 100; i++) {
      const t = T0 + i * 10 * MS;
      clock.set(t);
      tac.push({ stream: 'tactile/left', t_capture_ns: t, t_receive_ns: t, seq: i, data: DATA['tactile/left'](i) });
    }
    const t = T0 + 1000 * MS;
    clock.set(t);
    tac.push({ stream: 'tactile/left', t_capture_ns: t, t_receive_ns: t, seq: 100, data: { pad: 'left', rows: 1, cols: 1, forces: new Float32Array([0, 0, Number.NaN]) } });
    const slot = new Synchronizer([tac]).frame(t + MS).slots['tactile/left'];
    expect(slot).toMatchObject({ masked: true, reason: 'unhealthy', health: 'ERROR' });
    expect(slot.health_message).toMatch(/data\.forces\.2/);
  });
});
