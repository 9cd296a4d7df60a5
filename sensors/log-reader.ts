// Reading episode logs, finalized or not, and repairing the ones a crash left.
//
// A finalized log is read through @mcap/core's McapIndexedReader. A log without
// a valid footer and summary (NAME.mcap.partial after a crash, or a truncated
// copy) is read with McapStreamReader from the start: every record up to the
// first incomplete or corrupt one is recovered, which with our writer means
// every chunk that was closed before the crash.
import fs from 'node:fs';
import path from 'node:path';
import { McapIndexedReader, McapStreamReader, McapWriter, Opcode, type McapTypes } from '@mcap/core';
import { CHANNEL_KINDS, decodeSample, type ChannelKind } from './codec.ts';
import { compressChunk, decompressHandlers, loadCompression } from './compression.ts';
import { fsyncDir, tempNameFor, writeAllSync } from './files.ts';
import { LIBRARY, META_EPISODE, META_EPISODE_END, META_LOG, META_REPAIR, decodeMetadata, encodeMetadata } from './log-writer.ts';
import { EpisodeMeta, SampleError, firstIssue, modalityOf, type Modality, type Sample } from './schemas.ts';

export interface LogChannel {
  id: number;
  stream: string;
  modality: Modality | null;
  /** Null for channels senseact did not write (read as raw messages only). */
  kind: ChannelKind | null;
  schemaId: number;
  schema: string;
  messageEncoding: string;
}

export interface LogMessage {
  channel: LogChannel;
  message: McapTypes.Message;
}

interface ScanState {
  channels: Map<number, LogChannel>;
  schemas: Map<number, McapTypes.Schema>;
  metadata: McapTypes.Metadata[];
  attachments: McapTypes.Attachment[];
  counts: Map<number, number>;
  messages: number;
  chunks: number;
  minCapture: number | null;
  maxCapture: number | null;
}

export interface ScanResult extends ScanState {
  size: number;
  /** Bytes from the start that parsed into complete records. */
  consumed: number;
  /** True when the file ended with a valid footer and magic. */
  complete: boolean;
  /** Why reading stopped before the end, if it did. */
  stopped: string | null;
  /** Time span of a chunk cut off at the end of the file, if its header survived. */
  partialChunk: { start_ns: number; end_ns: number } | null;
}

function toChannel(c: McapTypes.Channel, schemas: ReadonlyMap<number, McapTypes.Schema>): LogChannel {
  const kind = c.metadata.get('senseact.kind');
  return {
    id: c.id,
    stream: c.topic,
    modality: modalityOf(c.topic),
    kind: kind && (CHANNEL_KINDS as string[]).includes(kind) && c.messageEncoding === 'json' ? (kind as ChannelKind) : null,
    schemaId: c.schemaId,
    schema: schemas.get(c.schemaId)?.name ?? '',
    messageEncoding: c.messageEncoding,
  };
}

const READ_PIECE = 1 << 20;

/**
 * Reads a log front to back with McapStreamReader, calling `onMessage` for
 * every message of every complete chunk, and stops at the first incomplete
 * or corrupt record. Never throws on bad content.
 */
export async function scanLog(
  file: string,
  onMessage?: (m: LogMessage) => void | Promise<void>,
  onBytes?: (read: number, size: number) => void,
): Promise<ScanResult> {
  await loadCompression();
  const size = fs.statSync(file).size;
  const state: ScanState = {
    channels: new Map(),
    schemas: new Map(),
    metadata: [],
    attachments: [],
    counts: new Map(),
    messages: 0,
    chunks: 0,
    minCapture: null,
    maxCapture: null,
  };
  const reader = new McapStreamReader({ includeChunks: true, decompressHandlers, validateCrcs: true });
  const fd = fs.openSync(file, 'r');
  let appended = 0;
  let consumed = 0;
  let stopped: string | null = null;
  // A Chunk record comes back before its contents are decompressed and checked;
  // it counts as recovered only once its contents have been read.
  let chunkOpen = false;
  let chunkStart = 0;
  const buf = Buffer.allocUnsafe(READ_PIECE);
  try {
    outer: while (appended < size) {
      const n = fs.readSync(fd, buf, 0, Math.min(READ_PIECE, size - appended), appended);
      if (n <= 0) break;
      reader.append(buf.subarray(0, n));
      appended += n;
      onBytes?.(appended, size);
      for (;;) {
        let rec: McapTypes.TypedMcapRecord | undefined;
        try {
          rec = reader.nextRecord();
        } catch (err) {
          if (chunkOpen) consumed = chunkStart;
          chunkOpen = false;
          stopped = `unreadable record at byte ${consumed}: ${(err as Error).message}`;
          break outer;
        }
        if (!rec) break;
        if (chunkOpen && rec.type !== 'Message') {
          state.chunks++;
          chunkOpen = false;
        }
        switch (rec.type) {
          case 'Schema':
            state.schemas.set(rec.id, rec);
            break;
          case 'Channel':
            state.channels.set(rec.id, toChannel(rec, state.schemas));
            break;
          case 'Chunk':
            chunkOpen = true;
            chunkStart = consumed;
            break;
          case 'Message': {
            const ch = state.channels.get(rec.channelId);
            if (!ch) break;
            state.messages++;
            state.counts.set(rec.channelId, (state.counts.get(rec.channelId) ?? 0) + 1);
            const c = Number(rec.publishTime);
            if (state.minCapture === null || c < state.minCapture) state.minCapture = c;
            if (state.maxCapture === null || c > state.maxCapture) state.maxCapture = c;
            if (onMessage) await onMessage({ channel: ch, message: rec });
            break;
          }
          case 'Metadata':
            state.metadata.push(rec);
            break;
          case 'Attachment':
            state.attachments.push(rec);
            break;
          default:
            break;
        }
        // Messages of a chunk arrive after the whole chunk was parsed, so the
        // consumed offset is always at a record boundary of the outer file.
        consumed = appended - reader.bytesRemaining();
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  if (chunkOpen && stopped === null) state.chunks++;
  const complete = reader.done();
  let partialChunk: ScanResult['partialChunk'] = null;
  if (!complete && size - consumed >= 25) {
    const head = Buffer.alloc(25);
    const f = fs.openSync(file, 'r');
    try {
      fs.readSync(f, head, 0, 25, consumed);
    } finally {
      fs.closeSync(f);
    }
    if (head[0] === Opcode.CHUNK) {
      partialChunk = { start_ns: Number(head.readBigUInt64LE(9)), end_ns: Number(head.readBigUInt64LE(17)) };
    }
  }
  if (!complete && stopped === null) stopped = consumed === size ? 'file ends without a footer (not finalized)' : `file ends inside a record at byte ${consumed}`;
  return { ...state, size, consumed, complete, stopped, partialChunk };
}

class FileReadable implements McapTypes.IReadable {
  constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly bytes: number,
  ) {}
  async size(): Promise<bigint> {
    return BigInt(this.bytes);
  }
  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    // Offsets and sizes come from the file itself: bound them before allocating.
    if (offset < 0n || size < 0n || offset + size > BigInt(this.bytes)) {
      throw new Error(`read of ${size} bytes at ${offset} is outside the file (${this.bytes} bytes)`);
    }
    const buf = Buffer.allocUnsafe(Number(size));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, Number(offset));
    if (bytesRead !== buf.length) throw new Error(`short read at ${offset}`);
    return buf;
  }
}

export interface EpisodeRecord {
  /** The episode metadata as stored (start record merged with the end record). */
  raw: Record<string, unknown>;
  /** Validated metadata, or null with the reason. */
  meta: EpisodeMeta | null;
  error: string | null;
  log: Record<string, unknown>;
  repair: Record<string, unknown> | null;
}

export function episodeFromMetadata(records: Iterable<McapTypes.Metadata>): EpisodeRecord {
  let start: Record<string, unknown> = {};
  let end: Record<string, unknown> = {};
  let log: Record<string, unknown> = {};
  let repair: Record<string, unknown> | null = null;
  for (const r of records) {
    if (r.name === META_EPISODE) start = decodeMetadata(r.metadata);
    else if (r.name === META_EPISODE_END) end = decodeMetadata(r.metadata);
    else if (r.name === META_LOG) log = decodeMetadata(r.metadata);
    else if (r.name === META_REPAIR) repair = decodeMetadata(r.metadata);
  }
  const raw = { ...start, ...end };
  const parsed = EpisodeMeta.safeParse(raw);
  if (parsed.success) return { raw, meta: parsed.data, error: null, log, repair };
  const { path: p, reason } = firstIssue(parsed.error);
  return { raw, meta: null, error: `episode metadata: ${p.join('.') || '(record)'}: ${reason}`, log, repair };
}

export interface ReadOptions {
  streams?: readonly string[];
}

/** An open episode log: indexed when finalized, recovered by scanning otherwise. */
export class LogReader {
  private constructor(
    readonly file: string,
    readonly indexed: boolean,
    private readonly reader: McapIndexedReader | null,
    private readonly fh: fs.promises.FileHandle | null,
    private readonly scan: ScanResult | null,
    readonly channels: LogChannel[],
    readonly episode: EpisodeRecord,
    private readonly counts: Map<number, number>,
  ) {}

  /**
   * Opens `file`. A finalized log is read through its index; anything else
   * (unfinalized, truncated) is recovered by scanning unless `recover` is false.
   */
  static async open(file: string, options: { recover?: boolean } = {}): Promise<LogReader> {
    await loadCompression();
    const size = fs.statSync(file).size;
    const fh = await fs.promises.open(file, 'r');
    let indexError: Error | null = null;
    try {
      const reader = await McapIndexedReader.Initialize({ readable: new FileReadable(fh, size), decompressHandlers });
      const channels = [...reader.channelsById.values()].map((c) => toChannel(c, reader.schemasById));
      const metadata: McapTypes.Metadata[] = [];
      for await (const m of reader.readMetadata()) metadata.push(m);
      const counts = new Map<number, number>();
      for (const [id, n] of reader.statistics?.channelMessageCounts ?? []) counts.set(id, Number(n));
      return new LogReader(file, true, reader, fh, null, channels, episodeFromMetadata(metadata), counts);
    } catch (err) {
      indexError = err as Error;
      await fh.close();
    }
    if (options.recover === false) throw new Error(`${file} is not a finalized MCAP log: ${indexError.message}`);
    const scan = await scanLog(file);
    if (scan.consumed === 0) throw new Error(`${file} is not an MCAP log: ${scan.stopped ?? indexError.message}`);
    return new LogReader(file, false, null, null, scan, [...scan.channels.values()], episodeFromMetadata(scan.metadata), scan.counts);
  }

  /** How the scan of an unindexed log went (null for indexed logs). */
  get recovery(): ScanResult | null {
    return this.scan;
  }

  count(stream: string): number {
    const ch = this.channels.find((c) => c.stream === stream);
    return ch ? (this.counts.get(ch.id) ?? 0) : 0;
  }

  /** Raw messages, in log-time order when indexed, in file order when recovered. */
  async *messages(options: ReadOptions = {}): AsyncGenerator<LogMessage> {
    const wanted = options.streams ? new Set(options.streams) : null;
    if (this.reader) {
      const byId = new Map(this.channels.map((c) => [c.id, c]));
      for await (const message of this.reader.readMessages(options.streams ? { topics: options.streams } : {})) {
        const channel = byId.get(message.channelId);
        if (channel) yield { channel, message };
      }
      return;
    }
    const out: LogMessage[] = [];
    await scanLog(this.file, (m) => {
      if (!wanted || wanted.has(m.channel.stream)) out.push(m);
    });
    yield* out;
  }

  /**
   * Decoded, validated samples. A message that fails to decode is skipped
   * and passed to `onError` with the field it failed on.
   */
  async *samples(options: ReadOptions & { onError?: (e: SampleError) => void } = {}): AsyncGenerator<Sample> {
    for await (const { channel, message } of this.messages(options)) {
      if (!channel.kind) continue;
      try {
        yield decodeSample(channel.kind, channel.stream, message.data, {
          t_capture_ns: Number(message.publishTime),
          t_receive_ns: Number(message.logTime),
          seq: message.sequence,
        });
      } catch (err) {
        if (err instanceof SampleError) options.onError?.(err);
        else throw err;
      }
    }
  }

  async attachments(): Promise<McapTypes.Attachment[]> {
    if (this.reader) {
      const out: McapTypes.Attachment[] = [];
      for await (const a of this.reader.readAttachments()) out.push(a);
      return out;
    }
    return this.scan!.attachments;
  }

  async close(): Promise<void> {
    await this.fh?.close();
  }
}

// ---------------------------------------------------------------- repair

export interface RepairReport {
  file: string;
  /** The repaired log (null when the input was already valid). */
  out: string | null;
  /** Where the original bytes were kept (null when nothing was rewritten). */
  original_kept_as: string | null;
  already_valid: boolean;
  stopped: string | null;
  recovered: {
    messages: number;
    chunks: number;
    streams: Record<string, number>;
    start_ns: number | null;
    end_ns: number | null;
    duration_s: number;
    metadata_records: number;
    attachments: number;
  };
  lost: {
    /** Bytes after the last complete record. */
    bytes: number;
    /** Capture span of the chunk cut off at the end of the file, if its header survived. */
    seconds: number;
    /** Messages in that cut-off chunk, estimated from each stream's recovered rate. */
    messages_estimate: number;
    /**
     * What the file cannot show: messages still in the writer's memory at the
     * crash. The writer bounds them to this much capture time (its chunk interval).
     */
    unflushed_at_most_s: number | null;
  };
}

function outputFor(file: string): string {
  if (file.endsWith('.mcap.partial')) return file.slice(0, -'.partial'.length);
  return file;
}

function keepOriginal(file: string): string {
  const base = outputFor(file) + '.orig';
  let name = base;
  for (let i = 1; fs.existsSync(name); i++) name = `${base}.${i}`;
  try {
    fs.linkSync(file, name);
  } catch {
    fs.copyFileSync(file, name);
  }
  return name;
}

/**
 * Rewrites a crashed or truncated log as a valid, indexed MCAP (written by
 * @mcap/core's McapWriter) holding every complete chunk, and reports what was
 * recovered and lost. NAME.mcap.partial becomes NAME.mcap; a damaged NAME.mcap
 * is replaced atomically. The original bytes are kept as NAME.mcap.orig.
 */
export async function repairLog(file: string, onProgress?: (done: number, total: number, what: string) => void): Promise<RepairReport> {
  if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
  await loadCompression();
  const out = outputFor(file);
  try {
    // Valid means: the index opens and every chunk decodes and passes its CRC.
    const r = await LogReader.open(file, { recover: false });
    const streams: Record<string, number> = {};
    for (const c of r.channels) streams[c.stream] = 0;
    try {
      for await (const { channel } of r.messages()) streams[channel.stream]++;
    } finally {
      await r.close();
    }
    if (file === out) {
      const total = Object.values(streams).reduce((a, b) => a + b, 0);
      return {
        file,
        out: null,
        original_kept_as: null,
        already_valid: true,
        stopped: null,
        recovered: { messages: total, chunks: 0, streams, start_ns: null, end_ns: null, duration_s: 0, metadata_records: 0, attachments: 0 },
        lost: { bytes: 0, seconds: 0, messages_estimate: 0, unflushed_at_most_s: null },
      };
    }
  } catch {
    // Not a valid indexed file: recover below.
  }
  if (out !== file && fs.existsSync(out)) throw new Error(`${out} already exists; move it away before repairing ${file}`);

  // Pass 1: find what is recoverable (channels, metadata, counts, where it ends).
  const scan = await scanLog(file, undefined, (read, size) => onProgress?.(read, 2 * size, 'scanning'));
  if (scan.consumed === 0) throw new Error(`${file} is not an MCAP log (${scan.stopped})`);

  const durationS = scan.minCapture !== null && scan.maxCapture !== null ? (scan.maxCapture - scan.minCapture) / 1e9 : 0;
  const streams: Record<string, number> = {};
  for (const [id, n] of scan.counts) streams[scan.channels.get(id)!.stream] = n;
  const lostSeconds = scan.partialChunk ? Math.max(0, (scan.partialChunk.end_ns - scan.partialChunk.start_ns) / 1e9) : 0;
  let estimate = 0;
  if (lostSeconds > 0 && durationS > 0) {
    for (const n of Object.values(streams)) estimate += Math.round((n / durationS) * lostSeconds);
  }
  const episode = episodeFromMetadata(scan.metadata);
  const chunkMax = typeof episode.log.chunk_max_s === 'number' ? episode.log.chunk_max_s : null;
  const report: RepairReport = {
    file,
    out,
    original_kept_as: null,
    already_valid: false,
    stopped: scan.stopped,
    recovered: {
      messages: scan.messages,
      chunks: scan.chunks,
      streams,
      start_ns: scan.minCapture,
      end_ns: scan.maxCapture,
      duration_s: durationS,
      metadata_records: scan.metadata.length,
      attachments: scan.attachments.length,
    },
    lost: { bytes: scan.size - scan.consumed, seconds: lostSeconds, messages_estimate: estimate, unflushed_at_most_s: chunkMax },
  };

  // Pass 2: stream every recovered record into a fresh, indexed file.
  const tmp = tempNameFor(out);
  const fd = fs.openSync(tmp, 'wx');
  let position = 0n;
  const writer = new McapWriter({
    writable: {
      write: async (buf: Uint8Array) => {
        writeAllSync(fd, buf);
        position += BigInt(buf.length);
      },
      position: () => position,
    },
    chunkSize: 4 * 1024 * 1024,
    compressChunk: (data) => {
      const c = compressChunk(data, 'zstd', 3);
      return { compression: c.compression, compressedData: c.data };
    },
  });
  try {
    await writer.start({ profile: '', library: LIBRARY });
    const schemaIds = new Map<number, number>();
    for (const [id, s] of scan.schemas) schemaIds.set(id, await writer.registerSchema({ name: s.name, encoding: s.encoding, data: s.data }));
    const channelIds = new Map<number, number>();
    for (const [id, c] of scan.channels) {
      channelIds.set(
        id,
        await writer.registerChannel({
          schemaId: schemaIds.get(c.schemaId) ?? 0,
          topic: c.stream,
          messageEncoding: c.messageEncoding,
          metadata: new Map(c.kind ? [['senseact.kind', c.kind], ['senseact.modality', c.modality ?? '']] : []),
        }),
      );
    }
    for (const m of scan.metadata) await writer.addMetadata(m);
    await writer.addMetadata({
      name: META_REPAIR,
      metadata: encodeMetadata({ repaired_at: new Date().toISOString(), from: path.basename(file), stopped: scan.stopped, lost: report.lost }),
    });
    for (const a of scan.attachments) await writer.addAttachment(a);
    // Messages go through one at a time: McapWriter needs each call awaited before the next.
    await scanLog(
      file,
      async ({ channel, message }) => {
        await writer.addMessage({ ...message, channelId: channelIds.get(channel.id)! });
      },
      (read, size) => onProgress?.(size + read, 2 * size, 'rewriting'),
    );
    await writer.end();
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  // Check the result with the indexed reader before it takes the final name.
  const check = await LogReader.open(tmp, { recover: false });
  let total = 0;
  for (const c of check.channels) total += check.count(c.stream);
  await check.close();
  if (total !== scan.messages) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`repair check failed: wrote ${scan.messages} messages, read back ${total}`);
  }
  report.original_kept_as = keepOriginal(file);
  fs.renameSync(tmp, out);
  if (out !== file) fs.rmSync(file);
  fsyncDir(path.dirname(path.resolve(out)));
  return report;
}
