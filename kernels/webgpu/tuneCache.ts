// The autotuner's memory: one JSON document of chosen kernels, keyed by the
// adapter's fingerprint, the problem key and a checksum of the candidate set
// (a changed kernel changes the checksum, so old entries stop matching). The
// storage is injected: a file in Node (tuneFile.ts), nothing in the browser.

export interface TuneStore {
  /** The stored text, or null when there is none yet. */
  read(): string | null;
  /** Replaces the stored text atomically. */
  write(text: string): void;
  /** Where it lives, for messages. */
  readonly where: string;
}

export interface TuneEntry {
  /** The chosen candidate (variant id, '/sN' for N-way split-K). */
  choice: string;
  /** What the heuristic would have run. */
  default: string;
  /** Median GPU ms per run of the choice and of the default, as measured. */
  ms: number;
  defaultMs: number;
  /** Checksum of the candidate set the choice was made from. */
  candidates: string;
  /** Candidates timed, and those rejected for a wrong result or a failed compile. */
  timed: number;
  rejected: string[];
  /** The concrete shape that was timed. */
  shape: string;
  timer: 'timestamp' | 'wall';
  at: string;
}

export interface AdapterFingerprint {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

interface CacheDoc {
  format: 'senseact-kernel-tuning';
  version: 1;
  adapters: Record<string, { adapter: AdapterFingerprint; entries: Record<string, TuneEntry> }>;
}

const emptyDoc = (): CacheDoc => ({ format: 'senseact-kernel-tuning', version: 1, adapters: {} });

export function fingerprintKey(a: AdapterFingerprint): string {
  return [a.vendor, a.architecture, a.device, a.description].join(' | ');
}

/** FNV-1a, 32 bits twice (two offsets): a short stable checksum, not a cryptographic hash. */
export function checksum(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

function isEntry(e: unknown): e is TuneEntry {
  const x = e as TuneEntry;
  return !!x && typeof x === 'object' && typeof x.choice === 'string' && typeof x.candidates === 'string' && typeof x.ms === 'number';
}

function parse(text: string): CacheDoc {
  const doc = JSON.parse(text) as CacheDoc;
  if (!doc || doc.format !== 'senseact-kernel-tuning' || doc.version !== 1 || typeof doc.adapters !== 'object' || doc.adapters === null) {
    throw new Error('not a senseact kernel-tuning file (format/version)');
  }
  for (const section of Object.values(doc.adapters)) {
    if (!section || typeof section.entries !== 'object' || section.entries === null) throw new Error('an adapter section has no entries');
    for (const [k, e] of Object.entries(section.entries)) if (!isEntry(e)) throw new Error(`entry '${k}' is malformed`);
  }
  return doc;
}

export class TuneCache {
  private doc: CacheDoc = emptyDoc();
  private readonly fp: string;
  private dirty = false;

  constructor(
    readonly adapter: AdapterFingerprint,
    private readonly store: TuneStore | null,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
  ) {
    this.fp = fingerprintKey(adapter);
    this.doc = this.load();
  }

  get where(): string {
    return this.store?.where ?? '(memory)';
  }

  /** Reads the store; a corrupted file is ignored with a warning and rebuilt on the next save. */
  private load(): CacheDoc {
    if (!this.store) return emptyDoc();
    let text: string | null;
    try {
      text = this.store.read();
    } catch (err) {
      this.warn(`[senseact tune] cannot read ${this.store.where} (${(err as Error).message}); starting with no tuned kernels`);
      return emptyDoc();
    }
    if (text === null) return emptyDoc();
    try {
      return parse(text);
    } catch (err) {
      this.warn(`[senseact tune] ignoring corrupted tuning cache ${this.store.where} (${(err as Error).message}); it will be rebuilt`);
      this.dirty = true;
      return emptyDoc();
    }
  }

  /** The entry for a problem on this adapter, only if it was made from the same candidate set. */
  get(key: string, candidateChecksum: string): TuneEntry | null {
    const e = this.doc.adapters[this.fp]?.entries[key];
    return e && e.candidates === candidateChecksum ? e : null;
  }

  set(key: string, entry: TuneEntry): void {
    const section = (this.doc.adapters[this.fp] ??= { adapter: { ...this.adapter }, entries: {} });
    section.entries[key] = entry;
    this.dirty = true;
  }

  /** Entries of this adapter (all checksums). */
  entries(): Record<string, TuneEntry> {
    return { ...(this.doc.adapters[this.fp]?.entries ?? {}) };
  }

  /**
   * Writes the document if anything changed, merged over what is on disk now
   * (another process may have tuned other shapes meanwhile). Entries made
   * from an older candidate set are dropped for this adapter.
   */
  save(currentChecksums: readonly string[]): void {
    if (!this.store || !this.dirty) return;
    let onDisk = emptyDoc();
    try {
      const text = this.store.read();
      if (text !== null) onDisk = parse(text);
    } catch {
      onDisk = emptyDoc(); // corrupted: rebuilt from what this process holds
    }
    const merged: CacheDoc = { ...onDisk, adapters: { ...onDisk.adapters } };
    const mine = this.doc.adapters[this.fp];
    if (mine) {
      const entries = { ...(onDisk.adapters[this.fp]?.entries ?? {}), ...mine.entries };
      for (const [k, e] of Object.entries(entries)) if (!currentChecksums.includes(e.candidates)) delete entries[k];
      merged.adapters[this.fp] = { adapter: { ...this.adapter }, entries };
    }
    this.store.write(JSON.stringify(merged, null, 1) + '\n');
    this.doc = merged;
    this.dirty = false;
  }
}

/** A store held in memory (tests, the browser). */
export function memoryTuneStore(initial: string | null = null): TuneStore & { text: string | null } {
  return {
    text: initial,
    where: '(memory)',
    read() {
      return this.text;
    },
    write(text: string) {
      this.text = text;
    },
  };
}
