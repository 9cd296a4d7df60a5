// Operator input: terminal key decoding (legacy and kitty protocol), the
// held-key tracker, the mixer's dead-man rule, gamepad mapping, the config
// schema and its file errors, and the status line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  axesFromGamepad,
  axesFromKeys,
  ConfigError,
  decodeKeys,
  defaultTeleopConfig,
  formatStatus,
  KeyHoldTracker,
  loadTeleopConfig,
  parseTeleopConfig,
  TeleopMixer,
  truncateVisible,
  type SessionStatus,
} from '../../teleop/index.ts';

const keys = (s: string) => decodeKeys(s).map((e) => `${e.ctrl ? 'C-' : ''}${e.key}:${e.kind}`);

describe('terminal key decoding', () => {
  it('decodes plain keys, arrows (CSI and SS3), page keys, Enter, Backspace and Ctrl', () => {
    expect(keys('wQ ')).toEqual(['w:press', 'Q:press', ' :press']);
    expect(keys('\x1b[A\x1b[B\x1bOC\x1b[D')).toEqual(['ArrowUp:press', 'ArrowDown:press', 'ArrowRight:press', 'ArrowLeft:press']);
    expect(keys('\x1b[5~\x1b[6~\r\x7f\x03')).toEqual(['PageUp:press', 'PageDown:press', 'Enter:press', 'Backspace:press', 'C-c:press']);
    expect(keys('\x1b')).toEqual(['Escape:press']);
    expect(keys('\x1b[999z')).toEqual([]); // unknown sequences are dropped, not typed
  });

  it('decodes the kitty protocol: press, repeat and release, shifted keys, Ctrl-C, and skips modifier-only keys', () => {
    expect(keys('\x1b[119u\x1b[119;1:2u\x1b[119;1:3u')).toEqual(['w:press', 'w:repeat', 'w:release']);
    expect(decodeKeys('\x1b[119;1:3u')[0].reportsRelease).toBe(true);
    expect(keys('\x1b[113:81;2u')).toEqual(['Q:press']); // shift+q with the alternate (shifted) key
    expect(keys('\x1b[113;2u')).toEqual(['Q:press']); // shift+q without it
    expect(keys('\x1b[99;5u')).toEqual(['C-c:press']);
    expect(keys('\x1b[13u\x1b[32;1:3u')).toEqual(['Enter:press', ' :release']);
    expect(keys('\x1b[57441;2u')).toEqual([]); // left shift alone
    expect(keys('\x1b[1;1:3A')).toEqual(['ArrowUp:release']);
  });

  it('holds a key until its release, or without releases until holdMs after the last press or repeat', () => {
    const t = new KeyHoldTracker(500);
    const [press] = decodeKeys('w');
    t.event(press, 0);
    expect([...t.held(400)]).toEqual(['w']);
    t.event(press, 450); // auto-repeat
    expect([...t.held(900)]).toEqual(['w']);
    expect([...t.held(951)]).toEqual([]);
    t.event(press, 1000);
    t.event(decodeKeys('\x1b[119;1:3u')[0], 1010);
    expect([...t.held(1011)]).toEqual([]);
  });
});

describe('mixer (dead-man rule)', () => {
  const config = defaultTeleopConfig();

  it('maps held keys to axes and scales them by the configured speeds', () => {
    const m = new TeleopMixer(config);
    m.hold('k', axesFromKeys(['w', 'a', 'r', 'q'], config.keys), 0);
    const r = m.tick(10, 0.05);
    expect(r.engaged).toBe(true);
    expect(r.action.linear).toEqual([config.speeds.linear_m_s, config.speeds.linear_m_s, config.speeds.vertical_m_s]);
    expect(r.action.angular).toEqual([0, 0, config.speeds.yaw_rad_s]);
    expect(axesFromKeys(['w', 's'], config.keys).x).toBe(0); // opposite keys cancel
  });

  it('stops motion once an input is not refreshed within its timeout, and on release', () => {
    const m = new TeleopMixer(config);
    m.hold('k', { x: 1, y: 0, z: 0, yaw: 0, gripper: 0 }, 0, 300);
    expect(m.tick(299, 0.05).action.linear[0]).toBeGreaterThan(0);
    const late = m.tick(301, 0.05);
    expect(late.engaged).toBe(false);
    expect(late.action.linear).toEqual([0, 0, 0]);
    expect(late.sources).toEqual([]);
    m.hold('k', { x: 1, y: 0, z: 0, yaw: 0, gripper: 0 }, 400, 300);
    m.release('k');
    expect(m.tick(401, 0.05).engaged).toBe(false);
  });

  it('adds several sources and clamps each axis to full speed', () => {
    const m = new TeleopMixer(config);
    m.hold('a', { x: 1, y: 0.5, z: 0, yaw: 0, gripper: 0 }, 0);
    m.hold('b', { x: 1, y: 0.25, z: 0, yaw: 0, gripper: 0 }, 0);
    const r = m.tick(1, 0.05);
    expect(r.action.linear[0]).toBeCloseTo(config.speeds.linear_m_s);
    expect(r.action.linear[1]).toBeCloseTo(0.75 * config.speeds.linear_m_s);
    expect(r.sources.sort()).toEqual(['a', 'b']);
  });

  it('ramps the gripper while a gripper input is held and keeps it where it was left', () => {
    const m = new TeleopMixer(config);
    m.hold('k', axesFromKeys(['c'], config.keys), 0, 10_000);
    for (let t = 1; t <= 10; t++) m.tick(t * 50, 0.05);
    expect(m.gripper).toBeCloseTo(Math.min(1, 0.5 * config.speeds.gripper_per_s));
    m.release('k');
    const g = m.gripper;
    expect(m.tick(2000, 1).action.gripper).toBe(g);
    m.toggleGripper();
    expect(m.gripper).toBe(g >= 0.5 ? 0 : 1);
  });

  it('commands nothing from a gamepad unless a dead-man button is held; dead zone rescales', () => {
    const pad = config.gamepad;
    const buttons = Array.from({ length: 12 }, () => ({ pressed: false, value: 0 }));
    const axes = [0, -1, 0, 0.1];
    expect(axesFromGamepad({ axes, buttons }, pad)).toBeNull();
    buttons[pad.deadman_buttons[0]] = { pressed: true, value: 1 };
    const a = axesFromGamepad({ axes, buttons }, pad)!;
    expect(a.x).toBeCloseTo(1); // stick up = forward
    expect(a.z).toBe(0); // inside the dead zone
    buttons[pad.gripper_close_button] = { pressed: true, value: 0.5 };
    expect(axesFromGamepad({ axes, buttons }, pad)!.gripper).toBeCloseTo(0.5);
  });
});

describe('teleop config', () => {
  it('has defaults and names the field of a bad value', () => {
    expect(defaultTeleopConfig().control_hz).toBe(20);
    expect(() => parseTeleopConfig({ speeds: { linear_m_s: 5 } }, 'teleop.json')).toThrow(/^teleop\.json: speeds\.linear_m_s: .*<=1/);
    expect(() => parseTeleopConfig({ keys: { fly: ['z'] } })).toThrow(ConfigError);
  });

  it('reads YAML and JSON files and reports the file on errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-teleop-'));
    const good = path.join(dir, 'teleop.yaml');
    fs.writeFileSync(good, 'speeds:\n  linear_m_s: 0.05\nkeys:\n  forward: [i]\n');
    const c = loadTeleopConfig(good);
    expect(c.speeds.linear_m_s).toBe(0.05);
    expect(c.keys.forward).toEqual(['i']);
    expect(c.keys.back).toEqual(['s', 'ArrowDown']);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"deadman": {"input_timeout_ms": 10}}');
    expect(() => loadTeleopConfig(bad)).toThrow(/^bad\.json: deadman\.input_timeout_ms: /);
    fs.writeFileSync(bad, '{not json');
    expect(() => loadTeleopConfig(bad)).toThrow(/^bad\.json: not valid JSON/);
    expect(() => loadTeleopConfig(path.join(dir, 'missing.yaml'))).toThrow(/^missing\.yaml: cannot read: ENOENT/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('status line', () => {
  const status: SessionStatus = {
    state: 'recording',
    task: 'pick-place',
    robot: 'senseact-sim',
    out_dir: '/tmp/x',
    episode: 3,
    seed: 3,
    scene_seed: 3,
    recording_s: 4.25,
    saved: [],
    discarded: 0,
    episodes_in_dataset: 3,
    connection: { state: 'connected', detail: '', since_ms: 0 },
    streams: [
      { stream: 'camera/wrist', level: 'WARN', message: 'rate: 12.0 Hz, below 27.0 Hz', rate_hz: 12, expected_hz: 30, age_s: 0.04, recorded: 10 },
      { stream: 'tactile/left', level: 'OK', message: '', rate_hz: 100, expected_hz: 100, age_s: 0.004, recorded: 400 },
    ],
    warnings: ['camera/wrist: WARN rate: 12.0 Hz, below 27.0 Hz'],
    command: { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0.5, engaged: true, sources: ['terminal'] },
  };

  it('shows state, per-stream rate and age, and the first warning', () => {
    const line = formatStatus(status);
    expect(line).toContain('● REC #3 4.3s');
    expect(line).toContain('!cam 12Hz 40ms WARN');
    expect(line).toContain('tacL 100Hz 4ms');
    expect(line).toContain('⚠ camera/wrist: WARN rate: 12.0 Hz, below 27.0 Hz');
  });

  it('never exceeds the terminal width (colour codes do not count)', () => {
    const line = formatStatus(status, { color: true, width: 40 });
    const visible = line.replace(/\x1b\[[0-9;]*m/g, '');
    expect(visible.length).toBeLessThanOrEqual(40);
    expect(visible.endsWith('…')).toBe(true);
    expect(truncateVisible('abc', 3)).toBe('abc');
  });
});
