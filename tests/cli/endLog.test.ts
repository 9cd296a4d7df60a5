import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { endLog } from '../../cli/endLog.ts';

describe('endLog', () => {
  // The async destination has the first line's write in flight when the last lines are logged;
  // flushSync then writes those first (out of order in about a third of rounds here), endLog never does.
  it('writes every line of an async pino destination in the order logged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-endlog-'));
    for (let round = 0; round < 50; round++) {
      const file = path.join(dir, `${round}.log`);
      const dest = pino.destination({ dest: fs.openSync(file, 'w'), sync: false });
      const logger = pino({ base: null }, dest);
      for (const msg of ['shutdown', 'shutdown: safe stop', 'stopped']) logger.info(msg);
      await endLog(dest);
      const msgs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg);
      expect(msgs, `round ${round}`).toEqual(['shutdown', 'shutdown: safe stop', 'stopped']);
    }
    fs.rmSync(dir, { recursive: true });
  });
});
