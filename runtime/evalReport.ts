// The eval report a person would rather look at: success with its interval,
// per-episode outcomes, the training loss curve, and camera strips from one
// success and one failure. One self-contained HTML file (images inlined).
import fs from 'node:fs';
import { encode as encodePng } from 'fast-png';
import path from 'node:path';
import type { CameraData } from '../sensors/index.ts';
import { decodeImage, writeFileAtomic } from '../sensors/index.ts';
import type { EpisodeOutcome, EvalResult } from './evaluate.ts';
import { formatRate, milestoneLabel, pct } from './stats.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function pngDataUri(frame: CameraData): string {
  const img = decodeImage(frame);
  const png = encodePng({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

function strip(title: string, outcome: EpisodeOutcome | undefined): string {
  if (!outcome) return `<h3>${esc(title)}</h3><p>none in this run</p>`;
  const imgs = outcome.frames.map((f) => `<img src="${pngDataUri(f)}" width="96" height="96" style="image-rendering:pixelated;margin:1px">`).join('');
  return `<h3>${esc(title)}: seed ${outcome.seed} (${outcome.steps} steps${outcome.failure ? `, ${esc(outcome.failure)}` : ''})</h3><div>${imgs || '<p>no camera frames (policy ran without a camera)</p>'}</div>`;
}

export function evalReportHtml(result: EvalResult, outcomes: EpisodeOutcome[], lossCurveSvg: string | null): string {
  const names = Object.keys(result.milestones);
  const reached = (o: EpisodeOutcome) => names.filter((n) => o.milestones[n]).map(milestoneLabel).join(', ');
  const rows = outcomes
    .map((o) => `<tr><td>${o.seed}</td><td style="color:${o.success ? '#2a2' : '#c22'}">${o.success ? 'success' : 'failure'}</td><td>${o.steps}</td><td>${esc(o.failure ?? '')}</td>${names.length ? `<td>${esc(reached(o))}</td>` : ''}</tr>`)
    .join('');
  const milestones = names
    .map((n) => `${esc(milestoneLabel(n))} ${formatRate(result.milestones[n].count, result.episodes, result.milestones[n].ci95)}`)
    .join('; ');
  const failures = Object.entries(result.failures)
    .map(([k, v]) => `${esc(k)}: ${v}`)
    .join(', ');
  return `<!doctype html><html><head><meta charset="utf-8"><title>senseact eval — ${esc(result.task)}</title>
<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>
<h1>eval: ${esc(result.task)}</h1>
<p><b>${result.successes}/${result.episodes} = ${pct(result.success_rate)}</b> success, 95% Wilson interval [${pct(result.ci95[0])}, ${pct(result.ci95[1])}];
mean ${result.mean_steps.toFixed(1)} steps; inference p50 ${result.latency_ms.p50.toFixed(1)} ms, p99 ${result.latency_ms.p99.toFixed(1)} ms (${esc(result.backend)}).</p>
<p>policy <code>${esc(result.policy)}</code> (${esc(result.kind)}), masked: ${esc(result.mask.join(', ') || 'none')}; held-out seeds ${result.seeds[0]}…${result.seeds[result.seeds.length - 1]}; failures: ${failures || 'none'}.</p>${milestones ? `<p>Milestones (stages reached, success or not): ${milestones}.</p>` : ''}
<h2>training loss</h2>${lossCurveSvg ?? '<p>no loss curve beside the checkpoint</p>'}
<h2>camera</h2>${strip('a success', outcomes.find((o) => o.success))}${strip('a failure', outcomes.find((o) => !o.success))}
<h2>episodes</h2><table><tr><th>seed</th><th>outcome</th><th>steps</th><th>failure</th>${names.length ? '<th>milestones</th>' : ''}</tr>${rows}</table>
</body></html>
`;
}

export function writeEvalReport(file: string, result: EvalResult, outcomes: EpisodeOutcome[], lossCurveFile: string | null): void {
  const svg = lossCurveFile && fs.existsSync(lossCurveFile) ? fs.readFileSync(lossCurveFile, 'utf8') : null;
  writeFileAtomic(file, evalReportHtml(result, outcomes, svg));
}

/** Frames side by side as one PNG (RGB). */
export function stripPng(frames: CameraData[]): Uint8Array | null {
  const imgs = frames.map(decodeImage);
  if (imgs.length === 0) return null;
  const h = Math.max(...imgs.map((i) => i.height));
  const w = imgs.reduce((a, i) => a + i.width + 2, -2);
  const data = new Uint8Array(w * h * 3).fill(255);
  let x0 = 0;
  for (const img of imgs) {
    for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), (y * w + x0) * 3);
    x0 += img.width + 2;
  }
  return encodePng({ width: w, height: h, data, channels: 3, depth: 8 });
}

export interface StripImage {
  file: string;
  caption: string;
}

/** Camera strips of the first success and the first failure, as PNG files in `dir`. */
export function writeStrips(dir: string, prefix: string, outcomes: EpisodeOutcome[]): StripImage[] {
  fs.mkdirSync(dir, { recursive: true });
  const out: StripImage[] = [];
  for (const kind of ['success', 'failure'] as const) {
    const o = outcomes.find((x) => x.success === (kind === 'success'));
    const png = o ? stripPng(o.frames) : null;
    if (!o || !png) continue;
    const file = path.join(dir, `${prefix}-${kind}-seed${o.seed}.png`);
    writeFileAtomic(file, png);
    out.push({ file, caption: `a ${kind} (seed ${o.seed}${o.failure ? `, ${o.failure}` : ''})` });
  }
  return out;
}
