// The live sensor panels: camera image, tactile heatmaps, smell traces, and
// the health table. Each takes ROS messages as rosbridge delivers them.
import type { StatusMsg } from '../../teleop/api.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ------------------------------------------------------------------ camera

export interface CompressedImage {
  format: string;
  data: string;
}

export class CameraPanel {
  private frames = 0;
  private readonly times: number[] = [];
  private readonly img = $<HTMLImageElement>('camera');
  private readonly info = $('camera-info');

  update(msg: CompressedImage): void {
    const type = /png/i.test(msg.format) ? 'png' : 'jpeg';
    this.img.src = `data:image/${type};base64,${msg.data}`;
    this.frames++;
    this.img.dataset.frames = String(this.frames);
    const now = performance.now();
    this.times.push(now);
    while (this.times.length && now - this.times[0] > 2000) this.times.shift();
    if (this.frames % 10 === 1) {
      const hz = this.times.length > 1 ? ((this.times.length - 1) * 1000) / (now - this.times[0]) : 0;
      this.info.textContent = `${msg.format}, ${hz.toFixed(0)} fps shown`;
    }
  }
}

// ------------------------------------------------------------------ touch

export interface MultiArray {
  layout?: { dim?: { label?: string; size?: number }[] };
  data: number[];
}

/** 0 → dark blue, 0.5 → teal/yellow, 1 → red (a perceptual-ish ramp without a library). */
function heat(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const stops: [number, number, number][] = [
    [16, 24, 64],
    [30, 110, 160],
    [60, 180, 120],
    [240, 210, 60],
    [220, 50, 40],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export class TactilePanel {
  private readonly canvas: HTMLCanvasElement;
  private readonly label: HTMLElement;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    pad: 'left' | 'right',
    /** Force at which a taxel shows full red, N (uSkin-like saturation). */
    private readonly fullScaleN = 3,
  ) {
    this.canvas = $<HTMLCanvasElement>(`tactile-${pad}`);
    this.label = $(`tactile-${pad}-n`);
    this.ctx = this.canvas.getContext('2d')!;
  }

  update(msg: MultiArray): void {
    const dims = msg.layout?.dim ?? [];
    const n = msg.data.length;
    let rows = dims[0]?.size ?? 0;
    let cols = dims[1]?.size ?? 0;
    if (!rows || !cols || rows * cols * 3 !== n) rows = cols = Math.round(Math.sqrt(n / 3));
    const { width: w, height: h } = this.canvas;
    const cw = w / cols;
    const ch = h / rows;
    let total = 0;
    let peak = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const k = (r * cols + c) * 3;
        const normal = Math.max(0, msg.data[k + 2] ?? 0);
        total += normal;
        peak = Math.max(peak, normal);
        this.ctx.fillStyle = heat(normal / this.fullScaleN);
        this.ctx.fillRect(c * cw, r * ch, cw - 1, ch - 1);
        // Shear as a short white stroke from the cell centre.
        const sx = msg.data[k] ?? 0;
        const sy = msg.data[k + 1] ?? 0;
        if (Math.hypot(sx, sy) > 0.05) {
          const cx = c * cw + cw / 2;
          const cy = r * ch + ch / 2;
          const s = (Math.min(cw, ch) * 0.45) / this.fullScaleN;
          this.ctx.strokeStyle = 'rgba(255,255,255,0.85)';
          this.ctx.beginPath();
          this.ctx.moveTo(cx, cy);
          this.ctx.lineTo(cx + sx * s * this.fullScaleN, cy - sy * s * this.fullScaleN);
          this.ctx.stroke();
        }
      }
    }
    this.canvas.dataset.force = total.toFixed(3);
    this.canvas.dataset.peak = peak.toFixed(3);
    this.label.textContent = `${total.toFixed(2)} N`;
  }
}

// ------------------------------------------------------------------ smell

const COLORS = ['#d9480f', '#1971c2', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#c2255c', '#5f3dc4'];

/**
 * Metal-oxide e-nose channels fall in resistance when gas arrives, so the
 * trace is the usual response R₀/R − 1 (0 in clean air, rising with gas),
 * with R₀ each channel's highest resistance since this page connected (the
 * cleanest air it has seen).
 */
export class SmellPanel {
  private readonly history: { t: number; values: number[] }[] = [];
  private baseline: number[] = [];
  private readonly canvas = $<HTMLCanvasElement>('smell');
  private readonly legend = $('smell-legend');
  private readonly ctx = this.canvas.getContext('2d')!;
  private count = 0;

  constructor(private readonly windowS = 60) {}

  update(msg: MultiArray): void {
    const now = performance.now() / 1000;
    const raw = msg.data;
    if (this.baseline.length !== raw.length) this.baseline = [...raw];
    for (let i = 0; i < raw.length; i++) if (raw[i] > this.baseline[i]) this.baseline[i] = raw[i];
    const values = raw.map((r, i) => (r > 0 ? this.baseline[i] / r - 1 : 0));
    this.history.push({ t: now, values });
    while (this.history.length && now - this.history[0].t > this.windowS) this.history.shift();
    this.count++;
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    this.canvas.dataset.latest = mean.toFixed(4);
    this.canvas.dataset.count = String(this.count);
    this.draw(now);
    this.legend.innerHTML = values.map((v, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>ch${i} ${v.toFixed(3)}</span>`).join('');
  }

  private draw(now: number): void {
    const { width: w, height: h } = this.canvas;
    const ctx = this.ctx;
    ctx.clearRect(0, 0, w, h);
    let ymax = 0.1;
    for (const p of this.history) for (const v of p.values) ymax = Math.max(ymax, v);
    ymax *= 1.1;
    const x = (t: number) => w - ((now - t) / this.windowS) * w;
    const y = (v: number) => h - 14 - (v / ymax) * (h - 24);
    ctx.strokeStyle = '#e3e6ea';
    ctx.fillStyle = '#8a939c';
    ctx.font = '10px system-ui';
    for (let s = 0; s <= this.windowS; s += 10) {
      ctx.beginPath();
      ctx.moveTo(x(now - s), 0);
      ctx.lineTo(x(now - s), h - 12);
      ctx.stroke();
      ctx.fillText(s ? `-${s}s` : 'now', Math.max(0, x(now - s) - (s ? 12 : 22)), h - 2);
    }
    ctx.fillText(ymax.toFixed(2), 2, 10);
    const channels = this.history[0]?.values.length ?? 0;
    for (let c = 0; c < channels; c++) {
      ctx.strokeStyle = COLORS[c % COLORS.length];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      this.history.forEach((p, i) => (i ? ctx.lineTo(x(p.t), y(p.values[c])) : ctx.moveTo(x(p.t), y(p.values[c]))));
      ctx.stroke();
    }
  }
}

// ------------------------------------------------------------------ health

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderHealth(status: StatusMsg): void {
  const body = document.querySelector('#health tbody')!;
  const rate = (hz: number | null, exp: number) => `${hz === null ? '–' : hz.toFixed(hz >= 10 ? 0 : 1)} / ${exp.toFixed(exp >= 10 ? 0 : 1)} Hz`;
  const age = (s: number | null) => (s === null ? '–' : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);
  body.innerHTML = status.streams
    .map((s) => `<tr data-stream="${esc(s.stream)}" data-level="${s.level}"><td>${esc(s.stream)}</td><td class="level">${s.level}</td><td>${rate(s.rate_hz, s.expected_hz)}</td><td>${age(s.age_s)}</td><td>${esc(s.message)}</td></tr>`)
    .join('');
}

interface DiagnosticStatus {
  level: number | string;
  name: string;
  message: string;
  values?: { key: string; value: string }[];
}

const LEVEL_NAMES = ['OK', 'WARN', 'ERROR', 'STALE'];

/** Shows /senseact/health (the runtime's diagnostics): the safe-stop state and each component. */
export function renderDiagnostics(msg: { status?: DiagnosticStatus[] }): void {
  const list = msg.status ?? [];
  const levelOf = (l: number | string) => (typeof l === 'number' ? (LEVEL_NAMES[l] ?? String(l)) : l.length === 1 ? (LEVEL_NAMES[l.charCodeAt(0)] ?? l) : l);
  const table = $<HTMLTableElement>('diagnostics');
  table.hidden = list.length === 0;
  table.querySelector('tbody')!.innerHTML = list.map((s) => `<tr data-level="${levelOf(s.level)}"><td>${esc(s.name)}</td><td class="level">${levelOf(s.level)}</td><td>${esc(s.message)}</td></tr>`).join('');
  const badge = $('safestop');
  const top = list.find((s) => s.name === 'senseact') ?? list[0];
  if (!top) return;
  const stop = top.values?.find((v) => v.key === 'stop')?.value === 'true' || /safe stop/i.test(top.message);
  badge.dataset.state = stop ? 'stopped' : levelOf(top.level) === 'OK' ? 'running' : levelOf(top.level);
  badge.textContent = stop ? `SAFE STOP: ${top.message}` : `safe-stop: no (${top.message})`;
}
