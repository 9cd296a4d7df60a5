// Maps a peer's header stamps onto our clock when the two clocks are not
// synchronized (a robot without chrony, or `sim serve`, whose stamps fall
// behind the wall clock each time the simulation lags and skips ahead).
//
// offset = the smallest (receive − header) seen over the last `window_s`:
// the least-delayed message defines the clock offset, so mapped capture
// times keep their real transport latency and are never in the future. A
// step of the peer's clock *backwards* by less than `step_tolerance_s` (the
// peer fell behind) is followed within `step_follow_s`. A step larger than
// `step_tolerance_s`, either way, is a clock jump: samples keep the old
// offset, so sensors/ sees the jump (capture in the future, or going
// backwards: rejected, ERROR) — until the new offset has held for
// `reanchor_after_s`, when the tracker re-anchors to it (reported once).

export interface ClockTrackerOptions {
  window_s: number;
  step_follow_s: number;
  step_tolerance_s: number;
  reanchor_after_s: number;
}

export const DEFAULT_CLOCK_TRACKING: ClockTrackerOptions = { window_s: 2, step_follow_s: 0.25, step_tolerance_s: 1, reanchor_after_s: 3 };

export interface Mapped {
  captureNs: number;
  /** This sample is off by more than the tolerance from the tracked offset. */
  jumped: boolean;
  /** The tracker re-anchored on this sample (a persistent jump). */
  reanchored: boolean;
  /** The jump, s (new offset − old), when jumped or reanchored. */
  stepS: number;
}

export class ClockTracker {
  private offset: number | null = null;
  private readonly t: number[] = [];
  private readonly d: number[] = [];
  private jumpSinceNs: number | null = null;

  constructor(private readonly o: ClockTrackerOptions = DEFAULT_CLOCK_TRACKING) {}

  get offsetNs(): number | null {
    return this.offset;
  }

  map(headerNs: number, receiveNs: number): Mapped {
    const d = receiveNs - headerNs;
    if (this.offset === null) {
      this.offset = d;
      this.push(receiveNs, d);
      return { captureNs: receiveNs, jumped: false, reanchored: false, stepS: 0 };
    }
    const dev = d - this.offset;
    if (Math.abs(dev) > this.o.step_tolerance_s * 1e9) {
      this.jumpSinceNs ??= receiveNs;
      if (receiveNs - this.jumpSinceNs >= this.o.reanchor_after_s * 1e9) {
        this.t.length = 0;
        this.d.length = 0;
        this.offset = d;
        this.push(receiveNs, d);
        this.jumpSinceNs = null;
        return { captureNs: headerNs + d, jumped: false, reanchored: true, stepS: dev / 1e9 };
      }
      return { captureNs: Math.round(headerNs + this.offset), jumped: true, reanchored: false, stepS: dev / 1e9 };
    }
    this.jumpSinceNs = null;
    this.push(receiveNs, d);
    // Drop what left the window; the least-delayed message in it sets the offset.
    const horizon = receiveNs - this.o.window_s * 1e9;
    let drop = 0;
    while (drop < this.t.length - 1 && this.t[drop] < horizon) drop++;
    if (drop) {
      this.t.splice(0, drop);
      this.d.splice(0, drop);
    }
    let longMin = Infinity;
    let shortMin = Infinity;
    const recent = receiveNs - this.o.step_follow_s * 1e9;
    for (let i = 0; i < this.d.length; i++) {
      if (this.d[i] < longMin) longMin = this.d[i];
      if (this.t[i] >= recent && this.d[i] < shortMin) shortMin = this.d[i];
    }
    // Every message of the last step_follow_s is later than the window says: the peer's clock fell behind.
    const covered = this.t[0] <= recent;
    if (covered && shortMin - longMin > 20e6) {
      let k = 0;
      while (k < this.t.length && this.t[k] < recent) k++;
      this.t.splice(0, k);
      this.d.splice(0, k);
      longMin = shortMin;
    }
    this.offset = longMin;
    return { captureNs: Math.round(headerNs + this.offset), jumped: false, reanchored: false, stepS: 0 };
  }

  private push(t: number, d: number): void {
    this.t.push(t);
    this.d.push(d);
    if (this.t.length > 4096) {
      this.t.splice(0, 2048);
      this.d.splice(0, 2048);
    }
  }
}
