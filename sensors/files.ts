// File helpers shared by the log writer, repair and the dataset: atomic
// writes (temporary name, fsync, rename, fsync of the directory) and CRC-32.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** Makes a rename durable: fsync the directory that holds the entry. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself still happened.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export function tempNameFor(file: string): string {
  return `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Writes `data` to `file` so that `file` is either the old content or all of the new. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(file);
  const fd = fs.openSync(tmp, 'wx');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(path.resolve(file)));
}

/**
 * Reads a JSON file through a zod schema. Bounded before reading; every error
 * names the file and, for schema errors, the field path.
 */
export function readJsonFile<T>(file: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, maxBytes = 64 * 1024 * 1024): T {
  const size = fs.statSync(file).size;
  if (size > maxBytes) throw new Error(`${file}: ${size} bytes exceeds the ${maxBytes}-byte limit for this file`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${file}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

let table: Uint32Array | null = null;
function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const nativeCrc = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (the MCAP checksum), continuing from `prev`. Native zlib.crc32 when Node has it (≥ 20.15). */
export function crc32(data: Uint8Array, prev = 0): number {
  if (nativeCrc) return nativeCrc(data, prev) >>> 0;
  const t = crcTable();
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
