// `senseact dataset info DIR [--json]` and `senseact dataset repair FILE [--json]`.
import fs from 'node:fs';
import { Dataset, repairLog, type DatasetInfo, type RepairReport } from '../sensors/index.ts';
import { CliError } from './errors.ts';
import { progressBar } from './progress.ts';

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export function formatInfo(info: DatasetInfo): string {
  const lines: string[] = [`dataset ${info.dir}: ${info.episodes.length} episode${info.episodes.length === 1 ? '' : 's'}`];
  for (const ep of info.episodes) {
    const ok = ep.success === null ? 'success unknown' : ep.success ? 'success' : 'failure';
    lines.push(`  ${ep.file}  task=${ep.task ?? '?'} seed=${ep.seed ?? '?'} ${ok}  ${fmt(ep.duration_s)} s  ${ep.messages} messages${ep.repaired ? '  (repaired)' : ''}`);
    if (ep.meta_error) lines.push(`    ! ${ep.meta_error}`);
    for (const s of ep.streams) {
      lines.push(`    ${s.name.padEnd(16)} ${String(s.count).padStart(7)} msgs  ${fmt(s.rate_hz, 1).padStart(7)} Hz  max gap ${fmt(s.max_gap_s, 3)} s${s.gaps ? `  ${s.gaps} gap${s.gaps === 1 ? '' : 's'}` : ''}`);
    }
  }
  for (const u of info.unfinalized) lines.push(`  ${u.file}: ${u.recoverable_messages} recoverable messages; ${u.hint}`);
  for (const u of info.unreadable) lines.push(`  ${u.file}: unreadable: ${u.error}`);
  return lines.join('\n');
}

export async function datasetInfo(dir: string, opts: { json?: boolean }): Promise<void> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`not a directory: ${dir}`);
  const ds = await Dataset.open(dir);
  const bar = progressBar('reading');
  let info: DatasetInfo;
  try {
    info = await ds.info((done, total, what) => bar.update(done, total, what));
  } finally {
    bar.stop();
  }
  if (opts.json) printJson(info);
  else process.stderr.write(formatInfo(info) + '\n');
}

export function formatRepair(r: RepairReport): string {
  if (r.already_valid) return `${r.file} is a valid, indexed log (${r.recovered.messages} messages); nothing to repair`;
  const streams = Object.entries(r.recovered.streams)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `repaired ${r.file} → ${r.out} (original kept as ${r.original_kept_as})`,
    `  recovered: ${r.recovered.messages} messages in ${r.recovered.chunks} chunks, ${fmt(r.recovered.duration_s)} s of capture (${streams})`,
    `  lost: ${r.lost.bytes} trailing bytes; ${fmt(r.lost.seconds)} s in a cut-off chunk (~${r.lost.messages_estimate} messages)` +
      (r.lost.unflushed_at_most_s !== null ? `; plus whatever the writer still held in memory, at most ${r.lost.unflushed_at_most_s} s` : ''),
    `  stopped: ${r.stopped}`,
  ].join('\n');
}

export async function datasetRepair(file: string, opts: { json?: boolean }): Promise<void> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`no such file: ${file}`);
  let report: RepairReport;
  const bar = progressBar('repair');
  try {
    report = await repairLog(file, (done, total, what) => bar.update(Math.round(done / 1e6), Math.round(total / 1e6), `MB ${what}`));
  } catch (err) {
    throw new CliError(`cannot repair ${file}: ${(err as Error).message}`);
  } finally {
    bar.stop();
  }
  if (opts.json) printJson(report);
  else process.stderr.write(formatRepair(report) + '\n');
}
