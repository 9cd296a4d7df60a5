// The page's link to the `senseact ui` server, which hosts the recording
// session: operator input and episode commands go out, status and events come
// back. Every message is validated with the zod schemas of teleop/api.ts.
import { ClientMessage, ServerMessage, type StatusMsg, type UiConfig } from '../../teleop/api.ts';

type EventMsg = Extract<ServerMessage, { type: 'event' }>['event'];

export class SessionLink {
  state: 'connecting' | 'connected' | 'disconnected' = 'connecting';
  config: UiConfig | null = null;
  status: StatusMsg | null = null;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: { ok: boolean; message: string }) => void>();
  onConfig: (c: UiConfig) => void = () => {};
  onStatus: (s: StatusMsg) => void = () => {};
  onEvent: (e: EventMsg) => void = () => {};
  onState: (s: SessionLink['state']) => void = () => {};
  onProtocolError: (message: string) => void = () => {};

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.setState('connected');
    ws.onclose = () => {
      this.setState('disconnected');
      for (const [, resolve] of this.pending) resolve({ ok: false, message: 'lost the session link' });
      this.pending.clear();
      window.setTimeout(() => this.connect(), 1000);
    };
    ws.onmessage = (ev) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(ev.data));
      } catch {
        return this.onProtocolError('server sent non-JSON');
      }
      const r = ServerMessage.safeParse(raw);
      if (!r.success) return this.onProtocolError(`server message rejected: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
      const m = r.data;
      switch (m.type) {
        case 'hello':
          this.config = m.config;
          return this.onConfig(m.config);
        case 'status':
          this.status = m.status;
          return this.onStatus(m.status);
        case 'event':
          return this.onEvent(m.event);
        case 'result': {
          const resolve = this.pending.get(m.id);
          this.pending.delete(m.id);
          return resolve?.({ ok: m.ok, message: m.message });
        }
        case 'error':
          return this.onProtocolError(m.message);
      }
    };
  }

  private setState(s: SessionLink['state']): void {
    this.state = s;
    this.onState(s);
  }

  send(m: ClientMessage): boolean {
    const checked = ClientMessage.parse(m);
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(checked));
    return true;
  }

  episode(action: Extract<ClientMessage, { type: 'episode' }>['action']): Promise<{ ok: boolean; message: string }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.send({ type: 'episode', id, action })) return resolve({ ok: false, message: 'not connected to the ui server' });
      this.pending.set(id, resolve);
    });
  }
}
