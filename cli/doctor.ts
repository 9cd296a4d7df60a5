// `senseact doctor`: what this machine offers senseact, and which backend it picks.
import os from 'node:os';
import { z } from 'zod';
import { acquireBackend } from '../kernels/index.ts';

export const DoctorReport = z.object({
  node: z.string(),
  os: z.object({ platform: z.string(), release: z.string(), arch: z.string() }),
  cpu: z.object({ model: z.string(), cores: z.number().int().positive() }),
  adapter: z
    .object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      features: z.array(z.string()),
      limits: z.record(z.string(), z.number()),
    })
    .nullable(),
  backend: z.enum(['webgpu', 'cpu']),
  reason: z.string(),
  fix: z.string().nullable(),
  software_driver: z.boolean(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export async function doctorReport(): Promise<DoctorReport> {
  const choice = await acquireBackend();
  const cpus = os.cpus();
  const report: DoctorReport = {
    node: process.version,
    os: { platform: process.platform, release: os.release(), arch: process.arch },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: Math.max(1, cpus.length) },
    adapter: choice.gpu?.adapter ?? null,
    backend: choice.backend,
    reason: choice.reason,
    fix: choice.backend === 'cpu' ? choice.fix : null,
    software_driver: choice.gpu?.softwareDriver ?? false,
  };
  choice.gpu?.release();
  return report;
}

const KEY_LIMITS = ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize', 'maxBufferSize'];

export function formatDoctor(r: DoctorReport): string {
  const lines = [
    `node       ${r.node}`,
    `os         ${r.os.platform} ${r.os.release} (${r.os.arch})`,
    `cpu        ${r.cpu.model} × ${r.cpu.cores}`,
  ];
  if (r.adapter) {
    const a = r.adapter;
    lines.push(`adapter    ${a.description || a.device} [vendor ${a.vendor || '?'}, arch ${a.architecture || '?'}]`);
    lines.push(`driver     ${r.software_driver ? 'software (Mesa lavapipe): correct, not fast' : 'hardware'}`);
    lines.push(`features   ${a.features.join(', ') || '(none)'}`);
    lines.push(`limits     ${KEY_LIMITS.map((k) => `${k}=${a.limits[k]}`).join(' ')}`);
  } else {
    lines.push('adapter    none');
  }
  lines.push(`backend    ${r.backend} — ${r.reason}`);
  if (r.fix) lines.push(`fix        ${r.fix}`);
  return lines.join('\n');
}
