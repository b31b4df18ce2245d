/**
 * How the CLI talks to the user: a progress bar on a terminal, one JSON object per line with
 * --json, and error messages without stack traces (unless --debug).
 */
import { WebreconError, GpuError } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';

/** Output mode shared by every command. */
export interface OutputOptions {
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
}

/** Writes progress and results either as human text (stderr bar + stdout summary) or JSON lines. */
export class Reporter {
  private lastBar = '';
  constructor(private readonly opts: OutputOptions) {}

  /** One progress event: a bar on a TTY, nothing extra otherwise; a JSON line with --json. */
  progress = (ev: ProgressEvent): void => {
    if (this.opts.json) {
      process.stdout.write(`${JSON.stringify({ type: 'progress', ...ev })}\n`);
      return;
    }
    if (this.opts.quiet) return;
    const width = 30;
    const frac = ev.of ? Math.min(1, (ev.iteration ?? 0) / ev.of) : 0;
    const filled = Math.round(frac * width);
    const bar = ev.of ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${ev.iteration}/${ev.of}` : '';
    const res = ev.residual !== undefined ? ` residual ${ev.residual.toExponential(3)}` : '';
    const line = `${ev.stage.padEnd(10)} ${bar}${res} ${ev.seconds.toFixed(1)} s`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}${' '.repeat(Math.max(0, this.lastBar.length - line.length))}`);
      this.lastBar = line;
      if (ev.of && ev.iteration === ev.of) {
        process.stderr.write('\n');
        this.lastBar = '';
      }
    } else if (!ev.of || ev.iteration === ev.of || (ev.iteration ?? 0) % Math.max(1, Math.round(ev.of / 10)) === 0) {
      process.stderr.write(`${line}\n`);
    }
  };

  /** A human line (stderr in JSON mode, so stdout stays machine-readable). */
  info(message: string): void {
    if (this.opts.json) return;
    if (!this.opts.quiet) process.stdout.write(`${message}\n`);
  }

  /** The final summary object: pretty text or one JSON line of type 'summary'. */
  summary(obj: Record<string, unknown>, text: string): void {
    if (this.opts.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...obj })}\n`);
    else process.stdout.write(`${text}\n`);
  }
}

/** Prints an error the way a user should see it and returns the exit code. */
export function reportError(err: unknown, opts: OutputOptions): number {
  const code = err instanceof WebreconError ? err.exitCode : 1;
  const message = err instanceof Error ? err.message : String(err);
  if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'error', kind: err instanceof GpuError ? err.kind : err instanceof WebreconError ? 'input' : 'internal', message, exitCode: code })}\n`);
  process.stderr.write(`webrecon: ${err instanceof WebreconError ? '' : 'internal error: '}${message}\n`);
  if (opts.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof WebreconError)) process.stderr.write('(run with --debug for a stack trace)\n');
  return code;
}
