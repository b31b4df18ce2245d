/**
 * The CLI runs itself in a child process with stderr filtered (src/cli/stderr-filter.ts): Dawn's
 * native adapter notices never reach the user, everything else does, and exit codes pass through.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ensureBuilt, runCli, show, tempDir } from './cli.js';

describe('stderr filter', () => {
  it('drops exactly Dawn\'s adapter notices; messages and exit codes pass through', async () => {
    ensureBuilt();
    const ok = await runCli(['info']);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stderrRaw).not.toMatch(/artificially reduced/);
    const bad = await runCli(['tomo', 'recon', join(tempDir(), 'missing.tif'), '--angles', '0:10:2', '-o', join(tempDir(), 'v.tif')]);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderrRaw).toMatch(/missing\.tif: file not found/);
    expect(bad.stderrRaw).not.toMatch(/artificially reduced/);
  });

  it('can be turned off (WEBRECON_NO_STDERR_FILTER=1 runs in one process)', async () => {
    const r = await runCli(['info', '--json'], { env: { WEBRECON_NO_STDERR_FILTER: '1' } });
    expect(r.code, show(r)).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).type).toBe('info');
  });
});
