// Clocks are injected, never read from globals inside the logic: a Stream, the
// Synchronizer and the log writer take a `Clock`, so tests and replays drive
// time explicitly (a ManualClock) while live code uses the system clock.

export const NS_PER_S = 1e9;
export const NS_PER_MS = 1e6;

export interface Clock {
  /** Current time in integer nanoseconds (epoch for the system clock). */
  nowNs(): number;
}

/**
 * Wall-clock nanoseconds since the Unix epoch, from the monotonic
 * `performance.now()` anchored at `performance.timeOrigin`. At epoch scale a
 * double holds nanoseconds to within 256 ns (see schemas.ts).
 */
export const systemClock: Clock = {
  nowNs: () => Math.round((performance.timeOrigin + performance.now()) * NS_PER_MS),
};

/** A clock that moves only when told to: for tests and log replay. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  nowNs(): number {
    return this.t;
  }
  set(tNs: number): this {
    this.t = tNs;
    return this;
  }
  advance(dtNs: number): this {
    this.t += dtNs;
    return this;
  }
  advanceS(dtS: number): this {
    this.t += Math.round(dtS * NS_PER_S);
    return this;
  }
}

export const sToNs = (s: number): number => Math.round(s * NS_PER_S);
export const nsToS = (ns: number): number => ns / NS_PER_S;
