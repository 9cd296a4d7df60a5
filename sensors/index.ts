// sensors/: sample schemas (zod), streams and their health, the synchronizer,
// MCAP logs and the dataset. This file is the only one other folders import.
export * from './schemas.ts';
export * from './clock.ts';
export * from './health.ts';
export * from './stream.ts';
export * from './synchronizer.ts';
export * from './codec.ts';
export { compressChunk, decompressHandlers, loadCompression, type Compression } from './compression.ts';
export * from './files.ts';
export * from './log-writer.ts';
export * from './log-reader.ts';
export * from './image.ts';
export * from './dataset.ts';
export * from './synthetic.ts';
