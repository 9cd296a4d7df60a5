// Feeds simulator samples into senseact Streams in receive order on the sim
// clock, and builds the synchronizer frame for each control tick — the same
// path a robot's samples take, so eval measures the deployed pipeline.
import { ManualClock, Stream, Synchronizer, type Frame, type StreamConfigInput } from '../sensors/index.ts';

/** Any sample-shaped value; Stream.push validates it against the sensors/ schemas. */
type Incoming = { stream: string; t_capture_ns: number; t_receive_ns: number };

export class SimFeed {
  readonly clock = new ManualClock(0);
  readonly streams: Stream[];
  private readonly sync: Synchronizer;
  private pending: Incoming[] = [];

  constructor(names: readonly string[], rates: Record<string, number>, history: Record<string, number> = {}) {
    this.streams = names.map((name) => {
      const cfg: StreamConfigInput = rates[name] ? { expected_hz: rates[name] } : {};
      return new Stream(name, { clock: this.clock, config: cfg });
    });
    this.sync = new Synchronizer(this.streams, { slots: Object.fromEntries(Object.entries(history).map(([k, h]) => [k, { history: h }])) });
  }

  add(samples: readonly Incoming[]): void {
    const wanted = new Set(this.streams.map((s) => s.name));
    for (const s of samples) if (wanted.has(s.stream)) this.pending.push(s);
    this.pending.sort((a, b) => a.t_receive_ns - b.t_receive_ns || a.t_capture_ns - b.t_capture_ns);
  }

  /** Delivers every sample received by `tNs` and returns the frame at `tNs`. */
  frame(tNs: number): Frame {
    const byName = new Map(this.streams.map((s) => [s.name, s]));
    let i = 0;
    while (i < this.pending.length && this.pending[i].t_receive_ns <= tNs) {
      const s = this.pending[i++];
      this.clock.set(s.t_receive_ns);
      byName.get(s.stream)!.push(s);
    }
    this.pending = this.pending.slice(i);
    this.clock.set(tNs);
    return this.sync.frame(tNs);
  }
}
