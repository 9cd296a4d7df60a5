// The one-line live status of a recording session, for the terminal:
//   ● REC #3 4.2s │ cam 30.0Hz 12ms │ tacL 100Hz 3ms │ … │ grip 0.00 │ ⚠ camera/wrist: WARN 20.0 Hz, below 27.0 Hz
// Pure: status in, string out.
import type { SessionStatus, StreamStatus } from './session.ts';

const SHORT: Record<string, string> = {
  'camera/wrist': 'cam',
  'tactile/left': 'tacL',
  'tactile/right': 'tacR',
  smell: 'smell',
  proprio: 'prop',
  action: 'act',
};

const ANSI = { reset: '\x1b[0m', red: '\x1b[31m', yellow: '\x1b[33m', green: '\x1b[32m', dim: '\x1b[2m', bold: '\x1b[1m' };

export function shortName(stream: string): string {
  return SHORT[stream] ?? stream;
}

function fmtRate(hz: number | null): string {
  if (hz === null) return '–Hz';
  return hz >= 10 ? `${hz.toFixed(0)}Hz` : `${hz.toFixed(1)}Hz`;
}

function fmtAge(s: number | null): string {
  if (s === null) return '–';
  return s < 1 ? `${Math.round(s * 1000)}ms` : `${s.toFixed(1)}s`;
}

function streamCell(s: StreamStatus, color: boolean): string {
  const text = `${shortName(s.stream)} ${fmtRate(s.rate_hz)} ${fmtAge(s.age_s)}`;
  if (s.level === 'OK') return text;
  const mark = `${text} ${s.level}`;
  if (!color) return `!${mark}`;
  return (s.level === 'WARN' ? ANSI.yellow : ANSI.red) + mark + ANSI.reset;
}

export function formatStatus(st: SessionStatus, opts: { color?: boolean; width?: number } = {}): string {
  const color = opts.color ?? false;
  const paint = (c: keyof typeof ANSI, s: string) => (color ? ANSI[c] + s + ANSI.reset : s);
  let head: string;
  switch (st.state) {
    case 'recording':
      head = paint('red', `● REC #${st.episode} ${st.recording_s.toFixed(1)}s`);
      break;
    case 'resetting':
      head = `… reset #${st.episode}`;
      break;
    case 'saving':
      head = `… saving #${st.episode}`;
      break;
    case 'closed':
      head = 'closed';
      break;
    default:
      head = `idle, next #${st.episode}`;
  }
  if (st.connection.state !== 'connected') head += ' ' + paint('red', st.connection.state.toUpperCase());
  const cells = [head, ...st.streams.map((s) => streamCell(s, color)), `grip ${st.command.gripper.toFixed(2)}${st.command.engaged ? ' ▶' : ''}`];
  if (st.warnings.length) cells.push(paint('yellow', `⚠ ${st.warnings[0]}${st.warnings.length > 1 ? ` (+${st.warnings.length - 1})` : ''}`));
  const line = cells.join(' │ ');
  return opts.width ? truncateVisible(line, opts.width) : line;
}

/** Cuts a line to `width` visible characters (ANSI colour codes do not count), so a redraw never wraps. */
export function truncateVisible(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const esc = /^\x1b\[[0-9;]*m/.exec(line.slice(i, i + 12));
    if (esc) {
      out += esc[0];
      i += esc[0].length - 1;
      continue;
    }
    if (visible >= width - 1 && i < line.length - 1) return out + '…' + (out.includes('\x1b[') ? ANSI.reset : '');
    out += line[i];
    visible++;
  }
  return out;
}
