// Terminal keyboard input in raw mode → key events named like the browser's
// KeyboardEvent.key ('w', 'ArrowUp', ' ', 'Enter').
//
// Most terminals send only key presses, and for a held key the keyboard's
// auto-repeat: there is no release. Terminals that speak the kitty keyboard
// protocol (kitty, foot, WezTerm, Ghostty, recent iTerm2, …) report press,
// repeat and release once asked with `CSI > flags u`; `KITTY_PUSH` asks for
// that and `KITTY_POP` restores the terminal. Other terminals ignore both.
// `KeyHoldTracker` turns either kind of input into "keys held now" for the
// dead-man rule: a key is held until its release, or — without release
// events — until `holdMs` after its last press or repeat.

export type KeyKind = 'press' | 'repeat' | 'release';

export interface KeyEvent {
  key: string;
  kind: KeyKind;
  ctrl: boolean;
  alt: boolean;
  /** True when the terminal reported the event type (kitty protocol): releases will come. */
  reportsRelease: boolean;
}

/** Disambiguate (1) + report event types (2) + alternate keys (4) + all keys as escape codes (8). */
export const KITTY_PUSH = '\x1b[>15u';
export const KITTY_POP = '\x1b[<u';

const CSI_LETTER: Record<string, string> = { A: 'ArrowUp', B: 'ArrowDown', C: 'ArrowRight', D: 'ArrowLeft', H: 'Home', F: 'End' };
const CSI_TILDE: Record<number, string> = { 2: 'Insert', 3: 'Delete', 5: 'PageUp', 6: 'PageDown', 1: 'Home', 7: 'Home', 4: 'End', 8: 'End' };
const CODEPOINT_NAMES: Record<number, string> = { 13: 'Enter', 9: 'Tab', 127: 'Backspace', 8: 'Backspace', 27: 'Escape' };
const KINDS: Record<number, KeyKind> = { 1: 'press', 2: 'repeat', 3: 'release' };

function modifiers(field: string | undefined): { shift: boolean; alt: boolean; ctrl: boolean; kind: KeyKind; explicit: boolean } {
  const [m, e] = (field ?? '').split(':');
  const bits = Math.max(0, (Number(m) || 1) - 1);
  const explicit = e !== undefined && e !== '';
  return { shift: (bits & 1) !== 0, alt: (bits & 2) !== 0, ctrl: (bits & 4) !== 0, kind: KINDS[Number(e)] ?? 'press', explicit };
}

/** Decodes one chunk of raw terminal input into key events (unknown sequences are dropped). */
export function decodeKeys(input: string): KeyEvent[] {
  const out: KeyEvent[] = [];
  let i = 0;
  const push = (key: string, kind: KeyKind = 'press', ctrl = false, alt = false, reportsRelease = false) => out.push({ key, kind, ctrl, alt, reportsRelease });
  while (i < input.length) {
    const rest = input.slice(i);
    if (rest[0] === '\x1b') {
      const csi = /^\x1b\[([0-9:;]*)([A-Za-z~])/.exec(rest);
      if (csi) {
        i += csi[0].length;
        const params = csi[1].split(';');
        const final = csi[2];
        const mods = modifiers(params[1]);
        if (final === 'u') {
          // CSI code[:shifted[:base]] ; mods[:event] [; text] u
          const [code, shifted] = params[0].split(':').map((s) => (s === '' ? NaN : Number(s)));
          if (!Number.isFinite(code)) continue;
          let name: string | undefined = CODEPOINT_NAMES[code];
          if (!name) {
            if (code >= 0xe000 && code <= 0xf8ff) continue; // kitty's private-use codes: modifier keys, keypad, media
            const cp = mods.shift && Number.isFinite(shifted) ? shifted : code;
            name = String.fromCodePoint(cp);
            if (mods.shift && !Number.isFinite(shifted) && name.length === 1) name = name.toUpperCase();
          }
          push(name, mods.kind, mods.ctrl, mods.alt, mods.explicit);
          continue;
        }
        if (final === '~') {
          const name = CSI_TILDE[Number(params[0])];
          if (name) push(name, mods.kind, mods.ctrl, mods.alt, mods.explicit);
          continue;
        }
        const name = CSI_LETTER[final];
        if (name) push(name, mods.kind, mods.ctrl, mods.alt, mods.explicit);
        continue;
      }
      const ss3 = /^\x1bO([A-Za-z])/.exec(rest);
      if (ss3) {
        i += ss3[0].length;
        const name = CSI_LETTER[ss3[1]];
        if (name) push(name);
        continue;
      }
      if (rest.length >= 2 && rest[1] !== '[' && rest[1] !== 'O' && rest[1] !== '\x1b') {
        // ESC + character: Alt+key.
        push(rest[1], 'press', false, true);
        i += 2;
        continue;
      }
      push('Escape');
      i += 1;
      continue;
    }
    const c = rest.codePointAt(0)!;
    const ch = String.fromCodePoint(c);
    i += ch.length;
    if (c === 13 || c === 10) push('Enter');
    else if (c === 127 || c === 8) push('Backspace');
    else if (c === 9) push('Tab');
    else if (c < 32) push(String.fromCharCode(c + 96), 'press', true); // Ctrl-A … Ctrl-Z
    else push(ch);
  }
  return out;
}

/** Which keys count as held now, from presses, repeats and (when the terminal reports them) releases. */
export class KeyHoldTracker {
  private readonly deadline = new Map<string, number>();

  constructor(private readonly holdMs: number) {}

  event(ev: KeyEvent, nowMs: number): void {
    if (ev.kind === 'release') this.deadline.delete(ev.key);
    else this.deadline.set(ev.key, nowMs + this.holdMs);
  }

  held(nowMs: number): Set<string> {
    const out = new Set<string>();
    for (const [k, t] of this.deadline) {
      if (nowMs > t) this.deadline.delete(k);
      else out.add(k);
    }
    return out;
  }

  clear(): void {
    this.deadline.clear();
  }
}
