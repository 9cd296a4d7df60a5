// The simulator in real time: steps the env so that sim time follows the wall
// clock, releases each sample when the wall clock reaches its capture time,
// and holds the latest command with a watchdog (no command for 0.5 s → stop),
// as a real robot driver would.
import { SimEnv, STEP_NS } from './env.ts';
import { CONTROL_HZ } from './layout.ts';
import type { SimAction } from './action.ts';
import type { Sample } from './samples.ts';

const TICK_NS = 1e9 / CONTROL_HZ;
const WATCHDOG_NS = 500e6;
const POLL_MS = 5;

export class LiveSim {
  private readonly queue: Sample[] = [];
  private readonly action: SimAction = { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 };
  private lastTwistNs = -Infinity;
  private wallStartMs = 0;
  private simStartNs = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private resetting: Promise<void> | null = null;
  /** Wall-clock epoch ns of sim time 0 of the current episode, for message stamps. */
  epochAtStartNs = 0;
  onSample: (s: Sample) => void = () => {};
  onError: (err: Error) => void = () => {};

  constructor(readonly env: SimEnv) {}

  async start(seed: number): Promise<void> {
    await this.reset(seed);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Stops stepping; resolves once a step in flight has finished, so the env can be closed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.busy) await new Promise((r) => setTimeout(r, 1));
  }

  /** Sim time now, following the wall clock. */
  nowNs(): number {
    return this.simStartNs + (performance.now() - this.wallStartMs) * 1e6;
  }

  setTwist(linear: [number, number, number], angular: [number, number, number]): void {
    this.action.linear[0] = linear[0];
    this.action.linear[1] = linear[1];
    this.action.linear[2] = linear[2];
    this.action.angular[0] = angular[0];
    this.action.angular[1] = angular[1];
    this.action.angular[2] = angular[2];
    this.lastTwistNs = this.env.timeNs;
  }

  setGripper(g: number): void {
    this.action.gripper = g;
  }

  async reset(seed: number): Promise<void> {
    // Wait for an in-flight step, then rebuild the world; samples of the old episode are dropped.
    while (this.busy) await new Promise((r) => setTimeout(r, 1));
    this.busy = true;
    try {
      this.queue.length = 0;
      this.action.linear.fill(0);
      this.action.angular.fill(0);
      this.action.gripper = 0;
      this.lastTwistNs = -Infinity;
      const first = await this.env.reset(seed);
      this.wallStartMs = performance.now();
      this.simStartNs = this.env.timeNs;
      // Stamps are epoch + sim time: the episode's first sample is stamped now.
      this.epochAtStartNs = Date.now() * 1e6 - this.env.timeNs;
      this.queue.push(...first);
    } finally {
      this.busy = false;
    }
  }

  private async poll(): Promise<void> {
    if (this.busy || !this.timer) return;
    this.busy = true;
    try {
      const now = this.nowNs();
      // Keep one control tick of lookahead so samples are ready when their time comes.
      while (this.env.timeNs < now + TICK_NS) {
        if (this.env.timeNs - this.lastTwistNs > WATCHDOG_NS) {
          this.action.linear.fill(0);
          this.action.angular.fill(0);
        }
        this.queue.push(...(await this.env.step(this.action)));
        // If the sim falls behind the wall clock (a slow frame, a busy machine), skip ahead
        // rather than bursting a backlog of stale samples at the client.
        const lag = this.nowNs() - this.env.timeNs;
        // Header stamps stay on the wall clock: the skipped span is a gap in the stamps, as a stalled sensor shows.
        if (lag > 250e6) {
          this.simStartNs -= lag;
          this.epochAtStartNs += lag;
        }
      }
      this.queue.sort((a, b) => a.t_capture_ns - b.t_capture_ns);
      let n = 0;
      while (n < this.queue.length && this.queue[n].t_capture_ns <= now) n++;
      const due = this.queue.splice(0, n);
      for (const s of due) this.onSample(s);
    } catch (err) {
      this.onError(err as Error);
    } finally {
      this.busy = false;
    }
  }
}

export { STEP_NS };
