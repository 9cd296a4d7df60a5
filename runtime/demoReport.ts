// demo-output/report.html: the whole loop on one page — demos, training
// curve, success rates with intervals side by side, camera strips — plus the
// camera strips as PNG files beside it.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../sensors/index.ts';
import type { EvalResult } from './evaluate.ts';
import { formatRate, milestoneLabel, pct } from './stats.ts';
import type { StripImage } from './evalReport.ts';

export interface DemoStage {
  name: string;
  seconds: number;
  status: 'done' | 'reused' | 'not built yet' | 'failed';
  detail: string;
}

export interface DemoReportInput {
  task: string;
  stages: DemoStage[];
  demos: { file: string; seed: number; success: boolean | null; duration_s: number }[];
  training: { steps: number; seconds: number; backend: string; finalLoss: number; valLoss: number | null; influence?: Record<string, number>; curveSvg: string | null } | null;
  /** Each evaluation with its camera strips (PNG files already in the report folder). */
  evals: { label: string; result: EvalResult; images: StripImage[] }[];
  /** The deployment drill's health timeline (SVG), if it ran. */
  drillSvg?: string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A bar per eval with its 95% interval as a whisker, as SVG. */
function successChart(evals: DemoReportInput['evals']): string {
  const W = 760;
  const rowH = 34;
  const H = 30 + rowH * evals.length;
  const x = (p: number) => 330 + p * (W - 350);
  const rows = evals
    .map((e, i) => {
      const y = 20 + i * rowH;
      const [lo, hi] = e.result.ci95;
      return `<text x="320" y="${y + 16}" text-anchor="end" font-size="12">${esc(e.label)}</text>
<rect x="${x(0)}" y="${y + 4}" width="${x(e.result.success_rate) - x(0)}" height="18" fill="${i === 0 ? '#1f77b4' : '#999'}"/>
<line x1="${x(lo)}" x2="${x(hi)}" y1="${y + 13}" y2="${y + 13}" stroke="#000"/><line x1="${x(lo)}" x2="${x(lo)}" y1="${y + 8}" y2="${y + 18}" stroke="#000"/><line x1="${x(hi)}" x2="${x(hi)}" y1="${y + 8}" y2="${y + 18}" stroke="#000"/>
<text x="${x(Math.max(hi, e.result.success_rate)) + 6}" y="${y + 17}" font-size="12">${pct(e.result.success_rate)} [${pct(lo)}, ${pct(hi)}]</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="white"/>
<line x1="${x(0)}" x2="${x(0)}" y1="10" y2="${H - 6}" stroke="#333"/><line x1="${x(1)}" x2="${x(1)}" y1="10" y2="${H - 6}" stroke="#ddd"/>
${rows}</svg>`;
}

export function writeDemoReport(dir: string, input: DemoReportInput): string {
  fs.mkdirSync(dir, { recursive: true });
  const images = input.evals.flatMap((e) =>
    e.images.map((im) => `<figure><img src="${esc(path.relative(dir, im.file))}" style="image-rendering:pixelated;height:96px"><figcaption>${esc(e.label)}: ${esc(im.caption)}</figcaption></figure>`),
  );
  const stageRows = input.stages.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.status)}</td><td>${s.seconds.toFixed(1)} s</td><td>${esc(s.detail)}</td></tr>`).join('');
  const demoRows = input.demos.map((d) => `<tr><td>${esc(d.file)}</td><td>${d.seed}</td><td>${d.success === null ? '?' : d.success ? 'success' : 'failure'}</td><td>${d.duration_s.toFixed(1)} s</td></tr>`).join('');
  const evalRows = input.evals
    .map(
      (e) =>
        `<tr><td>${esc(e.label)}</td><td>${e.result.successes}/${e.result.episodes}</td><td>${pct(e.result.success_rate)}</td><td>[${pct(e.result.ci95[0])}, ${pct(e.result.ci95[1])}]</td><td>${e.result.mean_steps.toFixed(0)}</td><td>${esc(JSON.stringify(e.result.failures))}</td><td>${e.result.latency_ms.p50.toFixed(1)} / ${e.result.latency_ms.p99.toFixed(1)} ms</td></tr>`,
    )
    .join('');
  const milestoneNames = [...new Set(input.evals.flatMap((e) => Object.keys(e.result.milestones)))];
  const milestoneRows = milestoneNames
    .map((name) => {
      const cells = input.evals.map((e) => {
        const m = e.result.milestones[name];
        return m ? `<td>${formatRate(m.count, e.result.episodes, m.ci95)}</td>` : '<td>—</td>';
      });
      return `<tr><td>${esc(milestoneLabel(name))}</td>${cells.join('')}</tr>`;
    })
    .join('');
  const milestoneTable = milestoneNames.length
    ? `<p>Milestones: stages of the task each episode reached, whether or not it succeeded.</p><table><tr><th>milestone</th>${input.evals.map((e) => `<th>${esc(e.label)}</th>`).join('')}</tr>${milestoneRows}</table>`
    : '';
  const t = input.training;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>senseact demo — ${esc(input.task)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}figure{display:inline-block;margin:4px 12px 4px 0}</style></head><body>
<h1>senseact demo: ${esc(input.task)}</h1>
<h2 id="stages">stages</h2><table><tr><th>stage</th><th>status</th><th>time</th><th>detail</th></tr>${stageRows}</table>
<h2 id="demos">demonstrations</h2><table><tr><th>log</th><th>seed</th><th>outcome</th><th>duration</th></tr>${demoRows}</table>
<h2 id="training">training</h2>${t ? `<p>${t.steps} steps on ${esc(t.backend)} in ${t.seconds.toFixed(0)} s; final loss ${t.finalLoss.toFixed(4)}${t.valLoss !== null ? `, validation ${t.valLoss.toFixed(4)}` : ''} (L1, normalized actions).</p>${
        t.influence
          ? `<p>Modality influence (mean change of the normalized actions when one modality is masked, held-out frames): ${Object.entries(t.influence)
              .map(([m, v]) => `${esc(m)} ${v.toFixed(3)}`)
              .join(', ')}.</p>`
          : ''
      }${t.curveSvg ?? ''}` : '<p>not run</p>'}
<h2 id="success">success on held-out seeds</h2>${input.evals.length ? successChart(input.evals) : ''}
<table><tr><th>policy</th><th>successes</th><th>rate</th><th>95% Wilson</th><th>mean steps</th><th>failures</th><th>latency p50 / p99</th></tr>${evalRows}</table>${milestoneTable}
<h2 id="camera">camera</h2>${images.join('') || '<p>no frames</p>'}
<h2 id="deployment">deployment and fault injection</h2><p>${esc(input.stages.find((s) => s.name.startsWith('deploy'))?.detail ?? 'not run')}</p>${input.drillSvg ?? ''}
</body></html>
`;
  const file = path.join(dir, 'report.html');
  writeFileAtomic(file, html);
  return file;
}
