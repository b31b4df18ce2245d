import { describe, expect, it } from 'vitest';
import { angleTable, angleWeights, backprojectSinograms, createRowFilter, filterProjections, filterScratchPerRow, reconstructFbp } from '../../src/tomo/fbp.js';
import { FILTER_NAMES, filterKernel, filterResponse, paddedLength, parseFilterName } from '../../src/tomo/filters.js';
import { backprojectReference, filterRowsReference } from '../../src/tomo/fbp-reference.js';
import { makeGeometry } from '../../src/tomo/geometry.js';
import { InputError } from '../../src/core/errors.js';
import { allFinite, freshSeed, maxAbsDiff, randomArray, relL2, rng, testContext } from '../helpers/gpu.js';
import { analyticProjections, ellipseSlice, ellipseValue, sheppLogan2d, uniformAngles, type Ellipse } from './analytic.js';

/** Mean and largest deviation from mu over voxels within radius rIn of (x0, y0). */
function discStats(slice: ArrayLike<number>, n: number, x0: number, y0: number, rIn: number, mu: number): { mean: number; maxDev: number } {
  let s = 0;
  let m = 0;
  let cnt = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const x = k + 0.5 - n / 2 - x0;
      const y = n / 2 - 0.5 - i - y0;
      if (x * x + y * y > rIn * rIn) continue;
      const v = slice[i * n + k];
      s += v;
      m = Math.max(m, Math.abs(v - mu));
      cnt++;
    }
  }
  return { mean: s / cnt, maxDev: m };
}

/** Voxels whose truth is constant within ±d pixels (centre and 8 neighbours at distance d). */
function interiorMask(ellipses: Ellipse[], n: number, d: number): Uint8Array {
  const m = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const x = k + 0.5 - n / 2;
      const y = n / 2 - 0.5 - i;
      const v = ellipseValue(ellipses, x, y);
      let same = true;
      for (const dx of [-d, 0, d]) for (const dy of [-d, 0, d]) same &&= ellipseValue(ellipses, x + dx, y + dy) === v;
      m[i * n + k] = same ? 1 : 0;
    }
  }
  return m;
}

describe('FBP filters (host side)', () => {
  it('accepts every filter name and aliases, rejects unknown names with an InputError', () => {
    for (const name of FILTER_NAMES) expect(parseFilterName(name)).toBe(name);
    expect(parseFilterName('Ram-Lak')).toBe('ramp');
    expect(parseFilterName('hanning')).toBe('hann');
    expect(() => parseFilterName('butterworth')).toThrow(InputError);
    expect(() => parseFilterName('butterworth')).toThrow(/unknown FBP filter/);
  });

  it('pads to twice the next power of two and gives the band-limited ramp', () => {
    expect(paddedLength(160)).toBe(512);
    expect(paddedLength(256)).toBe(512);
    expect(paddedLength(20)).toBe(64);
    expect(paddedLength(100, 'none')).toBe(100);
    expect(() => paddedLength(100, 50)).toThrow(InputError);
    const P = 256;
    const H = filterResponse('ramp', P);
    // |f| away from DC (the truncated spatial ramp is exact to ~1/(π² P)), small positive DC
    for (let k = 4; k <= P / 2; k++) expect(Math.abs(H[k] - k / P)).toBeLessThan(2 / (Math.PI ** 2 * P));
    expect(H[0]).toBeGreaterThan(0);
    expect(H[0]).toBeLessThan(2 / (Math.PI ** 2 * P));
    // spatial kernel of the ramp is h: 1/4, −1/(π n)² at odd n, 0 at even n
    const g = filterKernel('ramp', P);
    expect(g[0]).toBeCloseTo(0.25, 12);
    expect(g[3]).toBeCloseTo(-1 / (Math.PI * 3) ** 2, 12);
    expect(g[P - 5]).toBeCloseTo(-1 / (Math.PI * 5) ** 2, 12);
    expect(Math.abs(g[4])).toBeLessThan(1e-12);
    // windows: all equal at DC, hann vanishes at Nyquist, shepp-logan is 2/π of the ramp there
    for (const name of FILTER_NAMES) expect(filterResponse(name, P)[0]).toBeCloseTo(H[0], 14);
    expect(Math.abs(filterResponse('hann', P)[P / 2])).toBeLessThan(1e-15);
    expect(filterResponse('shepp-logan', P)[P / 2]).toBeCloseTo(H[P / 2] * (2 / Math.PI), 12);
  });

  it('weights angles by their share of the half circle (uniform, 360°, folded, limited range)', () => {
    const close = (w: Float64Array, v: number) => w.every((x) => Math.abs(x - v) < 1e-12);
    const sum = (w: Float64Array) => w.reduce((a, b) => a + b, 0);
    expect(close(angleWeights(uniformAngles(0, 180, 90)), Math.PI / 90)).toBe(true);
    expect(close(angleWeights(uniformAngles(0, 360, 90)), Math.PI / 90)).toBe(true);
    // I13 style: -88.2 .. 91.8 in 2° steps, first and last directions coincide: they share
    const i13 = Float64Array.from({ length: 91 }, (_, i) => -88.2 + 2 * i);
    const w = angleWeights(i13);
    expect(sum(w)).toBeCloseTo(Math.PI, 12);
    expect(w[0] + w[90]).toBeCloseTo((2 * Math.PI) / 180, 12);
    expect(w[45]).toBeCloseTo((2 * Math.PI) / 180, 12);
    // limited range ±73° in 2° steps: no weight stretched across the missing wedge
    const tem = Float64Array.from({ length: 74 }, (_, i) => -73 + 2 * i);
    const wt = angleWeights(tem);
    expect(close(wt, (2 * Math.PI) / 180)).toBe(true);
    // non-uniform: each gets half of each neighbouring gap
    const wn = angleWeights([0, 10, 30, 100]);
    expect(Array.from(wn, (x) => (x * 180) / Math.PI).map((x) => +x.toFixed(9))).toEqual([45, 15, 45, 75]);
  });
});

describe('FBP kernels against float64 references', () => {
  it('filters random rows like fft.js in float64, for every filter and padding', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    // power-of-two paddings of 32..1024 take the Stockham kernel (77, 150, 33 → 64), 600 columns (P = 2048) the radix-2 FFT kernel where the adapter's workgroup memory allows; 'none' and 90 the direct convolution
    for (const [cols, padding] of [[77, 'auto'], [150, 'auto'], [600, 'auto'], [33, 64], [40, 'none'], [33, 90]] as const) {
      const [A, rows] = [3, 5];
      const data = randomArray(A * rows * cols, seed + cols, -1, 1);
      for (const name of FILTER_NAMES) {
        const got = await filterProjections(ctx, { data, shape: [A, rows, cols] }, name, padding);
        const ref = filterRowsReference(data, A * rows, cols, filterResponse(name, paddedLength(cols, padding)));
        // the GPU writes [rows, angles, cols]: transpose the reference rows
        const refT = new Float64Array(ref.length);
        for (let a = 0; a < A; a++) for (let r = 0; r < rows; r++) refT.set(ref.subarray((a * rows + r) * cols, (a * rows + r + 1) * cols), (r * A + a) * cols);
        expect(allFinite(got), `seed ${seed} ${name} ${cols}`).toBe(true);
        expect(relL2(got, refT), `seed ${seed} ${name} cols ${cols} padding ${padding}`).toBeLessThan(1e-5);
      }
    }
  });

  it('picks the Stockham filter only where its spectra fit one binding, else the radix-2 kernel', async () => {
    const ctx = await testContext();
    const [cols, A] = [100, 36];
    const perRow = filterScratchPerRow(paddedLength(cols, 'auto'), A);
    const fits = await createRowFilter(ctx, 'ramp', cols, 'auto', 1, Math.floor(ctx.maxBinding / perRow), A);
    const over = await createRowFilter(ctx, 'ramp', cols, 'auto', 1, Math.floor(ctx.maxBinding / perRow) + 1, A);
    try {
      expect(fits.kind).toBe('stockham');
      expect(over.kind).toBe('fft');
    } finally {
      fits.destroy();
      over.destroy();
    }
  });

  it('filters a delta into the ramp kernel (analytic)', async () => {
    const ctx = await testContext();
    const cols = 100;
    const data = new Float32Array(cols);
    data[37] = 1;
    const got = await filterProjections(ctx, { data, shape: [1, 1, cols] }, 'ramp');
    for (let c = 0; c < cols; c++) {
      const m = Math.abs(c - 37);
      const h = m === 0 ? 0.25 : m % 2 === 1 ? -1 / (Math.PI * m) ** 2 : 0;
      expect(Math.abs(got[c] - h), `column ${c}`).toBeLessThan(1e-7);
    }
  });

  it('back-projects random sinograms like a float64 reference (random angles, weights, several centres)', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const [slices, A, cols, n] = [3, 17, 29, 37]; // n > cols: voxels beyond the detector edge
    const angles = Array.from({ length: A }, () => -90 + 360 * r());
    const weights = Array.from({ length: A }, () => 0.01 + 0.2 * r());
    const geometry = makeGeometry(angles, slices, cols, { n });
    const table = angleTable(geometry, weights);
    const sino = randomArray(slices * A * cols, seed + 1, -1, 1);
    const centers = [cols / 2, cols / 2 + 3.3, cols / 2 - 5.71];
    const got = await backprojectSinograms(ctx, sino, { slices, angles: A, cols, n }, table, centers);
    const terms = Array.from({ length: A }, (_, a) => ({ cos: table[4 * a], sin: table[4 * a + 1], weight: table[4 * a + 2] }));
    expect(allFinite(got), `seed ${seed}`).toBe(true);
    for (let j = 0; j < centers.length; j++) {
      const ref = backprojectReference(sino, slices, cols, terms, n, centers[j]);
      const part = got.subarray(j * slices * n * n, (j + 1) * slices * n * n);
      expect(relL2(part, ref), `seed ${seed} centre ${centers[j]}`).toBeLessThan(1e-5);
    }
  });

  it('back-projects a constant sinogram to the sum of the weights inside the detector (analytic)', async () => {
    const ctx = await testContext();
    const [A, cols, n] = [12, 40, 20];
    const geometry = makeGeometry(uniformAngles(0, 180, A), 1, cols, { n });
    const table = angleTable(geometry);
    const got = await backprojectSinograms(ctx, new Float32Array(A * cols).fill(1), { slices: 1, angles: A, cols, n }, table, [geometry.center]);
    expect(maxAbsDiff(got, new Float32Array(n * n).fill(Math.PI))).toBeLessThan(1e-5);
  });
});

describe('FBP reconstructions of analytic phantoms', () => {
  it('reconstructs a uniform disc of μ to μ with every filter (absolute scale)', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const [A, cols] = [120, 64];
    const mu = 0.01 + 0.05 * r();
    const center = 31.3 + r(); // off the detector middle
    const x0 = -3 + 6 * r();
    const y0 = -3 + 6 * r();
    const disc: Ellipse[] = [{ x0, y0, a: 20, b: 20, alphaDeg: 0, rho: mu }];
    const angles = uniformAngles(0, 180, A);
    const geometry = makeGeometry(angles, 1, cols, { center });
    const data = analyticProjections([disc], angles, cols, center);
    for (const filter of FILTER_NAMES) {
      const { volume } = await reconstructFbp(ctx, { data, shape: [A, 1, cols] }, geometry, { filter });
      expect(volume.shape).toEqual([1, 64, 64]);
      const { mean, maxDev } = discStats(volume.data, 64, x0, y0, 15, mu);
      expect(Math.abs(mean / mu - 1), `seed ${seed} ${filter}: mean ${mean} vs μ ${mu}`).toBeLessThan(0.01);
      expect(maxDev / mu, `seed ${seed} ${filter}`).toBeLessThan(0.05);
    }
  });

  it('keeps the scale with non-uniform angles over 360° and with a limited range', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const cols = 64;
    const mu = 0.03;
    const disc: Ellipse[] = [{ x0: 2, y0: -1, a: 18, b: 18, alphaDeg: 0, rho: mu }];
    // jittered, unsorted angles over 360°
    const jittered = Array.from({ length: 150 }, (_, i) => (360 * (i + 0.8 * (r() - 0.5))) / 150).sort(() => r() - 0.5);
    const g1 = makeGeometry(jittered, 1, cols);
    const { volume: v1 } = await reconstructFbp(ctx, { data: analyticProjections([disc], jittered, cols, g1.center), shape: [150, 1, cols] }, g1, { filter: 'ramp' });
    const s1 = discStats(v1.data, cols, 2, -1, 14, mu);
    expect(Math.abs(s1.mean / mu - 1), `seed ${seed}: ${s1.mean}`).toBeLessThan(0.01);
    // ±80° in 2° steps: 81 directions covering 162° of 180°. Each direction of a disc adds the
    // same share at its centre, so the centre reads μ·162/180 when the end projections are
    // not stretched over the missing wedge (it would read ≈ μ·(162 + 18)/180 if they were)
    const limited = Array.from({ length: 81 }, (_, i) => -80 + 2 * i);
    const g2 = makeGeometry(limited, 1, cols);
    const { volume: v2 } = await reconstructFbp(ctx, { data: analyticProjections([disc], limited, cols, g2.center), shape: [81, 1, cols] }, g2, { filter: 'ramp' });
    const s2 = discStats(v2.data, cols, 2, -1, 3, mu);
    expect(Math.abs(s2.mean / (mu * 0.9) - 1), `limited range: ${s2.mean}`).toBeLessThan(0.02);
  });

  it('reconstructs Shepp-Logan slices (off-centre axis, n ≠ cols, several slabs) within an error bound', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const [A, rows, cols, n] = [180, 3, 96, 80];
    const center = 46 + 3 * r();
    const phantoms = [sheppLogan2d(36, 0.05), sheppLogan2d(30, 0.02), [{ x0: 5, y0: 0, a: 25, b: 12, alphaDeg: 30, rho: 0.04 }]];
    const angles = uniformAngles(0, 180, A);
    const geometry = makeGeometry(angles, rows, cols, { center, n });
    const data = analyticProjections(phantoms, angles, cols, center, 8); // pixel-integrated samples
    const one = await reconstructFbp(ctx, { data, shape: [A, rows, cols] }, geometry, { filter: 'shepp-logan' });
    const events: number[] = [];
    const slabbed = await reconstructFbp(ctx, { data, shape: [A, rows, cols] }, geometry, {
      filter: 'shepp-logan',
      maxSlabBytes: A * cols * 4, // one slice per slab
      onProgress: (e) => events.push(e.iteration ?? -1),
    });
    expect(events).toEqual([1, 2, 3]);
    expect(maxAbsDiff(slabbed.volume.data, one.volume.data)).toBe(0);
    expect(allFinite(one.volume.data)).toBe(true);
    const errors: number[] = [];
    const interiorErrors: number[] = [];
    for (let z = 0; z < rows; z++) {
      const truth = ellipseSlice(phantoms[z], n);
      const got = one.volume.data.subarray(z * n * n, (z + 1) * n * n);
      errors.push(relL2(got, truth));
      // away from edges (truth constant within ±2 px) the values must be right
      const inner = interiorMask(phantoms[z], n, 2);
      const g: number[] = [];
      const t: number[] = [];
      for (let v = 0; v < n * n; v++) if (inner[v]) (g.push(got[v]), t.push(truth[v]));
      interiorErrors.push(relL2(g, t));
    }
    console.log(`FBP Shepp-Logan relL2 per slice (seed ${seed}): all ${errors.map((e) => e.toFixed(4)).join(' ')}; away from edges ${interiorErrors.map((e) => e.toFixed(4)).join(' ')}`);
    // with sharp point-sampled edges the whole-slice error is edge blur; away from edges it is small
    for (const e of errors) expect(e, `seed ${seed}`).toBeLessThan(0.5);
    // (Shepp-Logan's smallest ellipses are under 2 px across here, hence its looser bound)
    expect(interiorErrors[0], `seed ${seed}`).toBeLessThan(0.12);
    expect(interiorErrors[1], `seed ${seed}`).toBeLessThan(0.12);
    expect(interiorErrors[2], `seed ${seed}`).toBeLessThan(0.03);
  });

  it('gives the same volume bit for bit with 1, 2, 4 or 8 slices per value, in one slab or several with a padded last group', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const [A, rows, cols, n] = [37, 11, 40, 36];
    const geometry = makeGeometry(uniformAngles(0, 180, A), rows, cols, { center: 19.3, n });
    const data = randomArray(A * rows * cols, seed, 0, 1);
    const proj = { data, shape: [A, rows, cols] as [number, number, number] };
    const one = await reconstructFbp(ctx, proj, geometry, { filter: 'hann', slicesPerValue: 1 });
    expect(allFinite(one.volume.data)).toBe(true);
    for (const lanes of [2, 4, 8]) {
      const packed = await reconstructFbp(ctx, proj, geometry, { filter: 'hann', slicesPerValue: lanes });
      expect(maxAbsDiff(packed.volume.data, one.volume.data), `${lanes} slices per value, seed ${seed}`).toBe(0);
    }
    // Slabs of 8 rows with 4 slices per value: 11 rows → a full slab and one of 3 rows (one padded group).
    const events: number[] = [];
    // (the largest buffer per slice here is the filter's spectra: ⌈A/2⌉ rows of P complex values)
    const perRow = Math.max(A * cols * 4, filterScratchPerRow(paddedLength(cols, 'auto'), A), n * n * 4);
    const slabbed = await reconstructFbp(ctx, proj, geometry, { filter: 'hann', slicesPerValue: 4, maxSlabBytes: 8 * perRow, onProgress: (e) => events.push(e.iteration ?? -1) });
    expect(events).toEqual([1, 2]);
    expect(maxAbsDiff(slabbed.volume.data, one.volume.data), `slabs, seed ${seed}`).toBe(0);
    // The direct-convolution filter (no padding: 40 is not a power of two) writes the same layout.
    const direct1 = await reconstructFbp(ctx, proj, geometry, { filter: 'hann', padding: 'none', slicesPerValue: 1 });
    const direct8 = await reconstructFbp(ctx, proj, geometry, { filter: 'hann', padding: 'none', slicesPerValue: 8 });
    expect(maxAbsDiff(direct8.volume.data, direct1.volume.data), `direct filter, seed ${seed}`).toBe(0);
    await expect(reconstructFbp(ctx, proj, geometry, { slicesPerValue: 3 })).rejects.toThrow(/slicesPerValue must be 1, 2, 4 or 8/);
  });

  it('rejects an unknown filter and mismatched shapes with InputErrors', async () => {
    const ctx = await testContext();
    const geometry = makeGeometry(uniformAngles(0, 180, 4), 1, 8);
    const proj = { data: new Float32Array(32), shape: [4, 1, 8] as [number, number, number] };
    await expect(reconstructFbp(ctx, proj, geometry, { filter: 'wiener' })).rejects.toThrow(InputError);
    await expect(reconstructFbp(ctx, { data: new Float32Array(24), shape: [3, 1, 8] }, geometry, {})).rejects.toThrow(InputError);
  });
});
