// The `senseact ui` server's API against a fake robot: static files, zod
// validation of every request and WebSocket message, same-origin rules, and
// the dead-man release when a page's socket closes.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTeleopConfig, RecordingSession, UiServer, type ServerMessage } from '../../teleop/index.ts';
import { FAKE_RATES, FakeRobot } from './fake-robot.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let server: UiServer;
let session: RecordingSession;
let robot: FakeRobot;
let dir: string;
let port: number;

function request(method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'senseact-uiserver-'));
  const stat = path.join(dir, 'static');
  fs.mkdirSync(path.join(stat, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(stat, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(stat, 'assets/app.js'), 'export {}');
  const config = parseTeleopConfig({ streams: Object.fromEntries(Object.entries(FAKE_RATES).map(([s, hz]) => [s, { expected_hz: hz }])) });
  robot = new FakeRobot();
  await robot.start();
  session = await RecordingSession.open({ robot, outDir: path.join(dir, 'data'), task: 'fake-task', config });
  server = await UiServer.start({ session, config, robotUrl: 'ws://127.0.0.1:1', task: 'fake-task', port: 0, staticDir: stat });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.close();
  await session?.close();
  await robot?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ui server', () => {
  it('listens on loopback and serves the app, never files outside it', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await request('GET', '/');
    expect(index.status).toBe(200);
    expect(index.type).toMatch(/text\/html/);
    expect((await request('GET', '/assets/app.js')).type).toMatch(/javascript/);
    expect((await request('GET', '/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await request('GET', '/nope.js')).status).toBe(404);
  });

  it('gives the page its config and the status as JSON', async () => {
    const cfg = JSON.parse((await request('GET', '/api/config')).body);
    expect(cfg).toMatchObject({ robot_url: 'ws://127.0.0.1:1', task: 'fake-task', control_hz: 20 });
    expect(cfg.keys.forward).toContain('w');
    const st = JSON.parse((await request('GET', '/api/status')).body);
    expect(st).toMatchObject({ state: 'idle', task: 'fake-task', episode: 0 });
  });

  it('validates episode requests and names what is wrong', async () => {
    const bad = await request('POST', '/api/episode', JSON.stringify({ action: 'explode' }), json);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toMatch(/^action: /);
    expect((await request('POST', '/api/episode', '{', json)).status).toBe(400);
    expect((await request('POST', '/api/episode', JSON.stringify({ action: 'start' }), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await request('GET', '/api/episode')).status).toBe(405);
    expect((await request('POST', '/api/episode', JSON.stringify({ action: 'save_success' }), json)).status).toBe(409); // not recording
    expect((await request('POST', '/api/episode', JSON.stringify({ action: 'start' }), json)).status).toBe(200);
    await sleep(300);
    const saved = await request('POST', '/api/episode', JSON.stringify({ action: 'save_success' }), json);
    expect(saved.status).toBe(200);
    expect(fs.readdirSync(path.join(dir, 'data'))).toEqual(['fake-task-episode000000.mcap']);
  });

  it('refuses other origins and non-loopback host names (DNS rebinding)', async () => {
    const cross = await request('POST', '/api/episode', JSON.stringify({ action: 'start' }), { ...json, origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    expect((await request('GET', '/api/status', undefined, { host: `evil.example:${port}` })).status).toBe(403);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/session`, { origin: 'http://evil.example' });
        ws.on('open', () => resolve('open'));
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/403/);
  });

  it('streams status over the WebSocket, validates messages, and releases held input when the page goes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/session`, { origin: `http://127.0.0.1:${port}` });
    const got: ServerMessage[] = [];
    ws.on('message', (d) => got.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.on('open', r));
    await sleep(300);
    expect(got[0].type).toBe('hello');
    expect(got.some((m) => m.type === 'status')).toBe(true);

    ws.send(JSON.stringify({ type: 'hold', source: 'keyboard', input: { x: 2, y: 0, z: 0, yaw: 0, gripper: 0 } }));
    ws.send('not json');
    await sleep(100);
    const errors = got.filter((m) => m.type === 'error').map((m) => (m as { message: string }).message);
    expect(errors).toEqual([expect.stringMatching(/^input\.x: /), 'message is not JSON']);

    ws.send(JSON.stringify({ type: 'episode', id: 7, action: 'discard' }));
    await sleep(100);
    expect(got.find((m) => m.type === 'result')).toMatchObject({ id: 7, ok: false, message: 'not recording' });

    const hold = () => ws.send(JSON.stringify({ type: 'hold', source: 'keyboard', input: { x: 1, y: 0, z: 0, yaw: 0, gripper: 0 } }));
    hold();
    await sleep(120);
    hold();
    await sleep(120);
    expect(session.status().command.engaged).toBe(true);
    expect(robot.commands.at(-1)!.linear[0]).toBeGreaterThan(0);
    ws.close();
    await sleep(150); // released at once, well before the input timeout
    expect(session.status().command.engaged).toBe(false);
    expect(robot.commands.at(-1)!.linear).toEqual([0, 0, 0]);
  });
});
