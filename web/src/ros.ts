// The page's own link to the robot's rosbridge (roslib in the browser), so the
// live panels work the same against `senseact sim serve` and a real robot.
// roslib does not reconnect by itself: after a drop we call connect() again
// every second. A link that is open but silent for 1.5 s reads as 'stalled'.
import * as ROSLIB from 'roslib';

export type LinkState = 'connecting' | 'connected' | 'stalled' | 'disconnected';

export class RosLink {
  readonly ros: ROSLIB.Ros;
  state: LinkState = 'connecting';
  detail = '';
  private lastMessageMs = 0;
  private everConnected = false;
  private retry: number | null = null;
  private readonly listeners = new Set<(state: LinkState, detail: string) => void>();

  constructor(readonly url: string) {
    this.ros = new ROSLIB.Ros({});
    this.ros.on('connection', () => {
      this.everConnected = true;
      this.lastMessageMs = performance.now();
      this.set('connected', `connected to ${url}`);
    });
    this.ros.on('close', () => {
      this.set('disconnected', this.everConnected ? `connection to ${url} lost; retrying every second` : `cannot reach ${url}; retrying every second`);
      this.scheduleRetry();
    });
    this.ros.on('error', () => {});
    this.ros.connect(url).catch(() => {});
    window.setInterval(() => {
      if (this.state === 'connected' && performance.now() - this.lastMessageMs > 1500) this.set('stalled', `no message from ${url} for 1.5 s`);
    }, 250);
  }

  onState(cb: (state: LinkState, detail: string) => void): void {
    this.listeners.add(cb);
    cb(this.state, this.detail);
  }

  private set(state: LinkState, detail: string): void {
    if (state === this.state && detail === this.detail) return;
    this.state = state;
    this.detail = detail;
    for (const l of this.listeners) l(state, detail);
  }

  private scheduleRetry(): void {
    if (this.retry !== null) return;
    this.retry = window.setTimeout(() => {
      this.retry = null;
      if (!this.ros.isConnected) this.ros.connect(this.url).catch(() => {});
    }, 1000);
  }

  subscribe<T>(name: string, messageType: string, cb: (msg: T) => void, throttleMs = 0): ROSLIB.Topic<T> {
    const t = new ROSLIB.Topic<T>({ ros: this.ros, name, messageType, throttle_rate: throttleMs, queue_length: 1 });
    t.subscribe((msg) => {
      this.lastMessageMs = performance.now();
      if (this.state === 'stalled') this.set('connected', `connected to ${this.url}`);
      cb(msg);
    });
    return t;
  }
}
