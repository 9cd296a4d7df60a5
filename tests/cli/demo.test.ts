// `senseact demo --quick` end to end, as CI runs it: every stage runs (none
// reused, none "not built yet"), the report has every section, and nothing
// is left behind (no child process, no temp file under the output folder).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { senseact } from '../helpers/cli.ts';
import { makeTinyDataset } from '../policy/fixtures.ts';
import { SIM_ROBOT } from '../../sim/index.ts';

describe('senseact demo --quick', () => {
  it('runs every stage and writes the report with every section', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-demo-')), 'demo-output');
    // Logs of another robot (an older scene) where the demos go: moved aside, kept, and recorded afresh.
    fs.mkdirSync(path.join(out, 'demos'), { recursive: true });
    await makeTinyDataset(3, 1, path.join(out, 'demos'));
    const run = senseact(['demo', '--quick', '--out', out], {}, 600_000);
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const summary = run.stderr.slice(run.stderr.lastIndexOf('summary'));
    for (const stage of ['doctor', 'record 3 expert demonstrations', 'train the multimodal policy', 'evaluate on 2 held-out seeds: fused and vision-only', 'deploy with a sensor dropout']) {
      expect(summary).toMatch(new RegExp(`${stage}.*\\bdone\\b`));
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    for (const id of ['stages', 'demos', 'training', 'success', 'camera', 'deployment']) expect(html).toContain(`<h2 id="${id}">`);
    expect(html).toMatch(/safe stop \d+\.\d s after the fault, resumed \d+\.\d s after the fault; SIGTERM → exit 0/);
    expect(html).toMatch(/<svg[\s\S]*training loss/);
    expect(html).toMatch(/Modality influence [^<]*: camera \d\.\d{3}, tactile \d\.\d{3}, smell \d\.\d{3}, proprio \d\.\d{3}\./);
    expect(html).toMatch(/<tr><td>fused[^<]*<\/td><td>\d+\/2<\/td>[\s\S]*<tr><td>vision-only[^<]*<\/td><td>\d+\/2<\/td>/);
    expect(html).toMatch(/<img src="camera-fused-(success|failure)-seed\d+\.png"/);
    // find-smell's milestones beside success, for both policies.
    expect(html).toMatch(/<tr><td>touched odorant jar first<\/td><td>\d\/2 = \d+% \[\d+%, \d+%\]<\/td><td>\d\/2 = /);
    expect(html).toMatch(/<tr><td>lifted odorant jar<\/td><td>\d\/2 = /);
    expect(run.stderr).toMatch(/touched odorant jar first: fused \d\/2 = \d+% \[\d+%, \d+%\]; vision-only \d\/2/);
    // Demos are real logs, the checkpoint and its config exist, no temp files remain.
    expect(fs.readdirSync(path.join(out, 'demos')).filter((f) => f.endsWith('.mcap'))).toHaveLength(3);
    const aside = fs.readdirSync(out).filter((f) => f.startsWith('demos.old-'));
    expect(aside).toHaveLength(1);
    expect(fs.readdirSync(path.join(out, aside[0])).filter((f) => f.startsWith('episode_'))).toHaveLength(3);
    expect(run.stderr).toMatch(new RegExp(`re-recording: 3 logs were made by synthetic, not ${SIM_ROBOT}`));
    expect(fs.existsSync(path.join(out, 'policy', 'find-smell-quick.safetensors'))).toBe(true);
    const all = fs.readdirSync(out, { recursive: true }).map(String);
    expect(all.filter((f) => /\.tmp-|\.partial$|train-state/.test(f))).toEqual([]);
    // No senseact child process (sim serve, serve) outlives the demo.
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes(out) || (l.includes('senseact.mjs') && l.includes('--faults') && l.includes('seed 2000')))).toEqual([]);
  }, 600_000);
});
