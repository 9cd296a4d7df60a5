// Teleoperation from the terminal: raw-mode keys drive the session (motion
// while a key is held — the dead-man rule — and one-press episode commands),
// and a status line at the bottom shows each stream's rate and age, with a
// warning line printed the moment a stream degrades while recording.
import type { TeleopConfig } from './config.ts';
import { decodeKeys, KeyHoldTracker, KITTY_POP, KITTY_PUSH, type KeyEvent } from './keys.ts';
import { axesFromKeys, heldKeysOf } from './mixer.ts';
import type { EpisodeCommand, RecordingSession, SessionEvent } from './session.ts';
import { formatStatus } from './status.ts';

export interface TerminalOptions {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  config: TeleopConfig;
  /** Redraws of the status line per second. */
  statusHz?: number;
}

const label = (keys: string[]) => keys.map((k) => (k === ' ' ? 'space' : k)).join('/');

export function keyHelp(config: TeleopConfig): string[] {
  const k = config.keys;
  return [
    `move (hold): ${label(k.forward)} fwd, ${label(k.back)} back, ${label(k.left)} left, ${label(k.right)} right, ${label(k.up)} up, ${label(k.down)} down, ${label(k.yaw_left)}/${label(k.yaw_right)} yaw`,
    `gripper: ${label(k.gripper_close)} close (hold), ${label(k.gripper_open)} open (hold), ${label(k.gripper_toggle)} toggle`,
    `episode: ${label(k.start)} start, ${label(k.save_success)} save success, ${label(k.save_failure)} save failure, ${label(k.discard)} discard, ${label(k.rerecord)} re-record, ${label(k.quit)} or Ctrl-C quit`,
  ];
}

export class TerminalTeleop {
  private readonly tracker: KeyHoldTracker;
  private readonly motionKeys: Set<string>;
  private readonly commandKeys = new Map<string, EpisodeCommand | 'quit' | 'toggle'>();
  private timer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private done!: () => void;
  private quitting = false;

  constructor(
    private readonly session: RecordingSession,
    private readonly opts: TerminalOptions,
  ) {
    const k = opts.config.keys;
    this.tracker = new KeyHoldTracker(opts.config.deadman.key_hold_ms);
    this.motionKeys = heldKeysOf(k);
    const bind = (keys: string[], what: EpisodeCommand | 'quit' | 'toggle') => keys.forEach((key) => this.commandKeys.set(key, what));
    bind(k.start, 'start');
    bind(k.save_success, 'save_success');
    bind(k.save_failure, 'save_failure');
    bind(k.discard, 'discard');
    bind(k.rerecord, 'rerecord');
    bind(k.gripper_toggle, 'toggle');
    bind(k.quit, 'quit');
  }

  private get color(): boolean {
    return this.opts.output.isTTY === true && !process.env.NO_COLOR;
  }

  /** Prints a line above the status line. */
  print(line: string): void {
    this.opts.output.write(`\r\x1b[2K${line}\n`);
    this.drawStatus();
  }

  private drawStatus(): void {
    const width = this.opts.output.columns || 160;
    this.opts.output.write(`\r\x1b[2K${formatStatus(this.session.status(), { color: this.color, width })}`);
  }

  private onEvent(e: SessionEvent): void {
    const mark = e.level === 'info' ? '·' : e.level === 'warn' ? '⚠' : '✖';
    const paint = this.color ? (e.level === 'warn' ? '\x1b[33m' : e.level === 'error' ? '\x1b[31m' : '') : '';
    this.print(`${paint}${mark} ${e.message}${paint ? '\x1b[0m' : ''}`);
  }

  private onKey(ev: KeyEvent, nowMs: number): void {
    if (ev.ctrl && ev.key === 'c') return void this.quit();
    if (this.motionKeys.has(ev.key)) {
      this.tracker.event(ev, nowMs);
      return;
    }
    if (ev.kind !== 'press') return;
    const what = this.commandKeys.get(ev.key);
    if (!what) return;
    if (what === 'quit') return void this.quit();
    if (what === 'toggle') return this.session.gripper('toggle');
    void this.session.command(what).then((r) => {
      if (!r.ok) this.print(`✖ ${what.replace('_', ' ')}: ${r.message}`);
    });
  }

  private async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    this.print('· quitting');
    this.done();
  }

  /** Runs until the operator quits; restores the terminal whatever happens. */
  async run(): Promise<void> {
    const { input, output, config } = this.opts;
    if (!input.isTTY) throw new Error('stdin is not a terminal');
    // The key help goes out before the replayed session events draw the first status line, so whoever sees a status line has the help above it.
    output.write(KITTY_PUSH);
    for (const line of keyHelp(config)) output.write(`${line}\n`);
    const off = this.session.on((e) => this.onEvent(e), true);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    const onData = (chunk: string) => {
      const now = performance.now();
      for (const ev of decodeKeys(chunk)) this.onKey(ev, now);
    };
    input.on('data', onData);
    const tickMs = 1000 / config.control_hz;
    this.timer = setInterval(() => {
      const now = performance.now();
      const held = this.tracker.held(now);
      // Refresh the hold every tick; if this loop stalls, the session's dead-man expires it.
      if (held.size) this.session.hold('terminal', axesFromKeys(held, config.keys), 3 * tickMs);
      else this.session.release('terminal');
    }, tickMs);
    this.statusTimer = setInterval(() => this.drawStatus(), 1000 / (this.opts.statusHz ?? 4));
    const onSignal = () => void this.quit();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    try {
      await new Promise<void>((resolve) => (this.done = resolve));
    } finally {
      if (this.timer) clearInterval(this.timer);
      if (this.statusTimer) clearInterval(this.statusTimer);
      this.session.release('terminal');
      input.off('data', onData);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      await this.session.close();
      off();
      output.write(`\r\x1b[2K`);
      output.write(KITTY_POP);
      input.setRawMode(false);
      input.pause();
    }
  }
}
