// The soak run for CI: 2 minutes of random faults (tests/runtime/soak.ts takes
// --minutes 60 for the long run), as its own process so the daemon, the sim
// server and the fault driver are all real processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import type { SoakResult } from './soak.ts';

it('2 minutes of random faults: no crash, heap stable, every ERROR answered by a safe stop', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/runtime/soak.ts'), '--minutes', '2', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as SoakResult;
  expect(result.violations, err.slice(-3000)).toEqual([]);
  expect(result.crashed).toBe(false);
  expect(result.exit_code).toBe(0);
  expect(result.heap_ratio).toBeLessThanOrEqual(1.1);
  expect(result.errors).toBeGreaterThan(5);
  expect(result.safe_stops).toBeGreaterThan(5);
  expect(Object.keys(result.faults).sort()).toEqual(['estop', 'kill_sim', 'malformed', 'nan', 'stop', 'time_jump']);
  expect(code).toBe(0);
}, 200_000);
