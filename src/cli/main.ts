#!/usr/bin/env node
/**
 * The webrecon command line: commander wiring only. Each command parses its flags, calls the
 * public API and prints progress and results; errors become messages and exit codes
 * (2 bad input, 3 GPU trouble, 1 internal).
 */
import { Command } from 'commander';
import { runFiltered, runsInProcess } from './stderr-filter.js';
import { registerInfo } from './info.js';
import { registerTomo } from './tomo.js';
import { registerDemo } from './demo.js';
import { reportError } from './output.js';
import type { GlobalOptions } from './common.js';

// Dawn prints notices to stderr that no option silences: run once more with stderr filtered.
if (!runsInProcess()) process.exit(await runFiltered());

const program = new Command();
program
  .name('webrecon')
  .description('GPU reconstruction for X-ray and electron imaging (tomography, ptychography) on WebGPU')
  .option('--json', 'machine-readable output: one JSON object per line')
  .option('--debug', 'show stack traces on errors')
  .option('--quiet', 'no progress output')
  .option('--backend <name>', 'Dawn backend: auto, vulkan, opengles, metal, d3d12', 'auto')
  .option('--adapter <name>', 'adapter name to use (see `webrecon info`)')
  .showHelpAfterError();

registerInfo(program);
(await import('./ptycho.js')).registerPtycho(program);
registerTomo(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (err) {
  process.exit(reportError(err, program.opts() as GlobalOptions));
}
