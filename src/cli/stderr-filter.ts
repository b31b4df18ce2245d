/**
 * Dawn's native adapter set-up prints two notices to stderr on Mesa's software adapters
 * ("Warning: maxDynamic…BuffersPerPipelineLayout artificially reduced …") on every run, straight
 * from C++, with no switch to silence them. The CLI therefore runs itself once more as a child
 * process with stderr piped through a filter that drops exactly those lines and passes everything
 * else through unchanged (progress bars included: the child is told whether the real stderr is a
 * terminal). Set WEBRECON_NO_STDERR_FILTER=1 to run in one process.
 */
import { spawn } from 'node:child_process';

/** Exactly the lines dropped. */
export const DAWN_NOTICE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

const CHILD_FLAG = 'WEBRECON_CLI_CHILD';
const TTY_FLAG = 'WEBRECON_STDERR_TTY';

/** Whether progress should be drawn as a terminal bar (the parent's stderr is a terminal). */
export function stderrIsTerminal(): boolean {
  if (process.env[CHILD_FLAG] === '1') return process.env[TTY_FLAG] === '1';
  return process.stderr.isTTY === true;
}

/** True when this process should run the CLI itself (it is the child, or filtering is off). */
export function runsInProcess(): boolean {
  return process.env[CHILD_FLAG] === '1' || process.env.WEBRECON_NO_STDERR_FILTER === '1';
}

/** Writes `text` to stderr without the Dawn notices; returns the unfinished last line to keep. */
function filterChunk(pending: string, text: string): string {
  const lines = (pending + text).split('\n');
  const last = lines.pop() ?? '';
  const kept = lines.filter((l) => !DAWN_NOTICE.test(l));
  if (kept.length) process.stderr.write(`${kept.join('\n')}\n`);
  // An unfinished line is held back only while it could still become a notice.
  if ('Warning: maxDynamic'.startsWith(last.slice(0, 19)) && last.length > 0) return last;
  if (last) process.stderr.write(last);
  return '';
}

/** Runs the CLI in a child process with filtered stderr; resolves to the exit code to use. */
export function runFiltered(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['inherit', 'inherit', 'pipe'],
      env: { ...process.env, [CHILD_FLAG]: '1', [TTY_FLAG]: process.stderr.isTTY ? '1' : '0' },
    });
    let pending = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      pending = filterChunk(pending, chunk);
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    child.on('close', (code, signal) => {
      if (pending && !DAWN_NOTICE.test(pending)) process.stderr.write(pending);
      for (const [s, h] of handlers) process.off(s, h);
      if (signal) {
        process.kill(process.pid, signal);
        resolve(128 + 2);
      } else resolve(code ?? 1);
    });
    child.on('error', (err) => {
      process.stderr.write(`webrecon: could not start the CLI process: ${err.message}\n`);
      resolve(1);
    });
  });
}
