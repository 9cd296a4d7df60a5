// The kernel autotuner: it never picks a candidate whose output differs from
// the reference (a deliberately wrong, fast kernel is injected and must be
// rejected), never prefers one that is not faster than the default, its cache
// round-trips, is invalidated by a change of the candidate set, survives a
// corrupted file (ignored with a warning, rebuilt), and 'cached' mode times
// nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CpuBackend, Tensor, createBackend, type CreatedBackend } from '../../kernels/index.ts';
import { Autotuner, agrees, tuneModeFromEnv, type TuneJob, type TuneOptions } from '../../kernels/webgpu/Autotuner.ts';
import { TuneCache, memoryTuneStore, type TuneStore } from '../../kernels/webgpu/tuneCache.ts';
import { defaultTuneCachePath, fileTuneStore } from '../../kernels/webgpu/tuneFile.ts';
import { DEFAULT_VARIANT, SMALL_VARIANT, type MatmulChoice, type MatmulVariant } from '../../kernels/webgpu/variants.ts';
import { WebGpuBackend } from '../../kernels/webgpu/WebGpuBackend.ts';
import { matmulTiledKernel } from '../../kernels/webgpu/wgsl/matmulTiled.ts';
import { gpuBackendForTests, uniform } from './helpers.ts';

// ── the choice rule, on a fake job (no GPU) ────────────────────────────────

const ADAPTER = { vendor: 'test', architecture: 'fake', device: 'fake-1', description: 'fake adapter' };
const tiled = (id: string): MatmulVariant => ({ id, kind: 'tiled', config: { wgM: 8, wgN: 8, tm: 4, tn: 4, tk: 16 }, layoutAware: true, vec4: false });

function fakeJob(cands: { v: MatmulVariant; ms: number; wrong?: boolean; throws?: boolean }[], calls: string[] = []): TuneJob {
  const ref = Float32Array.from([1, 2, 3, 4]);
  const find = (c: MatmulChoice) => cands.find((x) => x.v.id === c.variant.id)!;
  return {
    op: 'matmul',
    key: 'matmul:f32:nn:b1:m4:n4:k4',
    shape: '1×4×4×4',
    candidates: cands.map((c) => ({ variant: c.v, splits: 1 })),
    fallback: { variant: DEFAULT_VARIANT, splits: 1 },
    timer: 'wall',
    reference: () => ref,
    run: async (c) => {
      const x = find(c);
      if (x.throws) throw new Error('shader compile error');
      return x.wrong ? Float32Array.from([1, 2, 3, 5]) : ref.slice();
    },
    time: async (c) => {
      calls.push(c.variant.id);
      return find(c).ms;
    },
    dispose: () => {},
  };
}

function fakeTuner(options: TuneOptions = {}, extra: MatmulVariant[] = []): Autotuner {
  const catalog = [DEFAULT_VARIANT, SMALL_VARIANT, tiled('fast'), tiled('slow'), tiled('wrong'), tiled('broken'), tiled('close'), ...extra];
  return new Autotuner(ADAPTER, { matmul: catalog, conv: [] }, { matmul: catalog.map((v) => v.id).join(','), conv: '' }, { mode: 'tune', store: memoryTuneStore(), warn: () => {}, ...options });
}

describe('autotuner choice rule (fake timings)', () => {
  it('rejects a wrong and a failing candidate without timing them, and picks the fastest correct one', async () => {
    const calls: string[] = [];
    const tuner = fakeTuner();
    const report = await tuner.tune(
      fakeJob(
        [
          { v: DEFAULT_VARIANT, ms: 1.0 },
          { v: tiled('wrong'), ms: 0.01, wrong: true },
          { v: tiled('broken'), ms: 0.001, throws: true },
          { v: tiled('fast'), ms: 0.5 },
          { v: tiled('slow'), ms: 2.0 },
        ],
        calls,
      ),
    );
    expect(report.choice).toBe('fast');
    expect(report.rejected.map((r) => r.split(':')[0]).sort()).toEqual(['broken', 'wrong']);
    expect(report.rejected.find((r) => r.startsWith('wrong'))).toMatch(/wrong result/);
    expect(calls).not.toContain('wrong');
    expect(calls).not.toContain('broken');
    expect(report.speedup).toBeCloseTo(2, 5);
  });

  it('keeps the default when nothing is faster, or faster only within the noise margin', async () => {
    const slower = await fakeTuner().tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1.0 }, { v: tiled('slow'), ms: 1.5 }]));
    expect(slower.choice).toBe('d64');
    const close = await fakeTuner().tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1.0 }, { v: tiled('close'), ms: 0.99 }]));
    expect(close.choice).toBe('d64');
  });

  it('cached mode refuses to tune and looks up without timing', async () => {
    const tuner = fakeTuner({ mode: 'cached' });
    await expect(tuner.tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1 }]))).rejects.toThrow(/needs mode 'tune'/);
    tuner.want('k', () => fakeJob([{ v: DEFAULT_VARIANT, ms: 1 }]));
    expect(tuner.hasPending).toBe(false);
    expect(await tuner.tunePending()).toEqual([]);
    expect(tuner.lookup('matmul', 'k')).toBeNull();
    expect(tuner.stats.timings).toBe(0);
  });

  it('SENSEACT_TUNE selects the mode; cached by default; anything else is an error', () => {
    expect(tuneModeFromEnv({})).toBe('cached');
    expect(tuneModeFromEnv({ SENSEACT_TUNE: 'off' })).toBe('off');
    expect(tuneModeFromEnv({ SENSEACT_TUNE: 'TUNE' })).toBe('tune');
    expect(() => tuneModeFromEnv({ SENSEACT_TUNE: 'always' })).toThrow(/one of off, cached, tune/);
  });

  it('the comparator rejects NaN and out-of-bound errors', () => {
    expect(agrees([1, 2], [1, 2])).toBeNull();
    expect(agrees([1, NaN], [1, 2])).toMatch(/NaN/);
    expect(agrees([1, 2.01], [1, 2])).toMatch(/max error/);
    expect(agrees([1], [1, 2])).toMatch(/length/);
  });
});

describe('tuning cache', () => {
  it('default path: SENSEACT_TUNE_CACHE, else XDG_CACHE_HOME/senseact, else ~/.cache/senseact', () => {
    expect(defaultTuneCachePath({ SENSEACT_TUNE_CACHE: '/x/y.json' })).toBe('/x/y.json');
    expect(defaultTuneCachePath({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/senseact/kernels.json');
    expect(defaultTuneCachePath({})).toBe(path.join(os.homedir(), '.cache', 'senseact', 'kernels.json'));
  });

  it('round-trips through a file written atomically, and drops entries of an older candidate set on save', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-tune-'));
    const file = path.join(dir, 'sub', 'kernels.json');
    const tuner = fakeTuner({ store: fileTuneStore(file) });
    await tuner.tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1 }, { v: tiled('fast'), ms: 0.25 }]));
    await tuner.tunePending(); // saves
    expect(fs.readdirSync(path.dirname(file))).toEqual(['kernels.json']); // no temp file left behind
    const again = fakeTuner({ store: fileTuneStore(file), mode: 'cached' });
    expect(again.lookup('matmul', 'matmul:f32:nn:b1:m4:n4:k4')?.variant.id).toBe('fast');
    expect(again.stats.timings).toBe(0);
    // A different candidate set (one more kernel): the old entry no longer applies.
    const changed = fakeTuner({ store: fileTuneStore(file), mode: 'cached' }, [tiled('new-kernel')]);
    expect(changed.lookup('matmul', 'matmul:f32:nn:b1:m4:n4:k4')).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a corrupted file is ignored with a warning and rebuilt', async () => {
    for (const garbage of ['{"format": "senseact-kernel-tuning", "vers', 'null', '{"format":"senseact-kernel-tuning","version":1,"adapters":{"x":{"entries":{"k":{"choice":3}}}}}']) {
      const store = memoryTuneStore(garbage);
      const warnings: string[] = [];
      const tuner = fakeTuner({ store, warn: (m) => warnings.push(m) });
      expect(warnings.join()).toMatch(/ignoring corrupted tuning cache/);
      expect(tuner.lookup('matmul', 'matmul:f32:nn:b1:m4:n4:k4')).toBeNull();
      await tuner.tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1 }, { v: tiled('fast'), ms: 0.25 }]));
      await tuner.tunePending();
      const doc = JSON.parse(store.text!);
      expect(doc.format).toBe('senseact-kernel-tuning');
      expect(new TuneCache(ADAPTER, store).entries()['matmul:f32:nn:b1:m4:n4:k4'].choice).toBe('fast');
    }
  });

  it('keeps other adapters’ sections and entries another process saved meanwhile', async () => {
    const store = memoryTuneStore();
    const a = fakeTuner({ store });
    await a.tune(fakeJob([{ v: DEFAULT_VARIANT, ms: 1 }, { v: tiled('fast'), ms: 0.25 }]));
    await a.tunePending();
    const other = new TuneCache({ ...ADAPTER, device: 'other-gpu' }, store);
    other.set('k2', { ...new TuneCache(ADAPTER, store).entries()['matmul:f32:nn:b1:m4:n4:k4'] });
    other.save([a.checksum('matmul')]);
    const doc = JSON.parse(store.text!);
    expect(Object.keys(doc.adapters)).toHaveLength(2);
    expect(new TuneCache(ADAPTER, store).entries()['matmul:f32:nn:b1:m4:n4:k4'].choice).toBe('fast');
    expect(new TuneCache({ ...ADAPTER, device: 'other-gpu' }, store).entries().k2.choice).toBe('fast');
  });
});

// ── on the real WebGPU backend ─────────────────────────────────────────────

const probe = await gpuBackendForTests();
probe?.dispose();
const itGpu = it.skipIf(!probe);
const opened: CreatedBackend[] = [];
afterAll(() => opened.forEach((c) => c.dispose()));

/** A kernel that skips all but the first K step: fast, and wrong whenever K > 16. */
const WRONG: MatmulVariant = {
  id: 'wrong-fast',
  kind: 'tiled',
  config: { wgM: 4, wgN: 4, tm: 4, tn: 4, tk: 32 },
  layoutAware: true,
  vec4: false,
  source: () =>
    matmulTiledKernel({ wgM: 4, wgN: 4, tm: 4, tn: 4, tk: 32, aLayout: 'n', bLayout: 'n', vecA: false, vecB: false, aSource: 'strided' }).replace(
      'for (var k0 = kBegin; k0 < kEnd;',
      'for (var k0 = kBegin; k0 < min(kEnd, kBegin + 1u);',
    ),
};
/** A kernel that does not compile. */
const BROKEN: MatmulVariant = { ...WRONG, id: 'does-not-compile', source: () => 'this is not WGSL' };

async function gpu(tune: TuneOptions): Promise<WebGpuBackend> {
  const c = await createBackend({ prefer: 'webgpu', tune: { warn: () => {}, ...tune } });
  opened.push(c);
  return c.backend as WebGpuBackend;
}

async function product(be: WebGpuBackend, m: number, k: number, n: number): Promise<{ got: Float32Array; want: Float32Array }> {
  const da = uniform([m, k], 1);
  const db = uniform([k, n], 2);
  const a = Tensor.fromArray(da, [m, k], be);
  const b = Tensor.fromArray(db, [k, n], be);
  const c = a.matmul(b);
  const got = await c.toArray();
  for (const t of [a, b, c]) t.dispose();
  const cpu = new CpuBackend();
  const want = await Tensor.fromArray(da, [m, k], cpu).matmul(Tensor.fromArray(db, [k, n], cpu)).toArray();
  return { got, want };
}

const KEY_48 = 'matmul:f32:n4n4:b1:m64:n64:k64';

describe('autotuner on the WebGPU backend', () => {
  itGpu('tunes at the next readback in tune mode, rejects an injected wrong kernel and one that does not compile', async () => {
    const store = memoryTuneStore();
    const be = await gpu({ mode: 'tune', store, extraMatmulVariants: [WRONG, BROKEN] });
    const reports: string[] = [];
    const spy = vi.spyOn(be, 'tune');
    const { got, want } = await product(be, 48, 48, 48);
    expect(agrees(got, want)).toBeNull();
    expect(spy).toHaveBeenCalled();
    const entry = be.tuner.cache.entries()[KEY_48];
    expect(entry).toBeDefined();
    reports.push(...entry.rejected);
    expect(entry.rejected.some((r) => r.startsWith('wrong-fast') && /wrong result/.test(r))).toBe(true);
    expect(entry.rejected.some((r) => r.startsWith('does-not-compile'))).toBe(true);
    expect(entry.choice).not.toMatch(/wrong-fast|does-not-compile/);
    expect(entry.ms).toBeLessThanOrEqual(entry.defaultMs);
    // The backend is still healthy after the broken shader, and now runs the tuned kernel.
    const a = Tensor.zeros([48, 48], be);
    const view = { storage: a.storage, shape: [1, 48, 48], strides: [0, 48, 1], offset: 0 };
    expect(be.matmulChoiceFor(view, view)).toEqual({ key: KEY_48, choice: entry.choice, tuned: true });
    a.dispose();
    const again = await product(be, 48, 48, 48);
    expect(agrees(again.got, again.want)).toBeNull();
    expect(store.text).toContain(KEY_48);

    // Cached mode on the same store: the same choice, no timing, nothing compiled for tuning.
    const cached = await gpu({ mode: 'cached', store, extraMatmulVariants: [WRONG, BROKEN] });
    const timeSpy = vi.spyOn(cached, 'timeWork');
    const r = await product(cached, 48, 48, 48);
    expect(agrees(r.got, r.want)).toBeNull();
    await cached.sync();
    expect(await cached.tune()).toEqual([]);
    const v2 = { ...view, storage: cached.alloc(48 * 48) };
    expect(cached.matmulChoiceFor(v2, v2)).toEqual({ key: KEY_48, choice: entry.choice, tuned: true });
    cached.release(v2.storage);
    expect(timeSpy).not.toHaveBeenCalled();
    expect(cached.tuner.stats.timings).toBe(0);
    expect(cached.tuner.stats.verifications).toBe(0);

    // A different candidate set: the stored choice is ignored, the default runs.
    const changed = await gpu({ mode: 'cached', store, extraMatmulVariants: [WRONG] });
    const v3 = { ...view, storage: changed.alloc(48 * 48) };
    expect(changed.matmulChoiceFor(v3, v3).tuned).toBe(false);
    changed.release(v3.storage);
  });

  itGpu('off mode ignores the cache; cached mode with an empty cache runs the defaults and times nothing', async () => {
    const store = memoryTuneStore();
    const t = await gpu({ mode: 'tune', store });
    await product(t, 48, 48, 48);
    const off = await gpu({ mode: 'off', store });
    const buf = off.alloc(48 * 48);
    const view = { storage: buf, shape: [1, 48, 48], strides: [0, 48, 1], offset: 0 };
    expect(off.matmulChoiceFor(view, view)).toEqual({ key: KEY_48, choice: 'd64', tuned: false });
    off.release(buf);

    const empty = await gpu({ mode: 'cached', store: memoryTuneStore() });
    const spy = vi.spyOn(empty, 'timeWork');
    for (const [m, k, n] of [[5, 7, 3], [64, 300, 20], [130, 40, 70]]) {
      const { got, want } = await product(empty, m, k, n);
      expect(agrees(got, want)).toBeNull();
    }
    await empty.sync();
    expect(spy).not.toHaveBeenCalled();
    expect(empty.tuner.stats.timings).toBe(0);
  });

  itGpu('a corrupted cache file is ignored with a warning, and tune mode rebuilds it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-tune-'));
    const file = path.join(dir, 'kernels.json');
    fs.writeFileSync(file, '\u0000\u0001 not json');
    const warnings: string[] = [];
    const be = await gpu({ mode: 'tune', store: fileTuneStore(file), warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/ignoring corrupted tuning cache .*kernels\.json/);
    await product(be, 48, 48, 48);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(Object.values(doc.adapters as Record<string, { entries: Record<string, unknown> }>)[0].entries[KEY_48]).toBeDefined();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

// Keeps the type of a store honest for other implementations.
const _store: TuneStore = memoryTuneStore();
void _store;
