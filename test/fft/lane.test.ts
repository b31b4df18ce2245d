import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// The generator of shaders/fft/lane.wgsl (plain JavaScript, run by hand after a change).
import { generate } from '../../scripts/gen-lane-fft.mjs';

describe('generated lane FFT (shaders/fft/lane.wgsl)', () => {
  it('is what scripts/gen-lane-fft.mjs writes (regenerate with: node scripts/gen-lane-fft.mjs)', () => {
    const file = readFileSync(new URL('../../shaders/fft/lane.wgsl', import.meta.url), 'utf8');
    expect(file === generate()).toBe(true);
  });
});
