// `senseact bench sim --json --quick` runs both builds and the camera, and prints one JSON object.
import { describe, expect, it } from 'vitest';
import { senseact } from '../helpers/cli.ts';

describe('senseact bench sim', () => {
  it('measures ours and the peer side by side and prints one JSON object', () => {
    const run = senseact(['bench', 'sim', '--json', '--quick'], {}, 180_000);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(r.bench).toBe('sim');
    expect(r.physics_only.ours_x_realtime).toBeGreaterThan(0);
    expect(r.physics_only.peer_x_realtime).toBeGreaterThan(0);
    expect(r.peer).toMatch(/rapier3d-compat/);
    expect(r.camera_30hz).toSatisfy((c: Record<string, unknown>) => typeof c.x_realtime === 'number' || typeof c.skipped === 'string');
  });
});
