// The tuning cache as a file (Node only): under the user's cache directory
// by default, written atomically (temp file, fsync, rename, fsync of the
// directory) so a crash leaves the old file or the new one, never half.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TuneStore } from './tuneCache.ts';

/** $SENSEACT_TUNE_CACHE, else $XDG_CACHE_HOME/senseact/kernels.json, else ~/.cache/senseact/kernels.json. */
export function defaultTuneCachePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SENSEACT_TUNE_CACHE) return env.SENSEACT_TUNE_CACHE;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'senseact', 'kernels.json');
}

export function fileTuneStore(file: string): TuneStore {
  return {
    where: file,
    read() {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    write(text: string) {
      const dir = path.dirname(file);
      fs.mkdirSync(dir, { recursive: true });
      const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      try {
        const dfd = fs.openSync(dir, 'r');
        fs.fsyncSync(dfd);
        fs.closeSync(dfd);
      } catch {
        // Some filesystems refuse fsync on a directory; the rename is still atomic.
      }
    },
  };
}
