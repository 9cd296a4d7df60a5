// sensors/: sample schemas (zod), streams and their health, the synchronizer,
// MCAP logs and the dataset. Built in issue #4; nothing is exported yet.
export {};
