/**
 * Helpers for tests that run the built command line (`node dist/src/cli/main.js ...`) as a user
 * would: a fresh build when dist/ is older than src/, a spawn that captures stdout, stderr and
 * the exit code, temporary folders, and the float arrays the CLI writes.
 *
 * `npm test` builds dist/ first (scripts/setup.mjs); {@link ensureBuilt} covers a plain
 * `npx vitest run` after a source edit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The repository root. */
export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
/** The built CLI entry point. */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** Absolute path of the shared real-data folder. */
export const DATA = resolve(ROOT, '..', 'shared', 'data');

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let built = false;

/**
 * Builds dist/ with tsc when the CLI is missing or any src/ file is newer than it. A type
 * error elsewhere does not stop the emit (tsc writes the JavaScript anyway), so only a missing
 * entry point after the build is a failure.
 */
export function ensureBuilt(): void {
  if (built) return;
  const stale = !existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'), '.ts');
  if (stale) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(CLI)) throw new Error(`building dist/ failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  built = true;
}

/** What one CLI run gave. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stderr as printed. */
  stderrRaw: string;
  /** stderr without Dawn's adapter-limit notices (printed by Dawn's native code on every adapter; see {@link DAWN_NOTICE}). */
  stderr: string;
  seconds: number;
}

/**
 * Dawn prints this from native code (dawn/native/Limits.cpp) while it creates any Vulkan
 * adapter whose driver reports more dynamic buffers than Dawn supports (lavapipe: 1000000):
 * it happens inside requestAdapter, before webrecon asks for any limit, and goes straight to
 * file descriptor 2.
 */
export const DAWN_NOTICE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n/gm;

/** Runs `webrecon <args>` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  ensureBuilt();
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderrRaw: stderr, stderr: stderr.replace(DAWN_NOTICE, ''), seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** A readable dump of a run for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderrRaw}`;
}

/** A fresh temporary folder, removed when the test file finishes. */
export function tempDir(prefix = 'webrecon-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Parses stdout of a --json run: every non-empty line must be one JSON object. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  return lines.map((l, i) => {
    try {
      const v = JSON.parse(l);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    } catch (e) {
      throw new Error(`stdout line ${i + 1} is not one JSON object (${(e as Error).message}): ${l.slice(0, 200)}`);
    }
  });
}

/** True when every value is finite. */
export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/**
 * Simple image-quality figures of a volume [slices, n, n] inside the central disc (radius 0.9·n/2):
 * `contrast` = variance / mean(|x|)² (a focus measure: a blurred or doubled image has less) and
 * `negativity` = the share of the L1 mass below zero (the streaks and undershoots a wrong
 * rotation centre adds).
 */
export function imageFigures(data: Float32Array, shape: readonly number[]): { contrast: number; negativity: number } {
  const [s, ny, nx] = shape as [number, number, number];
  const r2 = (0.45 * Math.min(ny, nx)) ** 2;
  let n = 0;
  let sum = 0;
  let sum2 = 0;
  let abs = 0;
  let neg = 0;
  for (let k = 0; k < s; k++) {
    for (let y = 0; y < ny; y++) {
      const dy = y + 0.5 - ny / 2;
      for (let x = 0; x < nx; x++) {
        const dx = x + 0.5 - nx / 2;
        if (dx * dx + dy * dy >= r2) continue;
        const v = data[(k * ny + y) * nx + x]!;
        n++;
        sum += v;
        sum2 += v * v;
        abs += Math.abs(v);
        if (v < 0) neg -= v;
      }
    }
  }
  const mean = sum / n;
  const meanAbs = abs / n;
  return { contrast: (sum2 / n - mean * mean) / (meanAbs * meanAbs), negativity: neg / abs };
}
