// The episode log writer: one MCAP file per episode, one channel per stream at
// its native rate, chunked and zstd-compressed, indexed on finalize.
//
// Crash safety. The file is written as NAME.mcap.partial. Schemas and channels
// are written as top-level records the moment a stream first appears, so every
// later chunk is readable on its own. A chunk is closed — compressed, written
// with one write(2) and fsynced — before it spans `chunkMaxS` (default 0.5 s)
// of receive time, or of any one stream's capture time (streams may have
// different capture clocks), when it reaches `chunkMaxBytes`, and every
// `flushEveryMs` of wall-clock time (default 0.5 s). A killed process
// therefore loses only the open chunk: less than `chunkMaxS` of data, written
// in the last `flushEveryMs`. `finalize()` writes the summary (indexes,
// statistics), fsyncs, renames the file to NAME.mcap and fsyncs the
// directory; a file under its final name is always complete.
//
// We build records with @mcap/core's McapRecordBuilder and McapChunkBuilder
// rather than its McapWriter because McapWriter closes chunks only by size and
// offers no way to close one on time, which the one-second guarantee needs.
import fs from 'node:fs';
import path from 'node:path';
import { McapChunkBuilder, McapRecordBuilder, Opcode, type McapTypes } from '@mcap/core';
import { CHANNEL_SCHEMAS, channelKindOf, encodeSample, modalityOfKind, type ChannelKind } from './codec.ts';
import { compressChunk, loadCompression, type Compression } from './compression.ts';
import { crc32, fsyncDir, writeAllSync } from './files.ts';
import { EpisodeMeta, SampleError, firstIssue, parseSample, type Sample } from './schemas.ts';

export const LOG_FORMAT_VERSION = '1';
export const LIBRARY = 'senseact 0.1.0 (@mcap/core record builder)';
/** Metadata record names. */
export const META_EPISODE = 'senseact.episode';
export const META_EPISODE_END = 'senseact.episode.end';
export const META_LOG = 'senseact.log';
export const META_REPAIR = 'senseact.repair';

export interface LogWriterOptions {
  /** Episode metadata (validated). */
  meta: unknown;
  /** Close a chunk before it spans this much capture time, s. Default 0.5. */
  chunkMaxS?: number;
  /** Close a chunk once its uncompressed records reach this size. Default 4 MiB. */
  chunkMaxBytes?: number;
  /**
   * Also close the open chunk on a wall-clock timer, so a quiet or stalled
   * recorder still gets its data to disk. Default 500 ms; null turns it off.
   */
  flushEveryMs?: number | null;
  compression?: Compression;
  zstdLevel?: number;
  /** fsync after every chunk (default true; off only for benchmarks of the format itself). */
  fsync?: boolean;
}

export type WriteResult = { ok: true } | { ok: false; error: SampleError };

export interface LogSummary {
  file: string;
  messages: number;
  rejected: number;
  chunks: number;
  bytes: number;
  streams: Record<string, number>;
  start_ns: number | null;
  end_ns: number | null;
}

/** Metadata maps hold strings; every value is stored JSON-encoded so types round-trip. */
export function encodeMetadata(obj: Record<string, unknown>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) m.set(k, JSON.stringify(v));
  return m;
}

export function decodeMetadata(m: Map<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of m) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

interface ChannelInfo {
  id: number;
  kind: ChannelKind;
  schemaId: number;
}

export class LogWriter {
  readonly file: string;
  readonly partialFile: string;
  private fd: number | null;
  private position = 0;
  private dataCrc = 0;
  private readonly rb = new McapRecordBuilder();
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  // What the open chunk spans: receive (log) time over all streams, and capture
  // time per stream (streams may run on different capture clocks).
  private chunkMinReceive = Infinity;
  private chunkMaxReceive = -Infinity;
  private readonly chunkFirstCapture = new Map<number, number>();
  private readonly schemaIds = new Map<ChannelKind, number>();
  private readonly schemas: McapTypes.Schema[] = [];
  private readonly channelsByStream = new Map<string, ChannelInfo>();
  private readonly channels: McapTypes.Channel[] = [];
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private readonly metadataIndexes: McapTypes.MetadataIndex[] = [];
  private readonly attachmentIndexes: McapTypes.AttachmentIndex[] = [];
  private readonly channelCounts = new Map<number, bigint>();
  private messageCount = 0;
  private rejectedCount = 0;
  private startLog: bigint | null = null;
  private endLog: bigint | null = null;
  private startCapture: number | null = null;
  private endCapture: number | null = null;
  private readonly opts: Required<Omit<LogWriterOptions, 'meta' | 'flushEveryMs'>>;
  private readonly meta: EpisodeMeta;
  private timer: NodeJS.Timeout | null = null;
  private pendingSync: Promise<void> = Promise.resolve();
  private syncInFlight = false;
  private closed = false;

  private constructor(file: string, fd: number, meta: EpisodeMeta, options: LogWriterOptions) {
    this.file = file;
    this.partialFile = file + '.partial';
    this.fd = fd;
    this.meta = meta;
    this.opts = {
      chunkMaxS: options.chunkMaxS ?? 0.5,
      chunkMaxBytes: options.chunkMaxBytes ?? 4 * 1024 * 1024,
      compression: options.compression ?? 'zstd',
      zstdLevel: options.zstdLevel ?? 1,
      fsync: options.fsync ?? true,
    };
  }

  /**
   * Starts a log that will be finalized as `file` (which must end in .mcap and
   * must not exist yet). Writes go to `file + '.partial'` until finalize().
   */
  static async open(file: string, options: LogWriterOptions): Promise<LogWriter> {
    if (!file.endsWith('.mcap')) throw new Error(`log file name must end in .mcap: ${file}`);
    const parsed = EpisodeMeta.safeParse(options.meta);
    if (!parsed.success) {
      const { path: p, reason } = firstIssue(parsed.error);
      throw new SampleError('episode', ['meta', ...p], reason);
    }
    const chunkMaxS = options.chunkMaxS ?? 0.5;
    if (!(chunkMaxS > 0 && chunkMaxS <= 1)) throw new Error(`chunkMaxS must be in (0, 1] s to keep the crash guarantee, got ${chunkMaxS}`);
    if (fs.existsSync(file)) throw new Error(`refusing to overwrite ${file}`);
    if (fs.existsSync(file + '.partial')) {
      throw new Error(`${file}.partial exists (an unfinished or crashed recording): repair it with \`senseact dataset repair\` or move it away`);
    }
    if ((options.compression ?? 'zstd') === 'zstd') await loadCompression();
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = fs.openSync(file + '.partial', 'wx');
    const w = new LogWriter(file, fd, parsed.data, options);
    w.rb.writeMagic();
    w.rb.writeHeader({ profile: '', library: LIBRARY });
    w.emit();
    const flushEveryMs = options.flushEveryMs === undefined ? 500 : options.flushEveryMs;
    w.writeMetadata(META_LOG, {
      format_version: LOG_FORMAT_VERSION,
      chunk_max_s: w.opts.chunkMaxS,
      flush_every_ms: flushEveryMs,
      compression: w.opts.compression,
      timestamps: 'log_time = t_receive_ns, publish_time = t_capture_ns, sequence = seq',
    });
    w.writeMetadata(META_EPISODE, { started_at: new Date().toISOString(), ...parsed.data });
    w.sync();
    if (flushEveryMs) {
      w.timer = setInterval(() => {
        if (!w.closed && w.chunk.numMessages > 0) w.flushChunk();
      }, flushEveryMs);
      w.timer.unref();
    }
    return w;
  }

  get messages(): number {
    return this.messageCount;
  }
  get rejected(): number {
    return this.rejectedCount;
  }
  get bytesWritten(): number {
    return this.position;
  }

  /** Writes the buffered records to the file (one write), updating position and CRC. */
  private emit(): void {
    const buf = this.rb.buffer;
    if (buf.length === 0) return;
    if (this.fd === null) throw new Error(`log ${this.file} is closed`);
    writeAllSync(this.fd, buf);
    this.dataCrc = crc32(buf, this.dataCrc);
    this.position += buf.length;
    this.rb.reset();
  }

  private writeMetadata(name: string, obj: Record<string, unknown>): void {
    const offset = this.position;
    const length = this.rb.writeMetadata({ name, metadata: encodeMetadata(obj) });
    this.metadataIndexes.push({ offset: BigInt(offset), length, name });
    this.emit();
  }

  /** Background fsync after a chunk; never more than one in flight. */
  private sync(): void {
    if (!this.opts.fsync || this.syncInFlight || this.fd === null) return;
    this.syncInFlight = true;
    const fd = this.fd;
    this.pendingSync = new Promise<void>((resolve) => {
      fs.fsync(fd, () => {
        this.syncInFlight = false;
        resolve();
      });
    });
  }

  private channelFor(sample: Sample): ChannelInfo | SampleError {
    const kind = channelKindOf(sample);
    const existing = this.channelsByStream.get(sample.stream);
    if (existing) {
      if (existing.kind !== kind) {
        return new SampleError(sample.stream, ['data'], `stream is recorded as ${existing.kind}; a ${kind} sample cannot share its channel`);
      }
      return existing;
    }
    let schemaId = this.schemaIds.get(kind);
    if (schemaId === undefined) {
      schemaId = this.schemas.length + 1;
      const def = CHANNEL_SCHEMAS[kind];
      const schema: McapTypes.Schema = { id: schemaId, name: def.name, encoding: def.encoding, data: def.data };
      this.schemas.push(schema);
      this.schemaIds.set(kind, schemaId);
      this.rb.writeSchema(schema);
    }
    const channel: McapTypes.Channel = {
      id: this.channels.length,
      schemaId,
      topic: sample.stream,
      messageEncoding: 'json',
      metadata: new Map([
        ['senseact.kind', kind],
        ['senseact.modality', modalityOfKind(kind)],
      ]),
    };
    this.channels.push(channel);
    this.rb.writeChannel(channel);
    // Top-level schema/channel records go out now, ahead of any chunk using them.
    this.emit();
    const info = { id: channel.id, kind, schemaId };
    this.channelsByStream.set(sample.stream, info);
    return info;
  }

  /**
   * Validates and records one sample. Bad input is rejected with an error
   * naming the field and never reaches the file; I/O errors throw.
   */
  write(raw: unknown): WriteResult {
    if (this.closed) throw new Error(`log ${this.file} is already finalized`);
    const parsed = parseSample(raw);
    if (!parsed.ok) {
      this.rejectedCount++;
      return parsed;
    }
    return this.writeValid(parsed.sample);
  }

  /** Records a sample that has already passed parseSample (e.g. from a Stream). */
  writeValid(sample: Sample): WriteResult {
    if (sample.seq > 0xffffffff) {
      this.rejectedCount++;
      return { ok: false, error: new SampleError(sample.stream, ['seq'], 'seq exceeds the MCAP sequence range (uint32)') };
    }
    const channel = this.channelFor(sample);
    if (channel instanceof SampleError) {
      this.rejectedCount++;
      return { ok: false, error: channel };
    }
    const c = sample.t_capture_ns;
    const r = sample.t_receive_ns;
    if (this.chunk.numMessages > 0) {
      const limit = this.opts.chunkMaxS * 1e9;
      const first = this.chunkFirstCapture.get(channel.id);
      const receiveSpan = Math.max(r, this.chunkMaxReceive) - Math.min(r, this.chunkMinReceive);
      if (receiveSpan >= limit || (first !== undefined && Math.abs(c - first) >= limit)) this.flushChunk();
    }
    const logTime = BigInt(sample.t_receive_ns);
    this.chunk.addMessage({
      channelId: channel.id,
      sequence: sample.seq,
      logTime,
      publishTime: BigInt(c),
      data: encodeSample(sample),
    });
    if (r < this.chunkMinReceive) this.chunkMinReceive = r;
    if (r > this.chunkMaxReceive) this.chunkMaxReceive = r;
    if (!this.chunkFirstCapture.has(channel.id)) this.chunkFirstCapture.set(channel.id, c);
    this.messageCount++;
    this.channelCounts.set(channel.id, (this.channelCounts.get(channel.id) ?? 0n) + 1n);
    if (this.startLog === null || logTime < this.startLog) this.startLog = logTime;
    if (this.endLog === null || logTime > this.endLog) this.endLog = logTime;
    if (this.startCapture === null || c < this.startCapture) this.startCapture = c;
    if (this.endCapture === null || c > this.endCapture) this.endCapture = c;
    if (this.chunk.byteLength >= this.opts.chunkMaxBytes) this.flushChunk();
    return { ok: true };
  }

  /** Stores a file (e.g. a calibration) as an MCAP attachment. */
  addAttachment(name: string, mediaType: string, data: Uint8Array, logTimeNs = Date.now() * 1e6): void {
    if (this.closed) throw new Error(`log ${this.file} is already finalized`);
    const offset = this.position;
    const t = BigInt(Math.round(logTimeNs));
    const attachment = { name, mediaType, data, logTime: t, createTime: t };
    const length = this.rb.writeAttachment(attachment);
    this.attachmentIndexes.push({ offset: BigInt(offset), length, logTime: t, createTime: t, dataSize: BigInt(data.byteLength), name, mediaType });
    this.emit();
    this.sync();
  }

  /** Closes the open chunk now: compress, one write, background fsync. */
  flushChunk(): void {
    if (this.chunk.numMessages === 0 || this.fd === null) return;
    const records = this.chunk.buffer;
    const packed = compressChunk(records, this.opts.compression, this.opts.zstdLevel);
    const chunkStart = this.position;
    const chunkLength = this.rb.writeChunk({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      uncompressedSize: BigInt(records.length),
      uncompressedCrc: crc32(records),
      compression: packed.compression,
      records: packed.data,
    });
    const indexStart = chunkStart + Number(chunkLength);
    const offsets = new Map<number, bigint>();
    let indexLength = 0n;
    for (const index of this.chunk.indices) {
      offsets.set(index.channelId, BigInt(indexStart) + indexLength);
      indexLength += this.rb.writeMessageIndex(index);
    }
    this.chunkIndexes.push({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      chunkStartOffset: BigInt(chunkStart),
      chunkLength,
      messageIndexOffsets: offsets,
      messageIndexLength: indexLength,
      compression: packed.compression,
      compressedSize: BigInt(packed.data.byteLength),
      uncompressedSize: BigInt(records.length),
    });
    // Chunk and its message indexes reach the file in a single write.
    this.emit();
    this.chunk.reset();
    this.chunkMinReceive = Infinity;
    this.chunkMaxReceive = -Infinity;
    this.chunkFirstCapture.clear();
    this.sync();
  }

  /** Closes the open chunk and waits until everything written so far is on disk. */
  async flush(): Promise<void> {
    this.flushChunk();
    await this.pendingSync;
    if (this.opts.fsync && this.fd !== null) fs.fsyncSync(this.fd);
  }

  /**
   * Writes the summary, fsyncs and renames NAME.mcap.partial → NAME.mcap.
   * `result` adds end-of-episode metadata (success, notes, …) as a
   * `senseact.episode.end` record.
   */
  async finalize(result: Record<string, unknown> = {}): Promise<LogSummary> {
    if (this.closed) throw new Error(`log ${this.file} is already finalized`);
    this.flushChunk();
    this.stopTimer();
    this.writeMetadata(META_EPISODE_END, { ended_at: new Date().toISOString(), ...result });
    this.closed = true;
    this.writeSummary();
    await this.pendingSync;
    const fd = this.fd!;
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    this.fd = null;
    if (fs.existsSync(this.file)) throw new Error(`refusing to overwrite ${this.file}; the log stays at ${this.partialFile}`);
    fs.renameSync(this.partialFile, this.file);
    fsyncDir(path.dirname(path.resolve(this.file)));
    return this.summary();
  }

  summary(): LogSummary {
    const streams: Record<string, number> = {};
    for (const [name, info] of this.channelsByStream) streams[name] = Number(this.channelCounts.get(info.id) ?? 0n);
    return {
      file: this.closed ? this.file : this.partialFile,
      messages: this.messageCount,
      rejected: this.rejectedCount,
      chunks: this.chunkIndexes.length,
      bytes: this.position,
      streams,
      start_ns: this.startCapture,
      end_ns: this.endCapture,
    };
  }

  /** Drops the episode: closes and deletes the partial file. */
  async discard(): Promise<void> {
    this.stopTimer();
    this.closed = true;
    await this.pendingSync;
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.rmSync(this.partialFile, { force: true });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** DataEnd, the summary section and the footer, as @mcap/core's McapWriter.end() lays them out. */
  private writeSummary(): void {
    // The data section CRC covers every byte before the DataEnd record.
    this.rb.writeDataEnd({ dataSectionCrc: this.dataCrc });
    this.writeRaw(this.rb.buffer);
    this.rb.reset();

    const summaryStart = this.position;
    let summaryCrc = 0;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => bigint) => {
      const start = this.position;
      const length = write();
      if (length > 0n) offsets.push({ groupOpcode: opcode, groupStart: BigInt(start), groupLength: length });
      summaryCrc = crc32(this.rb.buffer, summaryCrc);
      this.writeRaw(this.rb.buffer);
      this.rb.reset();
    };
    group(Opcode.SCHEMA, () => this.schemas.reduce((n, s) => n + this.rb.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => this.channels.reduce((n, c) => n + this.rb.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () =>
      this.rb.writeStatistics({
        messageCount: BigInt(this.messageCount),
        schemaCount: this.schemas.length,
        channelCount: this.channels.length,
        attachmentCount: this.attachmentIndexes.length,
        metadataCount: this.metadataIndexes.length,
        chunkCount: this.chunkIndexes.length,
        messageStartTime: this.startLog ?? 0n,
        messageEndTime: this.endLog ?? 0n,
        channelMessageCounts: this.channelCounts,
      }),
    );
    group(Opcode.METADATA_INDEX, () => this.metadataIndexes.reduce((n, m) => n + this.rb.writeMetadataIndex(m), 0n));
    group(Opcode.ATTACHMENT_INDEX, () => this.attachmentIndexes.reduce((n, a) => n + this.rb.writeAttachmentIndex(a), 0n));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.reduce((n, c) => n + this.rb.writeChunkIndex(c), 0n));

    const summaryOffsetStart = this.position;
    for (const o of offsets) this.rb.writeSummaryOffset(o);
    summaryCrc = crc32(this.rb.buffer, summaryCrc);
    this.writeRaw(this.rb.buffer);
    this.rb.reset();

    // Footer: opcode, length, summary_start, summary_offset_start, then the CRC of
    // everything from summary_start through summary_offset_start.
    const pre = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    pre.setUint8(0, Opcode.FOOTER);
    pre.setBigUint64(1, 20n, true);
    pre.setBigUint64(9, BigInt(summaryStart), true);
    pre.setBigUint64(17, BigInt(summaryOffsetStart), true);
    summaryCrc = crc32(new Uint8Array(pre.buffer), summaryCrc);
    this.rb.writeFooter({ summaryStart: BigInt(summaryStart), summaryOffsetStart: BigInt(summaryOffsetStart), summaryCrc });
    this.rb.writeMagic();
    this.writeRaw(this.rb.buffer);
    this.rb.reset();
  }

  private writeRaw(buf: Uint8Array): void {
    if (buf.length === 0) return;
    writeAllSync(this.fd!, buf);
    this.position += buf.length;
  }
}
