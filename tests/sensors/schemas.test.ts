import { describe, expect, it } from 'vitest';
import {
  CameraSample,
  DEFAULT_STREAMS,
  EpisodeMeta,
  MAX_IMAGE_SIDE,
  parseSample,
  syntheticMix,
  TimeNs,
} from '../../sensors/index.ts';

const T = 1_700_000_000_000_000_000;
const base = (stream: string, data: unknown) => ({ stream, t_capture_ns: T, t_receive_ns: T + 1e6, seq: 0, data });

function rejectPath(raw: unknown): string {
  const r = parseSample(raw);
  if (r.ok) throw new Error('expected a rejection');
  return r.error.path.join('.');
}

describe('sample schemas', () => {
  it('accepts one valid sample of every default stream, as the synthetic mix produces them', () => {
    const seen = new Set<string>();
    for (const s of syntheticMix({ t0_ns: T, action_hz: 50, scene_hz: 30 }, 1)) {
      const r = parseSample(s);
      expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
      seen.add(s.stream);
    }
    expect([...seen].sort()).toEqual(Object.values(DEFAULT_STREAMS).sort());
  });

  it('keeps epoch-scale nanoseconds (beyond 2^53) as integers, which zod .int() would refuse', () => {
    expect(TimeNs.safeParse(T).success).toBe(true);
    expect(TimeNs.safeParse(T + 256).success).toBe(true);
    expect(TimeNs.safeParse(1.5).success).toBe(false);
    expect(TimeNs.safeParse(-1).success).toBe(false);
    expect(TimeNs.safeParse(Number.NaN).success).toBe(false);
    // Neighbouring doubles at epoch scale are 256 ns apart: the documented precision.
    expect(T + 256 - T).toBe(256);
    expect(T + 100 - T).not.toBe(100);
  });

  it('names the field of every malformed sample', () => {
    const taxels = { pad: 'left', rows: 2, cols: 2, forces: new Float32Array(12) };
    expect(rejectPath(base('tactile/left', { ...taxels, forces: new Float32Array(11) }))).toBe('data.forces');
    const nan = new Float32Array(12);
    nan[7] = Number.NaN;
    expect(rejectPath(base('tactile/left', { ...taxels, forces: nan }))).toBe('data.forces.7');
    expect(rejectPath(base('camera/wrist', { encoding: 'rgb8', width: 100_000, height: 2, frame_id: 'c', data: new Uint8Array(6) }))).toBe('data.width');
    expect(rejectPath(base('camera/wrist', { encoding: 'rgb8', width: 2, height: 2, frame_id: 'c', data: new Uint8Array(11) }))).toBe('data.data');
    expect(rejectPath(base('camera/wrist', { encoding: 'bmp', width: 2, height: 2, frame_id: 'c', data: new Uint8Array(12) }))).toBe('data.encoding');
    const smell = { channels: ['a', 'b'], units: ['ohm', 'ohm'], values: [1, 2], temperature_c: 20, humidity_pct: 40, heater_step: 0, warmed_up: true };
    expect(rejectPath(base('smell', { ...smell, values: [1, Number.NaN] }))).toBe('data.values.1');
    expect(rejectPath(base('smell', { ...smell, values: [1] }))).toBe('data.values');
    expect(rejectPath(base('smell', { ...smell, units: ['ohm', 'furlongs'] }))).toBe('data.units.1');
    const { warmed_up: _w, ...noWarm } = smell;
    expect(rejectPath(base('smell', noWarm))).toBe('data.warmed_up');
    const proprio = { names: ['j1'], position: [0], velocity: [0], effort: [0], gripper_opening: 0.01, gripper_force: 0 };
    expect(rejectPath(base('proprio', { ...proprio, velocity: [0, 1] }))).toBe('data.velocity');
    expect(rejectPath(base('proprio', { ...proprio, effort: [Infinity] }))).toBe('data.effort.0');
    expect(rejectPath(base('action', { linear: [0, 0], angular: [0, 0, 0], gripper: 0 }))).toBe('data.linear');
    expect(rejectPath(base('action', { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 1.5 }))).toBe('data.gripper');
    expect(rejectPath({ ...base('action', { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 }), seq: -1 })).toBe('seq');
    expect(rejectPath({ ...base('action', { linear: [0, 0, 0], angular: [0, 0, 0], gripper: 0 }), t_capture_ns: undefined })).toBe('t_capture_ns');
    expect(rejectPath(base('lidar/front', {}))).toBe('stream');
    expect(rejectPath(null)).toBe('');
  });

  it('rejects a huge declared image before anything allocates from it', () => {
    const r = CameraSample.safeParse(base('camera/wrist', { encoding: 'jpeg', width: MAX_IMAGE_SIDE + 1, height: 1, frame_id: 'c', data: new Uint8Array([1]) }));
    expect(r.success).toBe(false);
  });

  it('episode metadata keeps extra fields and requires a task', () => {
    const meta = EpisodeMeta.parse({ task: 'pick-place', robot: 'sim', operator: 'a', seed: 3, success: null, notes: '', extra: { any: 1 } });
    expect(meta.extra).toEqual({ any: 1 });
    expect(EpisodeMeta.safeParse({ task: '', robot: 'sim', operator: 'a', seed: 3, success: null, notes: '' }).success).toBe(false);
  });
});
