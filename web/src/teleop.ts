// Operator input in the browser: keyboard (the same key map as the terminal),
// on-screen hold-to-move buttons and a gamepad (motion only while a dead-man
// button is held). Each source sends its held axes to the ui server at the
// control rate; the server's dead-man expires any input not refreshed, and a
// source that lets go (key up, pointer up, tab hidden, page closed) releases
// at once.
import type { GamepadMap, KeyMap } from '../../teleop/config.ts';
import { axesFromGamepad, axesFromKeys, heldKeysOf, zeroInput, type AxisInput } from '../../teleop/mixer.ts';
import type { UiConfig } from '../../teleop/api.ts';
import type { SessionLink } from './session.ts';

type EpisodeAction = 'start' | 'save_success' | 'save_failure' | 'discard' | 'rerecord';

const nonZero = (a: AxisInput) => a.x !== 0 || a.y !== 0 || a.z !== 0 || a.yaw !== 0 || a.gripper !== 0;

export class BrowserTeleop {
  private readonly keys: KeyMap;
  private readonly pad: GamepadMap;
  private readonly heldKeys = new Set<string>();
  private readonly motionKeys: Set<string>;
  private readonly episodeKeys = new Map<string, EpisodeAction | 'toggle'>();
  private readonly buttons = zeroInput();
  private readonly sending = { keyboard: false, buttons: false, gamepad: false };
  private prevPadButtons: boolean[] = [];
  onEpisode: (a: EpisodeAction) => void = () => {};

  constructor(
    private readonly session: SessionLink,
    config: UiConfig,
  ) {
    this.keys = config.keys as unknown as KeyMap;
    this.pad = config.gamepad as unknown as GamepadMap;
    this.motionKeys = heldKeysOf(this.keys);
    const bind = (list: string[], a: EpisodeAction | 'toggle') => list.forEach((k) => this.episodeKeys.set(k, a));
    bind(this.keys.start, 'start');
    bind(this.keys.save_success, 'save_success');
    bind(this.keys.save_failure, 'save_failure');
    bind(this.keys.discard, 'discard');
    bind(this.keys.rerecord, 'rerecord');
    bind(this.keys.gripper_toggle, 'toggle');

    window.addEventListener('keydown', (e) => this.onKey(e, true));
    window.addEventListener('keyup', (e) => this.onKey(e, false));
    // Dead-man: losing focus or visibility lets go of every key.
    window.addEventListener('blur', () => this.heldKeys.clear());
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) this.heldKeys.clear();
    });
    this.wireButtons();
    window.setInterval(() => this.tick(), 1000 / config.control_hz);
  }

  private onKey(e: KeyboardEvent, down: boolean): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (this.motionKeys.has(e.key)) {
      e.preventDefault();
      if (down) this.heldKeys.add(e.key);
      else this.heldKeys.delete(e.key);
      return;
    }
    const what = this.episodeKeys.get(e.key);
    if (!what || !down) return;
    e.preventDefault();
    if (e.repeat) return;
    if (what === 'toggle') this.session.send({ type: 'gripper', action: 'toggle' });
    else this.onEpisode(what);
  }

  private wireButtons(): void {
    for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-axis]')) {
      const axis = b.dataset.axis as keyof AxisInput;
      const dir = Number(b.dataset.dir);
      const press = (e: PointerEvent) => {
        e.preventDefault();
        b.setPointerCapture(e.pointerId);
        b.classList.add('held');
        this.buttons[axis] = dir;
      };
      const lift = () => {
        b.classList.remove('held');
        if (this.buttons[axis] === dir) this.buttons[axis] = 0;
      };
      b.addEventListener('pointerdown', press);
      b.addEventListener('pointerup', lift);
      b.addEventListener('pointercancel', lift);
      b.addEventListener('lostpointercapture', lift);
    }
    document.getElementById('gripper-toggle')!.addEventListener('click', () => this.session.send({ type: 'gripper', action: 'toggle' }));
  }

  private gamepad(): AxisInput | null {
    const pads = navigator.getGamepads?.() ?? [];
    const gp = pads.find((p) => p && p.connected) ?? null;
    const status = document.getElementById('gamepad-status')!;
    if (!gp) {
      status.textContent = 'gamepad: none (press a button to connect)';
      return null;
    }
    const input = axesFromGamepad(gp, this.pad);
    status.textContent = `gamepad: ${gp.id.slice(0, 40)} — ${input ? 'dead-man held' : `hold button ${this.pad.deadman_buttons.join(' or ')} to move`}`;
    // Episode buttons fire on press (edge), like keys.
    const pressed = gp.buttons.map((b) => b.pressed);
    const edge = (i: number) => pressed[i] && !this.prevPadButtons[i];
    const map: [number, EpisodeAction][] = [
      [this.pad.start_button, 'start'],
      [this.pad.save_success_button, 'save_success'],
      [this.pad.save_failure_button, 'save_failure'],
      [this.pad.discard_button, 'discard'],
      [this.pad.rerecord_button, 'rerecord'],
    ];
    for (const [i, a] of map) if (edge(i)) this.onEpisode(a);
    this.prevPadButtons = pressed;
    return input;
  }

  private send(source: 'keyboard' | 'buttons' | 'gamepad', input: AxisInput | null): boolean {
    if (input && nonZero(input)) {
      this.session.send({ type: 'hold', source, input });
      this.sending[source] = true;
      return true;
    }
    if (this.sending[source]) {
      this.session.send({ type: 'release', source });
      this.sending[source] = false;
    }
    return false;
  }

  private tick(): void {
    const a = this.send('keyboard', axesFromKeys(this.heldKeys, this.keys));
    const b = this.send('buttons', { ...this.buttons });
    const c = this.send('gamepad', this.gamepad());
    const el = document.getElementById('deadman')!;
    const engaged = a || b || c;
    el.dataset.engaged = String(engaged);
    el.textContent = engaged ? `moving (${[a && 'keys', b && 'buttons', c && 'gamepad'].filter(Boolean).join(', ')})` : 'released — motion only while held';
  }
}
