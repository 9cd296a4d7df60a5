import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import zstd from '@foxglove/wasm-zstd';
import { CompressedImage } from '@foxglove/schemas/jsonschema';
import { McapIndexedReader, McapStreamReader, type McapTypes } from '@mcap/core';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogReader, LogWriter, repairLog, syntheticMix, testCard, type Sample } from '../../sensors/index.ts';

const T0 = 1_700_000_000_000_000_000;
const META = { task: 'pick-place', robot: 'sim-arm', operator: 'tester', seed: 7, success: null, notes: 'round trip' };
const CALIBRATION = new TextEncoder().encode('camera_matrix: [500, 0, 320, 0, 500, 240, 0, 0, 1]\n');

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-log-'));
  await zstd.isLoaded;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** @mcap/core's own indexed reader over the file bytes, zstd via Foxglove's wasm build. */
async function mcapReader(bytes: Uint8Array): Promise<McapIndexedReader> {
  return McapIndexedReader.Initialize({
    readable: {
      size: async () => BigInt(bytes.length),
      read: async (offset: bigint, size: bigint) => bytes.subarray(Number(offset), Number(offset + size)),
    },
    decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) },
  });
}

async function writeEpisode(file: string, samples: Sample[], bad: unknown[] = []): Promise<{ errors: string[] }> {
  const w = await LogWriter.open(file, { meta: META });
  w.addAttachment('calibration/camera.yaml', 'application/yaml', CALIBRATION, T0);
  const errors: string[] = [];
  samples.forEach((s, i) => {
    const r = w.write(s);
    expect(r.ok).toBe(true);
    const b = bad[i];
    if (b !== undefined) {
      const rb = w.write(b);
      expect(rb.ok).toBe(false);
      if (!rb.ok) errors.push(rb.error.message);
    }
  });
  expect(fs.existsSync(file + '.partial')).toBe(true);
  expect(fs.existsSync(file)).toBe(false);
  await w.finalize({ success: true, notes: 'done' });
  expect(fs.existsSync(file + '.partial')).toBe(false);
  return { errors };
}

const frames = [0, 1, 2].map((p) => testCard(64, 48, p));
const mix = (seconds: number) => [...syntheticMix({ t0_ns: T0, frames, action_hz: 50 }, seconds)];

describe('MCAP episode log', () => {
  it("round trip: @mcap/core's reader sees every channel, schema, count and timestamp", async () => {
    const file = path.join(dir, 'roundtrip.mcap');
    const samples = mix(3);
    await writeEpisode(file, samples);
    const bytes = fs.readFileSync(file);
    const reader = await mcapReader(bytes);

    const streams = [...new Set(samples.map((s) => s.stream))].sort();
    const channels = [...reader.channelsById.values()];
    expect(channels.map((c) => c.topic).sort()).toEqual(streams);
    const schemaOf = (topic: string) => {
      const c = channels.find((ch) => ch.topic === topic)!;
      expect(c.messageEncoding).toBe('json');
      const s = reader.schemasById.get(c.schemaId)!;
      expect(s.encoding).toBe('jsonschema');
      return s.name;
    };
    expect(schemaOf('camera/wrist')).toBe('foxglove.CompressedImage');
    expect(schemaOf('tactile/left')).toBe('senseact.TactileTaxels');
    expect(schemaOf('smell')).toBe('senseact.Smell');
    expect(schemaOf('proprio')).toBe('senseact.Proprio');
    expect(schemaOf('action')).toBe('senseact.Action');

    expect(Number(reader.statistics!.messageCount)).toBe(samples.length);
    for (const c of channels) {
      expect(Number(reader.statistics!.channelMessageCounts.get(c.id))).toBe(samples.filter((s) => s.stream === c.topic).length);
    }
    // Every message, in order per stream, with its capture time, receive time and seq.
    const got = new Map<string, [number, number, number][]>();
    for await (const m of reader.readMessages()) {
      const topic = reader.channelsById.get(m.channelId)!.topic;
      if (!got.has(topic)) got.set(topic, []);
      got.get(topic)!.push([Number(m.publishTime), Number(m.logTime), m.sequence]);
    }
    for (const stream of streams) {
      const want = samples.filter((s) => s.stream === stream).map((s) => [s.t_capture_ns, s.t_receive_ns, s.seq]);
      expect(got.get(stream)).toEqual(want);
    }
    // Chunked, zstd-compressed, none spanning a second (our bound is 0.5 s of capture).
    expect(reader.chunkIndexes.length).toBeGreaterThanOrEqual(6);
    for (const c of reader.chunkIndexes) {
      expect(c.compression).toBe('zstd');
      expect(Number(c.messageEndTime - c.messageStartTime)).toBeLessThan(0.5e9);
    }
    // The data section CRC in DataEnd matches the bytes.
    expect(reader.dataSectionCrc).toBe(zlib.crc32(bytes.subarray(0, Number(reader.dataEndOffset))));
    // Episode metadata and the calibration attachment.
    const meta = new Map<string, Map<string, string>>();
    for await (const m of reader.readMetadata()) meta.set(m.name, m.metadata);
    expect(JSON.parse(meta.get('senseact.episode')!.get('task')!)).toBe('pick-place');
    expect(JSON.parse(meta.get('senseact.episode')!.get('seed')!)).toBe(7);
    expect(JSON.parse(meta.get('senseact.episode.end')!.get('success')!)).toBe(true);
    const attachments: McapTypes.Attachment[] = [];
    for await (const a of reader.readAttachments()) attachments.push(a);
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toMatchObject({ name: 'calibration/camera.yaml', mediaType: 'application/yaml' });
    expect(Buffer.from(attachments[0].data).equals(Buffer.from(CALIBRATION))).toBe(true);

    // The streaming reader agrees the file is complete and every chunk CRC holds.
    const sr = new McapStreamReader({ decompressHandlers: { zstd: (buf, size) => zstd.decompress(buf, Number(size)) }, validateCrcs: true });
    sr.append(bytes);
    let n = 0;
    for (let r; (r = sr.nextRecord()); ) if (r.type === 'Message') n++;
    expect(sr.done()).toBe(true);
    expect(n).toBe(samples.length);
  });

  it('camera messages validate against Foxglove\'s own foxglove.CompressedImage schema and keep the JPEG bytes', async () => {
    const file = path.join(dir, 'foxglove.mcap');
    const samples = mix(0.5);
    await writeEpisode(file, samples);
    const reader = await mcapReader(fs.readFileSync(file));
    const cam = [...reader.channelsById.values()].find((c) => c.topic === 'camera/wrist')!;
    // The schema stored in the file is the official one, byte for byte as JSON.
    expect(JSON.parse(new TextDecoder().decode(reader.schemasById.get(cam.schemaId)!.data))).toEqual(CompressedImage);
    const validate = new Ajv({ strict: false }).compile(CompressedImage as object);
    const sent = samples.filter((s) => s.stream === 'camera/wrist');
    let i = 0;
    for await (const m of reader.readMessages({ topics: ['camera/wrist'] })) {
      const msg = JSON.parse(new TextDecoder().decode(m.data));
      expect(validate(msg), JSON.stringify(validate.errors)).toBe(true);
      expect(msg.format).toBe('jpeg');
      expect(msg.timestamp).toEqual({ sec: Math.floor(sent[i].t_capture_ns / 1e9), nsec: sent[i].t_capture_ns % 1e9 });
      expect(Buffer.from(msg.data, 'base64').equals(Buffer.from((sent[i].data as { data: Uint8Array }).data))).toBe(true);
      i++;
    }
    expect(i).toBe(sent.length);
  });

  it('our reader decodes every sample back to what was written (forces bit-exact)', async () => {
    const file = path.join(dir, 'decode.mcap');
    const samples = mix(1);
    await writeEpisode(file, samples);
    const r = await LogReader.open(file);
    expect(r.indexed).toBe(true);
    expect(r.episode.meta).toMatchObject({ ...META, success: true, notes: 'done' });
    const back: Sample[] = [];
    for await (const s of r.samples()) back.push(s);
    await r.close();
    const key = (s: Sample) => `${s.stream}:${s.seq}`;
    const byKey = new Map(back.map((s) => [key(s), s]));
    expect(back).toHaveLength(samples.length);
    for (const s of samples) {
      const b = byKey.get(key(s))!;
      expect(b.t_capture_ns).toBe(s.t_capture_ns);
      expect(b.t_receive_ns).toBe(s.t_receive_ns);
      const d = s.data as Record<string, unknown>;
      if (d.forces instanceof Float32Array) {
        const f = (b.data as { forces: Float32Array }).forces;
        expect(Buffer.from(f.buffer, f.byteOffset, f.byteLength).equals(Buffer.from(d.forces.buffer, d.forces.byteOffset, d.forces.byteLength))).toBe(true);
      } else if (d.data instanceof Uint8Array) {
        expect(b.data).toEqual(s.data);
      } else {
        // JSON has no -0: compare as JSON numbers.
        expect(b.data).toEqual(JSON.parse(JSON.stringify(s.data)));
      }
    }
  });

  it('bad input is rejected with the field named and never reaches or corrupts the log', async () => {
    const file = path.join(dir, 'bad.mcap');
    const samples = mix(1);
    const t = T0 + 5e8;
    const nan = new Float32Array(48);
    nan[5] = Number.NaN;
    const bad: unknown[] = [];
    bad[3] = { stream: 'tactile/left', t_capture_ns: t, t_receive_ns: t, seq: 1, data: { pad: 'left', rows: 4, cols: 4, forces: nan } };
    bad[10] = { stream: 'camera/wrist', t_capture_ns: t, t_receive_ns: t, seq: 1, data: { encoding: 'jpeg', width: 1e6, height: 1e6, frame_id: 'x', data: new Uint8Array(4) } };
    bad[20] = { stream: 'smell', t_capture_ns: t, t_receive_ns: t, seq: 1 };
    bad[30] = { stream: 'proprio', t_capture_ns: t, t_receive_ns: t, seq: 1, data: { names: ['a'], position: [], velocity: [0], effort: [0], gripper_opening: 0, gripper_force: 0 } };
    // A raw image on the channel already recorded as compressed images.
    bad[40] = { stream: 'camera/wrist', t_capture_ns: t, t_receive_ns: t, seq: 1, data: { encoding: 'rgb8', width: 1, height: 1, frame_id: 'x', data: new Uint8Array(3) } };
    bad[50] = 'not a sample';
    const { errors } = await writeEpisode(file, samples, bad);
    expect(errors).toEqual([
      'tactile/left: data.forces.5: force is NaN, must be finite',
      'camera/wrist: data.width: Too big: expected number to be <=4096',
      'smell: data: Invalid input: expected object, received undefined',
      'proprio: data.position: 0 entries for 1 joints',
      'camera/wrist: data: stream is recorded as compressed_image; a raw_image sample cannot share its channel',
      "?: (sample): sample must be an object",
    ]);
    const reader = await mcapReader(fs.readFileSync(file));
    expect(Number(reader.statistics!.messageCount)).toBe(samples.length);
  });

  it('closes chunks on receive time and per-stream capture time, so streams on different clocks do not force tiny chunks', async () => {
    const file = path.join(dir, 'clocks.mcap');
    const w = await LogWriter.open(file, { meta: META, flushEveryMs: null });
    // proprio stamps with the epoch clock, the tactile pad with its own boot clock (starting at 1 s).
    for (let i = 0; i < 300; i++) {
      const r = T0 + i * 10e6;
      expect(w.write({ stream: 'proprio', t_capture_ns: r, t_receive_ns: r, seq: i, data: { names: ['j'], position: [i], velocity: [0], effort: [0], gripper_opening: 0, gripper_force: 0 } }).ok).toBe(true);
      expect(w.write({ stream: 'tactile/left', t_capture_ns: 1e9 + i * 10e6, t_receive_ns: r, seq: i, data: { pad: 'left', rows: 1, cols: 1, forces: new Float32Array([0, 0, i]) } }).ok).toBe(true);
    }
    const summary = await w.finalize();
    expect(summary.chunks).toBe(6);
    const reader = await mcapReader(fs.readFileSync(file));
    for (const c of reader.chunkIndexes) expect(Number(c.messageEndTime - c.messageStartTime)).toBeLessThan(0.5e9);
  });

  it('refuses to overwrite an existing log or a crashed one', async () => {
    const crashed = path.join(dir, 'crashed.mcap');
    fs.writeFileSync(crashed + '.partial', 'x');
    await expect(LogWriter.open(crashed, { meta: META })).rejects.toThrow(/crashed\.mcap\.partial exists .*senseact dataset repair/);
    const file = path.join(dir, 'exists.mcap');
    fs.writeFileSync(file, 'x');
    await expect(LogWriter.open(file, { meta: META })).rejects.toThrow(/refusing to overwrite/);
    await expect(LogWriter.open(path.join(dir, 'm.mcap'), { meta: { ...META, seed: 1.5 } })).rejects.toThrow(/meta\.seed/);
  });

  it('a log cut at any byte yields exactly the messages of every chunk completed before the cut', async () => {
    const file = path.join(dir, 'cut-source.mcap');
    const samples = mix(3);
    await writeEpisode(file, samples);
    const bytes = fs.readFileSync(file);
    const index = await mcapReader(bytes);
    const chunks = index.chunkIndexes.map((c) => ({ end: Number(c.chunkStartOffset + c.chunkLength), start: Number(c.chunkStartOffset) }));
    const perChunk: number[] = [];
    for (const c of index.chunkIndexes) {
      let n = 0;
      for await (const _m of index.readMessages({ startTime: c.messageStartTime, endTime: c.messageEndTime })) n++;
      perChunk.push(n);
    }
    // Cuts: just before and at each chunk's end, mid-chunk, and the whole data section.
    const cuts = chunks.flatMap((c) => [c.end - 1, c.end, Math.floor((c.start + c.end) / 2)]);
    for (const cut of cuts) {
      const f = path.join(dir, `cut-${cut}.mcap.partial`);
      fs.writeFileSync(f, bytes.subarray(0, cut));
      const r = await LogReader.open(f);
      expect(r.indexed).toBe(false);
      let n = 0;
      for await (const _s of r.samples()) n++;
      const want = chunks.reduce((acc, c, i) => acc + (c.end <= cut ? perChunk[i] : 0), 0);
      expect(n, `cut at ${cut}`).toBe(want);
      fs.rmSync(f);
    }
  });

  it('a corrupted chunk stops recovery there; everything before it is kept', async () => {
    const file = path.join(dir, 'corrupt-source.mcap');
    await writeEpisode(file, mix(3));
    const bytes = Buffer.from(fs.readFileSync(file));
    const index = await mcapReader(bytes);
    const third = index.chunkIndexes[2];
    bytes[Number(third.chunkStartOffset + third.chunkLength) - 10] ^= 0xff;
    const f = path.join(dir, 'corrupt.mcap');
    fs.writeFileSync(f, bytes);
    const r = await LogReader.open(f);
    expect(r.indexed).toBe(true);
    // The index still opens; reading the damaged chunk fails (zstd or CRC check)...
    await expect(async () => {
      for await (const _s of r.samples()) void _s;
    }).rejects.toThrow();
    await r.close();
    // ...and repair keeps the two chunks before it.
    const report = await repairLog(f);
    expect(report.recovered.chunks).toBe(2);
    expect(report.stopped).toMatch(/^unreadable record at byte \d+: /);
    const fixed = await mcapReader(fs.readFileSync(f));
    expect(Number(fixed.statistics!.messageCount)).toBe(report.recovered.messages);
    expect(fs.existsSync(f + '.orig')).toBe(true);
  });

  it('repair turns NAME.mcap.partial into a valid indexed NAME.mcap and reports recovered and lost', async () => {
    const file = path.join(dir, 'crash.mcap');
    const samples = mix(3);
    await writeEpisode(file, samples);
    const bytes = fs.readFileSync(file);
    const index = await mcapReader(bytes);
    const c4 = index.chunkIndexes[4];
    // Cut 100 bytes into the fifth chunk: its header (and time span) survives, its data does not.
    const partial = path.join(dir, 'ep1.mcap.partial');
    fs.writeFileSync(partial, bytes.subarray(0, Number(c4.chunkStartOffset) + 100));
    const report = await repairLog(partial);
    expect(report.out).toBe(path.join(dir, 'ep1.mcap'));
    expect(report.recovered.chunks).toBe(4);
    expect(report.lost.bytes).toBe(100);
    expect(report.lost.seconds).toBeCloseTo(Number(c4.messageEndTime - c4.messageStartTime) / 1e9, 6);
    expect(report.lost.messages_estimate).toBeGreaterThan(0);
    expect(report.lost.unflushed_at_most_s).toBe(0.5);
    expect(fs.existsSync(partial)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'ep1.mcap.orig'))).toBe(true);
    const fixed = await mcapReader(fs.readFileSync(path.join(dir, 'ep1.mcap')));
    expect(Number(fixed.statistics!.messageCount)).toBe(report.recovered.messages);
    const names = [];
    for await (const m of fixed.readMetadata()) names.push(m.name);
    expect(names).toEqual(expect.arrayContaining(['senseact.episode', 'senseact.log', 'senseact.repair']));
    const att = [];
    for await (const a of fixed.readAttachments()) att.push(a.name);
    expect(att).toEqual(['calibration/camera.yaml']);
    // A valid log is left alone.
    const again = await repairLog(path.join(dir, 'ep1.mcap'));
    expect(again.already_valid).toBe(true);
    expect(again.out).toBeNull();
  });
});
