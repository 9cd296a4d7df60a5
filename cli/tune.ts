// `senseact tune [--policy FILE] [--cache FILE] [--json]`: pre-tunes the WebGPU
// kernels for every shape the policy uses (one training step at its batch
// size and one inference tick), stores the choices in the tuning cache, and
// prints what was chosen against the hand-set default.
import { createBackend } from '../kernels/index.ts';
import type { TuneReport } from '../kernels/webgpu/Autotuner.ts';
import { defaultTuneCachePath, fileTuneStore } from '../kernels/webgpu/tuneFile.ts';
import type { WebGpuBackend } from '../kernels/webgpu/WebGpuBackend.ts';
import { loadCheckpoint } from '../policy/checkpoint.ts';
import { defaultConfig } from '../policy/config.ts';
import { SIM_DIMS, policyWorkload } from '../bench/trainPolicy.ts';
import { CliError } from './errors.ts';
import { printJson } from './flags.ts';

export interface TuneRow {
  key: string;
  shape: string;
  choice: string;
  default: string;
  ms: number;
  default_ms: number;
  speedup: number;
  /** 'tuned' now, or 'cached' from an earlier run. */
  source: 'tuned' | 'cached';
}

export async function tuneCommand(opts: { policy?: string; cache?: string; json?: boolean }): Promise<void> {
  let config = defaultConfig();
  let dims = SIM_DIMS;
  let what = 'the default policy network (simulator sensor layout)';
  if (opts.policy) {
    let meta;
    try {
      ({ meta } = loadCheckpoint(opts.policy));
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
    if (meta.config.kind !== 'multimodal') throw new CliError(`${opts.policy}: a '${meta.config.kind}' policy runs no network kernels; nothing to tune`, 2);
    config = meta.config;
    dims = meta.dims;
    what = opts.policy;
  }
  const cache = opts.cache ?? defaultTuneCachePath();
  const log = (line: string) => process.stderr.write(line + '\n');
  let created;
  try {
    created = await createBackend({ prefer: 'webgpu', tune: { mode: 'tune', store: fileTuneStore(cache), log: opts.json ? () => {} : (m) => log(`  tuned ${m}`) } });
  } catch (err) {
    throw new CliError(`cannot tune without a WebGPU adapter: ${(err as Error).message}`, 1);
  }
  const backend = created.backend as WebGpuBackend;
  const t0 = performance.now();
  try {
    if (!opts.json) log(`tuning kernels for ${what} on ${created.reason}\ncache: ${cache}`);
    const work = policyWorkload(backend, { config, dims });
    await work.trainStep(); // the readback tunes every new shape of the step
    await work.tick(); // and of an inference tick
    await backend.tune();
    work.dispose();
    const tunedNow = new Map<string, TuneReport>(backend.tuner.reports.map((r) => [r.key, r]));
    const entries = backend.tuner.cache.entries();
    const rows: TuneRow[] = [];
    for (const key of backend.tuner.seenKeys()) {
      const e = entries[key];
      if (!e) continue;
      rows.push({ key, shape: e.shape, choice: e.choice, default: e.default, ms: e.ms, default_ms: e.defaultMs, speedup: e.defaultMs / e.ms, source: tunedNow.has(key) ? 'tuned' : 'cached' });
    }
    const seconds = (performance.now() - t0) / 1000;
    const geo = rows.length ? Math.exp(rows.reduce((s, r) => s + Math.log(r.speedup), 0) / rows.length) : NaN;
    if (opts.json) {
      printJson({ cache, adapter: backend.tuner.cache.adapter, policy: what, seconds, shapes: rows.length, tuned_now: tunedNow.size, geomean_speedup: geo, rows });
      return;
    }
    log(formatTuneRows(rows));
    log(`${rows.length} shapes (${tunedNow.size} tuned now, ${rows.length - tunedNow.size} from the cache) in ${seconds.toFixed(1)} s; geometric-mean speedup over the default ${geo.toFixed(2)}×`);
  } finally {
    created.dispose();
  }
}

export function formatTuneRows(rows: readonly TuneRow[]): string {
  const head = ['shape (B×M×N×K, strides)', 'chosen', 'ms', 'default', 'ms', 'speedup', ''];
  const body = rows.map((r) => [r.shape, r.choice, r.ms.toFixed(3), r.default, r.default_ms.toFixed(3), `${r.speedup.toFixed(2)}×`, r.source]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
