// sensors/: sample schemas (zod), streams and their health, the synchronizer,
// MCAP logs and the dataset. This file is the only one other folders import.
export * from './schemas.ts';
