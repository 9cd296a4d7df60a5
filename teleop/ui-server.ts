// The `senseact ui` server: serves the built web app and hosts the recording
// session the page drives, on loopback by default.
//
//   GET  /                  the app (web/dist, built by `npm install`; nothing is fetched elsewhere)
//   GET  /api/config        UiConfig: the robot's rosbridge URL, key and gamepad maps, speeds
//   GET  /api/status        the session's status (JSON)
//   POST /api/episode       {action: start|save_success|save_failure|discard|rerecord} → {ok, message}
//   WS   /api/session       ClientMessage in, ServerMessage out (teleop/api.ts), status at 5 Hz
//
// Every request body and WebSocket message is validated with zod. Browsers
// may only reach the API from this server's own origin (a page elsewhere
// cannot drive the robot through the operator's browser).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ClientMessage, EpisodeRequest, type ServerMessage, type UiConfig } from './api.ts';
import type { TeleopConfig } from './config.ts';
import type { RecordingSession, SessionEvent } from './session.ts';

export interface UiServerOptions {
  session: RecordingSession;
  config: TeleopConfig;
  robotUrl: string;
  task: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built app (index.html and assets). */
  staticDir: string;
  statusHz?: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

const MAX_BODY = 64 * 1024;

export class UiServer {
  private server!: http.Server;
  private wss!: WebSocketServer;
  private readonly clients = new Map<WebSocket, number>();
  private nextClient = 0;
  private statusTimer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;

  private constructor(private readonly opts: UiServerOptions) {}

  static async start(opts: UiServerOptions): Promise<UiServer> {
    if (!fs.existsSync(path.join(opts.staticDir, 'index.html'))) {
      throw new Error(`the web app is not built (${opts.staticDir}/index.html is missing); run \`npm run build:web\``);
    }
    const s = new UiServer(opts);
    s.server = http.createServer((req, res) => void s.handle(req, res));
    s.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
    s.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/session' || !s.originAllowed(req)) {
        socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      s.wss.handleUpgrade(req, socket, head, (ws) => s.accept(ws));
    });
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(opts.port ?? 8090, opts.host ?? '127.0.0.1', () => resolve());
    });
    s.offEvents = opts.session.on((e) => s.broadcast({ type: 'event', event: eventMsg(e) }));
    s.statusTimer = setInterval(() => s.broadcast({ type: 'status', status: opts.session.status() }), 1000 / (opts.statusHz ?? 5));
    return s;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}/`;
  }

  uiConfig(): UiConfig {
    const c = this.opts.config;
    return {
      robot_url: this.opts.robotUrl,
      task: this.opts.task,
      keys: c.keys,
      gamepad: c.gamepad,
      deadman: c.deadman,
      speeds: c.speeds,
      control_hz: c.control_hz,
    };
  }

  /**
   * Same-origin only: a browser request's Origin must name the host it reached us by, and on a
   * loopback address that host must be a loopback name (a DNS-rebinding page cannot pass).
   * Requests without Origin (curl, scripts) come from this machine's own processes.
   */
  private originAllowed(req: http.IncomingMessage): boolean {
    const host = req.headers.host ?? '';
    const a = this.server.address() as AddressInfo;
    const loopback = a.address === '127.0.0.1' || a.address === '::1';
    if (loopback && !/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host)) return false;
    const origin = req.headers.origin;
    if (!origin) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (!this.originAllowed(req)) return json(403, { ok: false, message: 'refused: not this server\'s origin' });
    try {
      if (url.pathname === '/api/status' && req.method === 'GET') return json(200, this.opts.session.status());
      if (url.pathname === '/api/config' && req.method === 'GET') return json(200, this.uiConfig());
      if (url.pathname === '/api/episode') {
        if (req.method !== 'POST') return json(405, { ok: false, message: 'POST only' });
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return json(415, { ok: false, message: 'send application/json' });
        const body = await readBody(req);
        let raw: unknown;
        try {
          raw = JSON.parse(body);
        } catch {
          return json(400, { ok: false, message: 'body is not JSON' });
        }
        const r = EpisodeRequest.safeParse(raw);
        if (!r.success) return json(400, { ok: false, message: issueText(r.error) });
        const result = await this.opts.session.command(r.data.action, r.data.notes);
        return json(result.ok ? 200 : 409, result);
      }
      if (url.pathname.startsWith('/api/')) return json(404, { ok: false, message: 'no such endpoint' });
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { ok: false, message: 'GET only' });
      return this.serveStatic(url.pathname, res);
    } catch (err) {
      if (!res.headersSent) json(500, { ok: false, message: (err as Error).message });
      else res.end();
    }
  }

  private serveStatic(pathname: string, res: http.ServerResponse): void {
    const root = path.resolve(this.opts.staticDir);
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const cache = rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store';
    res.writeHead(200, { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' });
    fs.createReadStream(file).pipe(res);
  }

  private accept(ws: WebSocket): void {
    const n = this.nextClient++;
    this.clients.set(ws, n);
    const session = this.opts.session;
    const send = (m: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    send({ type: 'hello', config: this.uiConfig() });
    for (const e of session.recentEvents().slice(-20)) send({ type: 'event', event: eventMsg(e) });
    send({ type: 'status', status: session.status() });
    const sources = new Set<string>();
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({ type: 'error', message: 'binary messages are not accepted' });
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return send({ type: 'error', message: 'message is not JSON' });
      }
      const r = ClientMessage.safeParse(raw);
      if (!r.success) return send({ type: 'error', message: issueText(r.error) });
      const m = r.data;
      switch (m.type) {
        case 'hold': {
          const source = `web${n}:${m.source}`;
          sources.add(source);
          session.hold(source, m.input);
          return;
        }
        case 'release':
          session.release(`web${n}:${m.source}`);
          return;
        case 'gripper':
          session.gripper(m.action);
          return;
        case 'episode':
          void session.command(m.action, m.notes).then((res) => send({ type: 'result', id: m.id, ok: res.ok, message: res.message }));
          return;
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      // Dead-man: a page that goes away lets go of everything it held, at once.
      for (const s of sources) session.release(s);
      this.clients.delete(ws);
    });
  }

  private broadcast(m: ServerMessage): void {
    if (!this.clients.size) return;
    const text = JSON.stringify(m);
    for (const ws of this.clients.keys()) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  async close(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.offEvents?.();
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function eventMsg(e: SessionEvent) {
  return { level: e.level, kind: e.kind, message: e.message, t_ms: e.t_ms };
}

function issueText(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = err.issues[0];
  return `${i?.path.length ? i.path.map(String).join('.') + ': ' : ''}${i?.message ?? 'invalid'}`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
