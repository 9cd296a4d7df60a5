// `senseact serve`: the runtime as a monitored daemon.
//
//   GET  /healthz   liveness: the control loop ticked within health.liveness_s
//   GET  /readyz    readiness: connected, required streams usable, policy warmed up
//   GET  /metrics   Prometheus text
//   GET  /status    JSON
//   POST /ack       operator acknowledgement (resume after a stop, when configured)
//   POST /estop     body {"engaged": true|false} (or ?engaged=1|0)
//   GET  /debug/heap  heap after a full GC (only with config debug: true and node --expose-gc)
//
// Logs are JSON lines (pino) on stdout. SIGTERM/SIGINT: safe stop, flush, exit 0.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RuntimeConfig } from './config.ts';
import { Runtime, createController, createRobot, resolveStreams, type RuntimeLogger } from './runtime.ts';

export interface DaemonOptions {
  policy: string;
  robot: string;
  config: RuntimeConfig;
  configFile: string | null;
  http: { host: string; port: number };
  logger: RuntimeLogger;
  backend?: 'auto' | 'webgpu' | 'cpu';
}

export class Daemon {
  private server: http.Server | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly runtime: Runtime,
    private readonly o: DaemonOptions,
  ) {}

  static async start(o: DaemonOptions): Promise<Daemon> {
    const controller = await createController(o.policy, o.backend);
    try {
      const streams = resolveStreams(o.config, controller);
      const robot = await createRobot(o.robot, o.config, streams, o.logger);
      const runtime = new Runtime({ config: o.config, controller, robot, streams, logger: o.logger });
      const d = new Daemon(runtime, o);
      await d.listen();
      o.logger.info(
        {
          policy: o.policy,
          kind: controller.kind,
          robot: o.robot,
          config: o.configFile,
          rate_hz: o.config.rate_hz,
          streams: streams.map((s) => ({ name: s.name, topic: s.entry.topic, required: s.required })),
        },
        'serve starting',
      );
      await runtime.start();
      return d;
    } catch (err) {
      controller.dispose();
      throw err;
    }
  }

  get url(): string {
    const a = this.server!.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        this.o.logger.error({ err: err.message, url: req.url }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.http.port, this.o.http.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.o.logger.info({ url: this.url }, 'http listening');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rt = this.runtime;
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /healthz': {
        const last = rt.loop.stats.last_tick_ns;
        const ageS = (rt.robot.clock.nowNs() - last) / 1e9;
        const alive = last > 0 && ageS < this.o.config.health.liveness_s && !rt.stopped;
        return json(alive ? 200 : 503, { alive, last_tick_age_s: ageS });
      }
      case 'GET /readyz': {
        const r = rt.readiness();
        return json(r.ready ? 200 : 503, r);
      }
      case 'GET /metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(rt.metrics());
        return;
      case 'GET /status':
        return json(200, rt.status());
      case 'POST /ack':
        return json(200, { acknowledged: rt.ack(), state: rt.gate.state });
      case 'POST /estop': {
        const body = await readBody(req);
        let engaged: unknown = url.searchParams.has('engaged') ? url.searchParams.get('engaged') === '1' || url.searchParams.get('engaged') === 'true' : undefined;
        if (engaged === undefined && body) {
          try {
            engaged = (JSON.parse(body) as { engaged?: unknown }).engaged;
          } catch {
            return json(400, { error: 'body must be JSON {"engaged": true|false}' });
          }
        }
        if (typeof engaged !== 'boolean') return json(400, { error: 'engaged must be true or false' });
        rt.setEstop(engaged, 'http');
        return json(200, { engaged, state: rt.gate.state });
      }
      case 'GET /debug/heap': {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (!this.o.config.debug || !gc) return json(404, { error: 'debug endpoints need config debug: true and node --expose-gc' });
        gc();
        return json(200, process.memoryUsage());
      }
      default:
        return json(404, { error: `no route ${route}` });
    }
  }

  /** Safe stop, stop the loop, close the robot and the HTTP server. Idempotent. */
  shutdown(signal: string): Promise<void> {
    this.stopping ??= (async () => {
      this.o.logger.info({ signal }, 'shutdown');
      await this.runtime.stop();
      await new Promise<void>((resolve) => {
        if (!this.server) return resolve();
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      this.o.logger.info({ signal }, 'stopped');
    })();
    return this.stopping;
  }
}

function readBody(req: http.IncomingMessage, max = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
