/** `webrecon info`: the adapter(s) this machine offers, and their key limits. */
import type { Command } from 'commander';
import { GpuContext, listAdapters, type AdapterDescription } from '../gpu/context.js';
import { gpuOptionsFrom, type GlobalOptions } from './common.js';

function describe(a: AdapterDescription, chosen: boolean): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const l = a.limits;
  return [
    `${chosen ? '* ' : '  '}${a.description || a.device || '(unnamed adapter)'}`,
    `    vendor ${a.vendor || '-'}, architecture ${a.architecture || '-'}, device ${a.device || '-'}`,
    `    backend ${a.backend}, ${a.featureLevel} mode${a.software ? ', software (CPU) adapter' : ''}`,
    `    max storage binding ${mib(l.maxStorageBufferBindingSize)}, max buffer ${mib(l.maxBufferSize)}, workgroup storage ${l.maxComputeWorkgroupStorageSize} B, invocations/workgroup ${l.maxComputeInvocationsPerWorkgroup}, storage buffers/stage ${l.maxStorageBuffersPerShaderStage}`,
    `    features: ${a.features.join(', ')}`,
  ].join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the WebGPU adapter webrecon would use, and every adapter found')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const ctx = await GpuContext.acquire(gpuOptionsFrom(g));
      const chosen = ctx.info;
      ctx.destroy();
      const all = await listAdapters();
      if (g.json) {
        process.stdout.write(`${JSON.stringify({ type: 'info', adapter: chosen, adapters: all })}\n`);
        return;
      }
      process.stdout.write(`Adapter in use (* ):\n${describe(chosen, true)}\n`);
      const others = all.filter((a) => !(a.description === chosen.description && a.backend === chosen.backend));
      if (others.length) process.stdout.write(`Other adapters found:\n${others.map((a) => describe(a, false)).join('\n')}\n`);
    });
}
