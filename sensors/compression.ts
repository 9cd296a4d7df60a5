// Chunk compression for MCAP logs: zstd through @foxglove/wasm-zstd, the
// WebAssembly build Foxglove's own @mcap/support uses (nothing downloads at
// install, no native build).
import zstd from '@foxglove/wasm-zstd';
import type { McapTypes } from '@mcap/core';

/** Largest decompressed chunk we accept from a file (our own chunks are ≤ 4 MiB). */
export const MAX_CHUNK_BYTES = 512 * 1024 * 1024;

let ready: Promise<unknown> | null = null;

/** Resolves once the wasm module is loaded; call (and await) before compressing. */
export function loadCompression(): Promise<unknown> {
  ready ??= zstd.isLoaded;
  return ready;
}

export type Compression = 'zstd' | 'none';

/**
 * Compresses a chunk; returns the raw bytes (compression '') when zstd would
 * not make it smaller, so readers do no needless work.
 */
export function compressChunk(data: Uint8Array, compression: Compression, level = 1): { compression: string; data: Uint8Array } {
  if (compression === 'none' || data.length === 0) return { compression: '', data };
  const out = zstd.compress(data, level);
  if (out.length >= data.length) return { compression: '', data };
  return { compression: 'zstd', data: out };
}

/** Decompress handlers for @mcap/core readers, with the declared size bounded first. */
export const decompressHandlers: McapTypes.DecompressHandlers = {
  zstd: (buffer: Uint8Array, size: bigint) => {
    if (size > BigInt(MAX_CHUNK_BYTES)) throw new Error(`chunk declares ${size} uncompressed bytes (limit ${MAX_CHUNK_BYTES})`);
    return zstd.decompress(buffer, Number(size));
  },
};
