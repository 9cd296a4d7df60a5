// Test-only fault injection for `senseact sim serve --faults` (off unless that
// flag is given). Owned by runtime/ (issue #8): its tests use it to break the
// simulator's streams in the ways real robots break, through one service:
//
//   /senseact/faults  (senseact_msgs/Fault), args { fault, topic?, ... }:
//     stop       { topic, duration_s? }           stop publishing the topic
//     freeze     { topic, duration_s? }           repeat the last message's data (fresh stamps): a stuck sensor
//     nan        { topic, count, literal? }       the next `count` messages carry NaN values (JSON null;
//                                                  literal: true sends bare NaN tokens, as Python's rosbridge does)
//     time_jump  { topic, offset_s, duration_s? } shift header stamps by offset_s
//     malformed  { topic, kind, count }           replace the next `count` messages: kind is
//                                                  wrong_type | missing_fields | bad_length | not_json | not_an_op
//     clear      {}                               every fault off
//     commands   { since_ms? }                    the motion commands received (wall ms, client, twist or gripper)
//
// The response's `message` is JSON (the command log for `commands`).
import { z } from 'zod';

export const FAULT_SERVICE = '/senseact/faults';

const topic = z.string().min(1).max(256);
const duration = z.number().positive().max(3600).optional();

export const FaultArgs = z.discriminatedUnion('fault', [
  z.object({ fault: z.literal('stop'), topic, duration_s: duration }),
  z.object({ fault: z.literal('freeze'), topic, duration_s: duration }),
  z.object({ fault: z.literal('nan'), topic, count: z.number().int().min(1).max(100_000), literal: z.boolean().optional() }),
  z.object({ fault: z.literal('time_jump'), topic, offset_s: z.number().min(-3600).max(3600), duration_s: duration }),
  z.object({
    fault: z.literal('malformed'),
    topic,
    kind: z.enum(['wrong_type', 'missing_fields', 'bad_length', 'not_json', 'not_an_op']),
    count: z.number().int().min(1).max(100_000),
  }),
  z.object({ fault: z.literal('clear') }),
  z.object({ fault: z.literal('commands'), since_ms: z.number().optional() }),
]);
export type FaultArgs = z.infer<typeof FaultArgs>;

export interface CommandRecord {
  /** Wall-clock ms (Date.now) when the server received it. */
  t_ms: number;
  client: number;
  topic: string;
  msg: unknown;
}

interface Active {
  fault: FaultArgs;
  untilMs: number;
  remaining: number;
  frozen?: Record<string, unknown>;
}

const NAN_MARK = '__senseact_nan__';

export class FaultInjector {
  private readonly active = new Map<string, Active[]>();
  private readonly commands: CommandRecord[] = [];

  /** Handles a call to FAULT_SERVICE. */
  call(args: unknown, nowMs = Date.now()): { ok: boolean; message: string } {
    const r = FaultArgs.safeParse(args ?? {});
    if (!r.success) return { ok: false, message: `invalid fault: ${r.error.issues[0]?.path.join('.') || 'args'}: ${r.error.issues[0]?.message}` };
    const f = r.data;
    if (f.fault === 'clear') {
      this.active.clear();
      return { ok: true, message: 'all faults cleared' };
    }
    if (f.fault === 'commands') {
      const since = f.since_ms ?? 0;
      return { ok: true, message: JSON.stringify(this.commands.filter((c) => c.t_ms >= since)) };
    }
    const list = this.active.get(f.topic) ?? [];
    const until = 'duration_s' in f && f.duration_s ? nowMs + f.duration_s * 1000 : Infinity;
    list.push({ fault: f, untilMs: until, remaining: 'count' in f ? f.count : Infinity });
    this.active.set(f.topic, list);
    return { ok: true, message: `${f.fault} on ${f.topic}` };
  }

  /** Records a motion command the server accepted. */
  noteCommand(topic: string, msg: unknown, client: number, nowMs = Date.now()): void {
    this.commands.push({ t_ms: nowMs, client, topic, msg });
    if (this.commands.length > 20_000) this.commands.splice(0, 10_000);
  }

  /**
   * An outgoing message for `topic` after the active faults: null (dropped), a
   * message object, or raw text to send as is (not valid rosbridge JSON).
   */
  apply(topicName: string, msg: Record<string, unknown>, nowMs = Date.now()): Record<string, unknown> | string | null {
    const list = this.active.get(topicName);
    if (!list) return msg;
    let out: Record<string, unknown> | string | null = msg;
    let replaced = false;
    for (const a of [...list]) {
      if (nowMs >= a.untilMs || a.remaining <= 0) {
        list.splice(list.indexOf(a), 1);
        continue;
      }
      if (out === null || typeof out === 'string') break;
      const f = a.fault;
      // One counted fault (nan, malformed) per message, oldest first.
      if ((f.fault === 'nan' || f.fault === 'malformed') && replaced) continue;
      switch (f.fault) {
        case 'stop':
          out = null;
          break;
        case 'freeze':
          a.frozen ??= structuredClone(out);
          out = { ...a.frozen, ...(out.header ? { header: out.header } : {}) };
          break;
        case 'time_jump': {
          const h = out.header as { stamp?: Record<string, number> } | undefined;
          if (h?.stamp) {
            const s = h.stamp;
            const secKey = 'sec' in s ? 'sec' : 'secs';
            const nsKey = 'nanosec' in s ? 'nanosec' : 'nsecs';
            const ns = s[secKey] * 1e9 + s[nsKey] + f.offset_s * 1e9;
            const sec = Math.floor(ns / 1e9);
            out = { ...out, header: { ...h, stamp: { [secKey]: sec, [nsKey]: Math.round(ns - sec * 1e9) } } };
          }
          break;
        }
        case 'nan': {
          a.remaining--;
          replaced = true;
          const marked = poison(out);
          out = f.literal
            ? JSON.stringify({ op: 'publish', topic: topicName, msg: marked }).replaceAll(`"${NAN_MARK}"`, 'NaN')
            : // JSON has no NaN: a JavaScript bridge sends null (JSON.stringify(NaN) === 'null').
              (JSON.parse(JSON.stringify(marked).replaceAll(`"${NAN_MARK}"`, 'null')) as Record<string, unknown>);
          break;
        }
        case 'malformed':
          a.remaining--;
          replaced = true;
          out = malformed(f.kind, topicName, out);
          break;
      }
    }
    if (list.length === 0) this.active.delete(topicName);
    return out;
  }
}

/** Every number array in the message (data, position, velocity, effort) becomes NaN placeholders. */
function poison(msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...msg };
  for (const k of ['data', 'position', 'velocity', 'effort']) {
    const v = out[k];
    if (Array.isArray(v)) out[k] = v.map(() => NAN_MARK);
  }
  return out;
}

function malformed(kind: string, topicName: string, msg: Record<string, unknown>): Record<string, unknown> | string {
  switch (kind) {
    case 'wrong_type':
      // A std_msgs/String where another type was expected.
      return { data: 'this is not the message you are looking for' };
    case 'missing_fields': {
      const { data: _d, position: _p, ...rest } = msg;
      return rest;
    }
    case 'bad_length': {
      const out = { ...msg };
      for (const k of ['data', 'position']) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).slice(0, -1);
      return out;
    }
    case 'not_json':
      return `{"op":"publish","topic":"${topicName}","msg":{"data":[1,2,`;
    default:
      return JSON.stringify({ hello: 'not a rosbridge op' });
  }
}
