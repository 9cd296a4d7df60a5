// The loss curve as a standalone SVG: log-scale training loss, validation
// points, no dependencies, viewable in any browser or embedded in a report.
export interface CurvePoint {
  step: number;
  loss: number;
}

export function lossCurveSvg(train: CurvePoint[], val: CurvePoint[], title = 'training loss'): string {
  const W = 640;
  const H = 320;
  const pad = { l: 60, r: 20, t: 30, b: 40 };
  const all = [...train, ...val].filter((p) => Number.isFinite(p.loss) && p.loss > 0);
  const maxStep = Math.max(1, ...all.map((p) => p.step));
  const lo = Math.log10(Math.min(...all.map((p) => p.loss), 1));
  const hi = Math.log10(Math.max(...all.map((p) => p.loss), 1e-3));
  const span = Math.max(hi - lo, 1e-6);
  const x = (s: number) => pad.l + (s / maxStep) * (W - pad.l - pad.r);
  const y = (l: number) => pad.t + (1 - (Math.log10(l) - lo) / span) * (H - pad.t - pad.b);
  const path = (pts: CurvePoint[]) => pts.filter((p) => p.loss > 0).map((p, i) => `${i ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  const ticks: string[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    const v = 10 ** e;
    if (Math.log10(v) < lo - 1e-9 || Math.log10(v) > hi + 1e-9) continue;
    ticks.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">1e${e}</text>`);
  }
  if (ticks.length < 2) {
    // Less than a decade of range: label the ends instead.
    for (const v of [10 ** lo, 10 ** hi]) ticks.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toPrecision(2)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${title}</text>
${ticks.join('\n')}
<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="#333"/>
<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#333"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">step (0 … ${maxStep})</text>
<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>
${val.map((p) => `<circle cx="${x(p.step)}" cy="${y(p.loss)}" r="3" fill="#d62728"/>`).join('')}
<text x="${W - pad.r}" y="${pad.t + 12}" text-anchor="end" font-size="11" fill="#1f77b4">train</text>
<text x="${W - pad.r}" y="${pad.t + 26}" text-anchor="end" font-size="11" fill="#d62728">validation</text>
</svg>
`;
}
