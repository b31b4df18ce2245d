/**
 * How the CLI talks to the user: a progress bar on a terminal, one JSON object per line with
 * --json, and error messages without stack traces (unless --debug).
 */
import { WebreconError, GpuError } from '../core/errors.js';
import type { ProgressEvent } from '../core/progress.js';
import { stderrIsTerminal } from './stderr-filter.js';

/** Output mode shared by every command. */
export interface OutputOptions {
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
}

/** The progress line still open on a terminal (written with '\r', no newline yet), if any. */
let openBar = '';

/** Ends an open progress line on a terminal, so the next output starts on a line of its own. */
export function endProgressLine(): void {
  if (openBar) {
    process.stderr.write('\n');
    openBar = '';
  }
}

/**
 * Writes progress and results: progress on stderr (a bar redrawn in place on a terminal, plain
 * lines otherwise), results on stdout; or, with --json, one JSON object per line on stdout.
 */
export class Reporter {
  private openStage = '';
  constructor(private readonly opts: OutputOptions) {}

  /** One progress event: a bar on a TTY, a thinned-out line otherwise; a JSON line with --json. */
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
    const metrics = ev.metrics ? Object.entries(ev.metrics).map(([k, v]) => ` ${k} ${+v.toPrecision(6)}`).join('') : '';
    const line = `${ev.stage.padEnd(10)} ${bar}${res} ${ev.seconds.toFixed(1)} s${metrics}`;
    // stages without a count report once, when done; a counted stage is done at of/of
    const done = !ev.of || ev.iteration === ev.of;
    if (stderrIsTerminal()) {
      if (openBar && this.openStage !== ev.stage) endProgressLine();
      process.stderr.write(`\r${line}${' '.repeat(Math.max(0, openBar.length - line.length))}`);
      openBar = line;
      this.openStage = ev.stage;
      if (done) endProgressLine();
    } else if (done || (ev.iteration ?? 0) % Math.max(1, Math.round(ev.of! / 10)) === 0) {
      process.stderr.write(`${line}\n`);
    }
  };

  /** A human line on stdout (nothing with --json or --quiet, so stdout stays machine-readable). */
  info(message: string): void {
    if (this.opts.json) return;
    endProgressLine();
    if (!this.opts.quiet) process.stdout.write(`${message}\n`);
  }

  /** The final summary object: pretty text or one JSON line of type 'summary'. */
  summary(obj: Record<string, unknown>, text: string): void {
    endProgressLine();
    if (this.opts.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...obj })}\n`);
    else process.stdout.write(`${text}\n`);
  }
}

/** Prints an error the way a user should see it and returns the exit code. */
export function reportError(err: unknown, opts: OutputOptions): number {
  endProgressLine();
  const code = err instanceof WebreconError ? err.exitCode : 1;
  const message = err instanceof Error ? err.message : String(err);
  if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'error', kind: err instanceof GpuError ? err.kind : err instanceof WebreconError ? 'input' : 'internal', message, exitCode: code })}\n`);
  process.stderr.write(`webrecon: ${err instanceof WebreconError ? '' : 'internal error: '}${message}\n`);
  if (opts.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof WebreconError)) process.stderr.write('(run with --debug for a stack trace)\n');
  return code;
}
