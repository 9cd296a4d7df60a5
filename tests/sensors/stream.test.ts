import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, rollup, Stream, worst, type StreamHealth } from '../../sensors/index.ts';

const T0 = 1_700_000_000_000_000_000;
const MS = 1e6;
const S = 1e9;

/** Feeds `stream` at `hz` over [from, to) seconds after T0, receive = capture + latency. */
function feed(
  stream: Stream,
  clock: ManualClock,
  hz: number,
  from: number,
  to: number,
  make: (t: number, seq: number) => unknown,
  opts: { latencyNs?: number; captureOffsetNs?: number; seq0?: number } = {},
): number {
  let seq = opts.seq0 ?? 0;
  const period = S / hz;
  for (let t = from * S; t < to * S - 1; t += period) {
    const capture = Math.round(T0 + t + (opts.captureOffsetNs ?? 0));
    const receive = Math.round(T0 + t + (opts.latencyNs ?? MS));
    clock.set(receive);
    stream.push({ stream: stream.name, t_capture_ns: capture, t_receive_ns: receive, seq, data: make(capture, seq) });
    seq++;
  }
  return seq;
}

const frame = (seq: number) => ({ encoding: 'rgb8', width: 2, height: 1, frame_id: 'c', data: new Uint8Array([seq & 255, 1, 2, 3, 4, 5]) });
const pad = (value: number) => ({ pad: 'left', rows: 1, cols: 1, forces: new Float32Array([0, 0, value]) });
const smell = (warmed: boolean, voc = 100) => ({
  channels: ['voc'],
  units: ['voc_index'],
  values: [voc],
  temperature_c: 25,
  humidity_pct: 40,
  heater_step: 0,
  warmed_up: warmed,
});
const at = (s: number) => T0 + Math.round(s * S);
const check = (h: StreamHealth, name: string) => h.checks.find((c) => c.name === name);

describe('Stream health', () => {
  it('a steady stream is OK and measures its rate', () => {
    const clock = new ManualClock();
    const cam = new Stream('camera/wrist', { clock });
    feed(cam, clock, 30, 0, 5, (_t, i) => frame(i));
    const h = cam.health();
    expect(h.level).toBe('OK');
    expect(h.rate_hz).toBeCloseTo(30, 5);
    expect(h.counters.accepted).toBe(150);
  });

  it('rate drop: WARN below min·(1−tolerance), ERROR below half the expected rate', () => {
    const clock = new ManualClock();
    const cam = new Stream('camera/wrist', { clock });
    let seq = feed(cam, clock, 30, 0, 3, (_t, i) => frame(i));
    expect(cam.health().level).toBe('OK');
    seq = feed(cam, clock, 20, 3, 6, (_t, i) => frame(i), { seq0: seq });
    let h = cam.health();
    expect(h.level).toBe('WARN');
    expect(check(h, 'rate')!.message).toMatch(/^20\.0 Hz, below 27\.0 Hz$/);
    feed(cam, clock, 5, 6, 9, (_t, i) => frame(i), { seq0: seq });
    h = cam.health();
    expect(h.level).toBe('ERROR');
    expect(h.message).toMatch(/rate: 5\.00 Hz, far below/);
  });

  it('stop → STALE within two expected periods, and back to OK when data returns', () => {
    const clock = new ManualClock();
    const tac = new Stream('tactile/left', { clock });
    const seq = feed(tac, clock, 100, 0, 3, () => pad(1));
    const last = tac.latest()!.t_capture_ns;
    expect(tac.health(last + 15 * MS).level).toBe('OK');
    // +1 µs: at epoch scale a double cannot hold +1 ns (256 ns steps).
    const h = tac.health(last + 20 * MS + 1000);
    expect(h.level).toBe('STALE');
    expect(h.message).toMatch(/no sample for 20 ms \(expected every 10 ms\)/);
    feed(tac, clock, 100, 3.5, 6, () => pad(1), { seq0: seq + 50 });
    // The restart shows as a sequence gap (WARN) until it is older than the hold time.
    expect(tac.health().level).toBe('OK');
  });

  it('a stream that never sent anything is STALE', () => {
    const h = new Stream('proprio', { clock: new ManualClock(T0) }).health();
    expect(h.level).toBe('STALE');
    expect(h.message).toMatch(/no data received/);
  });

  it('frozen data: identical camera frames for longer than the limit → WARN, cleared by a new frame', () => {
    const clock = new ManualClock();
    const cam = new Stream('camera/wrist', { clock });
    let seq = feed(cam, clock, 30, 0, 2, (_t, i) => frame(i));
    seq = feed(cam, clock, 30, 2, 4.5, () => frame(7), { seq0: seq });
    expect(cam.health().level).toBe('OK');
    seq = feed(cam, clock, 30, 4.5, 6, () => frame(7), { seq0: seq });
    const h = cam.health();
    expect(h.level).toBe('WARN');
    expect(check(h, 'frozen')!.message).toMatch(/identical data for 3\.\d\d s/);
    feed(cam, clock, 30, 6, 6.2, (_t, i) => frame(i), { seq0: seq });
    expect(cam.health().level).toBe('OK');
  });

  it('NaN burst: rejected with the field named, counted, ERROR while recent, OK after the hold time', () => {
    const clock = new ManualClock();
    const tac = new Stream('tactile/left', { clock });
    let seq = feed(tac, clock, 100, 0, 2, () => pad(1));
    const errors: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = at(2 + i * 0.01);
      clock.set(t + MS);
      const r = tac.push({ stream: 'tactile/left', t_capture_ns: t, t_receive_ns: t + MS, seq: seq++, data: pad(Number.NaN) });
      expect(r.ok).toBe(false);
      if (!r.ok) errors.push(r.error.path.join('.'));
    }
    expect(errors).toEqual(Array(5).fill('data.forces.2'));
    seq = feed(tac, clock, 100, 2.05, 3, () => pad(1), { seq0: seq });
    const h = tac.health();
    expect(h.level).toBe('ERROR');
    expect(h.counters.malformed).toBe(5);
    expect(check(h, 'values')!.message).toMatch(/^5 malformed samples rejected in the last 2\.00 s; latest: data\.forces\.2: force is NaN/);
    feed(tac, clock, 100, 3, 4.5, () => pad(1), { seq0: seq });
    expect(tac.health().level).toBe('OK');
  });

  it('out-of-range values are ERROR (a 200 N taxel is a broken sensor)', () => {
    const clock = new ManualClock();
    const tac = new Stream('tactile/left', { clock });
    feed(tac, clock, 100, 0, 1, (_t, i) => pad(i === 50 ? 200 : 1));
    const h = tac.health();
    expect(h.level).toBe('ERROR');
    expect(check(h, 'range')!.message).toMatch(/data\.forces\.2 = 200\.00 N exceeds ±50 N/);
    expect(h.counters.out_of_range).toBe(1);
  });

  it('clock jump forward: samples from the future are rejected and the stream goes ERROR', () => {
    const clock = new ManualClock();
    const tac = new Stream('tactile/left', { clock });
    const seq = feed(tac, clock, 100, 0, 2, () => pad(1));
    feed(tac, clock, 100, 2, 2.5, () => pad(1), { captureOffsetNs: 3 * S, seq0: seq });
    // Shortly after the jump the stream is ERROR; once nothing has been accepted for
    // two periods it is STALE (the worse verdict), with the timestamp ERROR beside it.
    const early = tac.health(at(2.005));
    expect(early.level).toBe('ERROR');
    const h = tac.health();
    expect(h.level).toBe('STALE');
    expect(check(h, 'timestamps')!.level).toBe('ERROR');
    expect(check(h, 'timestamps')!.message).toMatch(/capture time is 3\.00 s in the future \(the capture clock jumped forward\)/);
    expect(h.counters.bad_timestamp).toBe(50);
  });

  it('clock jump backward: samples going back in time are rejected', () => {
    const clock = new ManualClock();
    const tac = new Stream('tactile/left', { clock });
    const seq = feed(tac, clock, 100, 0, 2, () => pad(1));
    feed(tac, clock, 100, 2, 2.1, () => pad(1), { captureOffsetNs: -1 * S, seq0: seq });
    const h = tac.health();
    expect(h.level).toBe('STALE'); // nothing accepted for 100 ms: STALE is the worst verdict
    expect(check(h, 'timestamps')!.level).toBe('ERROR');
    expect(check(h, 'timestamps')!.message).toMatch(/went backwards by 900 ms/);
  });

  it('clock jump that stays in the past (a lagging sensor clock steps): ERROR from the jump check', () => {
    const clock = new ManualClock();
    // A sensor whose clock lags ours by 1.5 s; staleness is configured to allow it.
    const tac = new Stream('tactile/left', { clock, config: { stale_after_s: 3 } });
    const seq = feed(tac, clock, 100, 0, 2, () => pad(1), { captureOffsetNs: -1.5 * S });
    expect(tac.health().level).toBe('OK');
    feed(tac, clock, 100, 2, 2.5, () => pad(1), { captureOffsetNs: 0, seq0: seq });
    const h = tac.health();
    expect(h.level).toBe('ERROR');
    expect(check(h, 'clock')!.message).toMatch(/capture clock jumped \+1\.50 s relative to receive clock/);
    expect(h.counters.clock_jumps).toBe(1);
  });

  it('zero and repeated capture times are rejected', () => {
    const clock = new ManualClock(T0);
    const p = new Stream('proprio', { clock });
    const data = { names: ['j'], position: [0], velocity: [0], effort: [0], gripper_opening: 0, gripper_force: 0 };
    const zero = p.push({ stream: 'proprio', t_capture_ns: 0, t_receive_ns: T0, seq: 0, data });
    expect(zero.ok || zero.error.message).toBe('proprio: t_capture_ns: capture time is zero (sensor clock not set?)');
    expect(p.push({ stream: 'proprio', t_capture_ns: T0 - MS, t_receive_ns: T0, seq: 1, data }).ok).toBe(true);
    const dup = p.push({ stream: 'proprio', t_capture_ns: T0 - MS, t_receive_ns: T0, seq: 2, data });
    expect(dup.ok).toBe(false);
    expect(p.health(T0).counters).toMatchObject({ accepted: 1, rejected: 2, bad_timestamp: 1, duplicate: 1 });
  });

  it('warm-up: a smell sensor is WARN, not ERROR, until warmed up (even with odd values); ERROR past the timeout', () => {
    const clock = new ManualClock();
    const nose = new Stream('smell', { clock, config: { warmup_timeout_s: 60 } });
    // Index 0 is outside the VOC range 1..500: normally ERROR, capped to WARN while warming up.
    let seq = feed(nose, clock, 2, 0, 30, () => smell(false, 0));
    let h = nose.health();
    expect(h.level).toBe('WARN');
    expect(check(h, 'warmup')!.message).toMatch(/warming up \(29\.50 s so far\)/);
    expect(check(h, 'range')!.level).toBe('WARN');
    seq = feed(nose, clock, 2, 30, 35, () => smell(true), { seq0: seq });
    expect(nose.health().level).toBe('OK');
    const late = new Stream('smell', { clock, config: { warmup_timeout_s: 60 } });
    feed(late, clock, 2, 0, 70, () => smell(false));
    h = late.health();
    expect(h.level).toBe('ERROR');
    expect(check(h, 'warmup')!.message).toMatch(/still warming up after 69\.50 s/);
  });

  it('sequence gaps are WARN with the number lost upstream', () => {
    const clock = new ManualClock();
    const p = new Stream('tactile/left', { clock });
    const seq = feed(p, clock, 100, 0, 1, () => pad(1));
    feed(p, clock, 100, 1, 1.5, () => pad(1), { seq0: seq + 4 });
    const h = p.health();
    expect(h.level).toBe('WARN');
    expect(h.counters.lost_upstream).toBe(4);
    expect(check(h, 'sequence')!.message).toMatch(/4 samples lost upstream \(seq 99 → 104\)/);
  });

  it('the ring buffer is bounded in capture time', () => {
    const clock = new ManualClock();
    const p = new Stream('tactile/left', { clock, config: { buffer_s: 1 } });
    feed(p, clock, 100, 0, 20, () => pad(1));
    expect(p.length).toBeLessThanOrEqual(101);
    expect(p.latest()!.t_capture_ns - p.at(0).t_capture_ns).toBeLessThanOrEqual(S);
  });

  it('never throws on arbitrary input, and counts every rejection', () => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 30 }), (values) => {
        const s = new Stream('smell', { clock: new ManualClock(T0) });
        for (const v of values) s.push(v);
        const h = s.health();
        expect(h.counters.rejected + h.counters.accepted).toBe(values.length);
      }),
      { numRuns: 200 },
    );
  });

  it('rolls up to the worst level (STALE > ERROR > WARN > OK)', () => {
    expect(worst(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(worst(['ERROR', 'STALE', 'WARN'])).toBe('STALE');
    const v = rollup([
      { name: 'a', level: 'WARN', message: 'slow' },
      { name: 'b', level: 'OK', message: 'fine' },
    ]);
    expect(v).toMatchObject({ level: 'WARN', message: 'a: slow' });
  });
});
