// Prometheus text exposition (format 0.0.4), written by hand: the daemon has a
// fixed, small set of metrics, and a private registry avoids prom-client's
// process-global default registry and one more dependency on the robot.
// Base units (seconds, bytes, hertz), counters end in `_total`.

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const entries = Object.entries(labels ?? {});
  if (extra) entries.push(extra);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const key = (labels?: Labels) => JSON.stringify(Object.entries(labels ?? {}).sort());

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
  }
  header(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }
  abstract body(): string;
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels?: Labels; v: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(by = 1, labels?: Labels): void {
    const k = key(labels);
    const e = this.values.get(k);
    if (e) e.v += by;
    else this.values.set(k, { labels, v: by });
  }
  /** For counters kept elsewhere (monotonic by construction). */
  set(v: number, labels?: Labels): void {
    this.values.set(key(labels), { labels, v });
  }
  body(): string {
    if (this.values.size === 0) return `${this.name} 0\n`;
    let s = '';
    for (const { labels, v } of this.values.values()) s += `${this.name}${labelText(labels)} ${num(v)}\n`;
    return s;
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, { labels?: Labels; v: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(v: number, labels?: Labels): void {
    this.values.set(key(labels), { labels, v });
  }
  body(): string {
    let s = '';
    for (const { labels, v } of this.values.values()) s += `${this.name}${labelText(labels)} ${num(v)}\n`;
    return s;
  }
}

export class Histogram extends Metric {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i] > buckets[i - 1])) throw new Error(`${name}: buckets must increase`);
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  /** Upper bound of the bucket holding quantile q (from the buckets: coarse by design). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const want = q * this.count;
    for (let i = 0; i < this.buckets.length; i++) if (this.counts[i] >= want) return this.buckets[i];
    return Infinity;
  }
  get total(): number {
    return this.count;
  }
  body(): string {
    let s = '';
    for (let i = 0; i < this.buckets.length; i++) s += `${this.name}_bucket${labelText(undefined, ['le', num(this.buckets[i])])} ${this.counts[i]}\n`;
    s += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    s += `${this.name}_sum ${num(this.sum)}\n${this.name}_count ${this.count}\n`;
    return s;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.push(m);
    return m;
  }
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  render(): string {
    return this.metrics.map((m) => m.header() + m.body()).join('');
  }
}

/** Seconds buckets from 0.5 ms to 2.5 s, fine where control ticks live. */
export const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];
