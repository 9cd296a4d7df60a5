// Health verdicts with ROS diagnostics semantics (diagnostic_msgs/DiagnosticStatus):
// levels OK=0, WARN=1, ERROR=2, STALE=3, and a rollup that takes the worst.
// Every verdict carries a short message a person can act on.

export const LEVELS = ['OK', 'WARN', 'ERROR', 'STALE'] as const;
export type Level = (typeof LEVELS)[number];

/** The numeric level as in diagnostic_msgs/DiagnosticStatus (OK 0 … STALE 3). */
export function levelValue(level: Level): number {
  return LEVELS.indexOf(level);
}

/** The worse of two levels; STALE ranks worst, as its numeric value says. */
export function worse(a: Level, b: Level): Level {
  return levelValue(a) >= levelValue(b) ? a : b;
}

export function worst(levels: Iterable<Level>): Level {
  let w: Level = 'OK';
  for (const l of levels) w = worse(w, l);
  return w;
}

/** Lowers `level` to at most `cap` (used while a sensor warms up). */
export function capLevel(level: Level, cap: Level): Level {
  return levelValue(level) > levelValue(cap) ? cap : level;
}

/** One named check and its verdict. */
export interface CheckResult {
  name: string;
  level: Level;
  message: string;
}

/** A rolled-up verdict: the worst level of its checks, with their messages. */
export interface Verdict {
  level: Level;
  message: string;
  checks: CheckResult[];
}

export function rollup(checks: CheckResult[]): Verdict {
  const level = worst(checks.map((c) => c.level));
  const message =
    level === 'OK'
      ? checks
          .filter((c) => c.message)
          .map((c) => c.message)
          .join('; ') || 'OK'
      : checks
          .filter((c) => c.level === level)
          .map((c) => `${c.name}: ${c.message}`)
          .join('; ');
  return { level, message, checks };
}
