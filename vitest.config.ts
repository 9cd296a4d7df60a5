import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Dawn and child processes do not like being shared across worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  },
});
