/**
 * `npm run bench`: the tomography suite (bench/run.ts, with every flag it takes), then the
 * ptychography suite (bench/ptycho.ts: DM on the real Siemens star, FFT throughput) in a child
 * process. Extra flags: `--skip-ptycho`, `--ptycho-large` (adds the simulated 1024 × 256² scan),
 * `--only-ptycho`. Each suite prints its table and writes its JSON under bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as tomoMain } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Runs the suites; returns the exit code. */
export async function benchAll(argv: string[]): Promise<number> {
  const own = new Set(['--skip-ptycho', '--ptycho-large', '--only-ptycho']);
  const tomoArgs = argv.filter((a) => !own.has(a));
  let code = 0;
  if (!argv.includes('--only-ptycho')) code = await tomoMain(tomoArgs);
  if (code === 0 && !argv.includes('--skip-ptycho') && !argv.includes('--help')) {
    const ptychoArgs = argv.includes('--ptycho-large') ? ['--large'] : [];
    if (argv.includes('--quick')) ptychoArgs.push('--iterations', '5', '--skip-cpu');
    const r = spawnSync(process.execPath, [join(here, 'ptycho.js'), ...ptychoArgs], { stdio: 'inherit' });
    code = r.status ?? 1;
  }
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchAll(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
