// Ending the async pino destination of long-running commands (serve) without reordering lines.
/**
 * Writes what the async log stream still holds, in order, and closes it (stdout itself stays open).
 * Not `flushSync`: while an async write is in flight it writes the later lines first, so 'stopped'
 * could land before 'shutdown'. A pipe that never drains is left to the 10 s watchdog.
 */
export function endLog(dest: { end(): void; once(event: 'close', cb: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    dest.once('close', resolve);
    dest.end();
  });
}
