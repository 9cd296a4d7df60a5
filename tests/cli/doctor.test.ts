import { describe, expect, it } from 'vitest';
import { DoctorReport } from '../../cli/doctor.ts';
import { senseact } from '../helpers/cli.ts';
import { adapterInChild } from '../helpers/gpu.ts';

const gpu = await adapterInChild();
// Pointing the Vulkan loader at a missing ICD hides every adapter from Dawn:
// the same code path as a machine with no driver.
const NO_ADAPTER = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

describe('senseact doctor', () => {
  it.skipIf(!gpu)('--json reports the WebGPU adapter and picks the webgpu backend', () => {
    const run = senseact(['doctor', '--json']);
    expect(run.status).toBe(0);
    const report = DoctorReport.parse(JSON.parse(run.stdout));
    expect(report.backend).toBe('webgpu');
    expect(report.adapter).not.toBeNull();
    expect(report.adapter!.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(report.fix).toBeNull();
    expect(report.node).toBe(process.version);
    // lavapipe is a software driver; a hardware adapter is not.
    expect(report.software_driver).toBe(/llvmpipe|lavapipe/i.test(report.adapter!.description + report.adapter!.device));
  });

  it('without an adapter it falls back to the CPU backend with a reason and the fix', () => {
    const run = senseact(['doctor', '--json'], NO_ADAPTER);
    expect(run.status).toBe(0);
    const report = DoctorReport.parse(JSON.parse(run.stdout));
    expect(report.backend).toBe('cpu');
    expect(report.adapter).toBeNull();
    expect(report.reason).toMatch(/no WebGPU adapter/);
    expect(report.fix).toMatch(/npm run setup:gpu/);
    expect(report.software_driver).toBe(false);
  });

  it('--require-webgpu exits 1 with one line when there is no adapter', () => {
    const run = senseact(['doctor', '--require-webgpu'], NO_ADAPTER);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^senseact: no WebGPU adapter/m);
  });

  it.skipIf(!gpu)('--require-webgpu passes when an adapter exists', () => {
    expect(senseact(['doctor', '--require-webgpu']).status).toBe(0);
  });

  it('SENSEACT_BACKEND=cpu forces the CPU backend and says so', () => {
    const report = DoctorReport.parse(JSON.parse(senseact(['doctor', '--json'], { SENSEACT_BACKEND: 'cpu' }).stdout));
    expect(report.backend).toBe('cpu');
    expect(report.reason).toMatch(/SENSEACT_BACKEND=cpu/);
  });
});
