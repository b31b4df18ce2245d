/**
 * Float64 CPU references of the ptychography kernels, for the tests only (the reconstruction
 * itself runs in WGSL). Same conventions as the kernels: complex interleaved (re, im), C order;
 * views are bilinear (shaders/ptycho/sample.wgsl) at positions already shifted into the object
 * array (ScanGeometry.positions); exit waves [n, modes, h, w].
 */
import type { DmCoefficients } from './engine.js';

type Arr = ArrayLike<number>;

/** Bilinear view of the object at view pixel (ry, rx) of a frame at (r, c): returns [re, im]. */
export function refView(obj: Arr, cols: number, r: number, c: number, ry: number, rx: number): [number, number] {
  const y0 = Math.floor(r), x0 = Math.floor(c);
  // The kernels see the fractions in float32.
  const fy = Math.fround(r - y0), fx = Math.fround(c - x0);
  let re = 0, im = 0;
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
    const wgt = (a ? fy : 1 - fy) * (b ? fx : 1 - fx);
    const q = (y0 + ry + a) * cols + x0 + rx + b;
    re += wgt * obj[2 * q];
    im += wgt * obj[2 * q + 1];
  }
  return [re, im];
}

/** x_jm = P_m · S_j O for every frame and mode. */
export function refExitModel(obj: Arr, cols: number, probe: Arr, modes: number, h: number, w: number, positions: Arr): Float64Array {
  const n = positions.length / 2;
  const hw = h * w;
  const out = new Float64Array(2 * n * modes * hw);
  for (let j = 0; j < n; j++) for (let ry = 0; ry < h; ry++) for (let rx = 0; rx < w; rx++) {
    const [vr, vi] = refView(obj, cols, positions[2 * j], positions[2 * j + 1], ry, rx);
    const r = ry * w + rx;
    for (let m = 0; m < modes; m++) {
      const pr = probe[2 * (m * hw + r)], pi = probe[2 * (m * hw + r) + 1];
      const o = 2 * ((j * modes + m) * hw + r);
      out[o] = pr * vr - pi * vi;
      out[o + 1] = pr * vi + pi * vr;
    }
  }
  return out;
}

/**
 * The Fourier-space update: Ψ' = a·Ψ + b·X + c·Π((1+α)X − αΨ) with the masked modulus projection
 * (masked pixels keep the model amplitude) and the Fourier error of X per frame.
 */
export function refFourierUpdate(X: Arr, Psi: Arr, mag: Arr, mask: Arr | undefined, modes: number, hw: number, k: DmCoefficients, powerBound?: number): { psi: Float64Array; errors: Float64Array } {
  const n = mag.length / hw;
  const psi = new Float64Array(Psi.length);
  const errors = new Float64Array(n);
  let maskSum = 0;
  for (let r = 0; r < hw; r++) maskSum += mask ? mask[r] : 1;
  const phiAmp = (j: number, r: number): number => {
    let a2 = 0;
    for (let m = 0; m < modes; m++) {
      const i = 2 * ((j * modes + m) * hw + r);
      a2 += ((1 + k.alpha) * X[i] - k.alpha * Psi[i]) ** 2 + ((1 + k.alpha) * X[i + 1] - k.alpha * Psi[i + 1]) ** 2;
    }
    return Math.sqrt(a2);
  };
  for (let j = 0; j < n; j++) {
    let e = 0;
    // Power bound: relax the projection so the frame's mean deviation meets the bound.
    let relax = 0;
    if (powerBound !== undefined) {
      let dev = 0;
      for (let r = 0; r < hw; r++) dev += (mask ? mask[r] : 1) * (phiAmp(j, r) - mag[j * hw + r]) ** 2;
      const ePhi = dev / maskSum;
      relax = ePhi > powerBound ? Math.sqrt(powerBound / ePhi) : 1;
    }
    for (let r = 0; r < hw; r++) {
      const good = mask ? mask[r] : 1;
      const s = mag[j * hw + r];
      let x2 = 0, a2 = 0;
      for (let m = 0; m < modes; m++) {
        const i = 2 * ((j * modes + m) * hw + r);
        x2 += X[i] ** 2 + X[i + 1] ** 2;
        const pr = (1 + k.alpha) * X[i] - k.alpha * Psi[i];
        const pi = (1 + k.alpha) * X[i + 1] - k.alpha * Psi[i + 1];
        a2 += pr * pr + pi * pi;
      }
      e += good * (Math.sqrt(x2) - s) ** 2;
      const a = Math.sqrt(a2);
      const f = good === 0 ? 1 : (s + (a - s) * relax) / Math.max(a, 1e-20);
      for (let m = 0; m < modes; m++) {
        const i = 2 * ((j * modes + m) * hw + r);
        for (let c = 0; c < 2; c++) {
          const phi = (1 + k.alpha) * X[i + c] - k.alpha * Psi[i + c];
          psi[i + c] = k.a * Psi[i + c] + k.b * X[i + c] + k.c * f * phi;
        }
      }
    }
    errors[j] = e / maskSum;
  }
  return { psi, errors };
}

/**
 * Object half of the overlap projection: O = (c_O·O + Σ S_jᵀ(P̄ψ_j)) / (c_O + Σ S_jᵀ|P|²), or with
 * `residual` the step O += Σ S_jᵀ(P̄(ψ_j − P·S_jO)) / (c_O + Σ S_jᵀ|P|²).
 */
export function refObjectUpdate(obj: Arr, rows: number, cols: number, probe: Arr, modes: number, h: number, w: number, psiIn: Arr, positions: Arr, cO: number, residual = false, ampMax = 0): Float64Array {
  let psi: Arr = psiIn;
  if (residual) {
    const model = refExitModel(obj, cols, probe, modes, h, w, positions);
    psi = Float64Array.from(psiIn, (v, i) => v - model[i]);
  }
  const n = positions.length / 2;
  const hw = h * w;
  const num = new Float64Array(2 * rows * cols);
  const den = new Float64Array(rows * cols);
  for (let j = 0; j < n; j++) {
    const y0 = Math.floor(positions[2 * j]), x0 = Math.floor(positions[2 * j + 1]);
    const fy = Math.fround(positions[2 * j] - y0), fx = Math.fround(positions[2 * j + 1] - x0);
    for (let ry = 0; ry < h; ry++) for (let rx = 0; rx < w; rx++) {
      const r = ry * w + rx;
      for (let m = 0; m < modes; m++) {
        const pr = probe[2 * (m * hw + r)], pi = probe[2 * (m * hw + r) + 1];
        const i = 2 * ((j * modes + m) * hw + r);
        const sr = psi[i], si = psi[i + 1];
        // conj(P)·ψ
        const cr = pr * sr + pi * si, ci = pr * si - pi * sr;
        const p2 = pr * pr + pi * pi;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
          const wgt = (a ? fy : 1 - fy) * (b ? fx : 1 - fx);
          const q = (y0 + ry + a) * cols + x0 + rx + b;
          num[2 * q] += wgt * cr;
          num[2 * q + 1] += wgt * ci;
          den[q] += wgt * p2;
        }
      }
    }
  }
  const out = new Float64Array(2 * rows * cols);
  for (let q = 0; q < rows * cols; q++) {
    const keep = residual ? cO + den[q] : cO;
    out[2 * q] = (keep * obj[2 * q] + num[2 * q]) / (cO + den[q]);
    out[2 * q + 1] = (keep * obj[2 * q + 1] + num[2 * q + 1]) / (cO + den[q]);
    const a = Math.hypot(out[2 * q], out[2 * q + 1]);
    if (ampMax > 0 && a > ampMax) {
      out[2 * q] *= ampMax / a;
      out[2 * q + 1] *= ampMax / a;
    }
  }
  return out;
}

/** Probe half: P_m = (c_P·P_m + Σ_j conj(O_j) ψ_jm) / (c_P + Σ_j |O_j|²) (the residual form gives the same value). */
export function refProbeUpdate(probe: Arr, modes: number, h: number, w: number, obj: Arr, cols: number, psi: Arr, positions: Arr, cP: number, support = 0): Float64Array {
  const n = positions.length / 2;
  const hw = h * w;
  const num = new Float64Array(2 * modes * hw);
  const den = new Float64Array(hw);
  for (let j = 0; j < n; j++) for (let ry = 0; ry < h; ry++) for (let rx = 0; rx < w; rx++) {
    const r = ry * w + rx;
    const [vr, vi] = refView(obj, cols, positions[2 * j], positions[2 * j + 1], ry, rx);
    den[r] += vr * vr + vi * vi;
    for (let m = 0; m < modes; m++) {
      const i = 2 * ((j * modes + m) * hw + r);
      num[2 * (m * hw + r)] += vr * psi[i] + vi * psi[i + 1];
      num[2 * (m * hw + r) + 1] += vr * psi[i + 1] - vi * psi[i];
    }
  }
  const out = new Float64Array(2 * modes * hw);
  for (let m = 0; m < modes; m++) for (let r = 0; r < hw; r++) {
    const i = 2 * (m * hw + r);
    out[i] = (cP * probe[i] + num[i]) / (cP + den[r]);
    out[i + 1] = (cP * probe[i + 1] + num[i + 1]) / (cP + den[r]);
    const ry = Math.floor(r / w), rx = r % w;
    if (support > 0 && (ry - Math.floor(h / 2)) ** 2 + (rx - Math.floor(w / 2)) ** 2 > support * support) {
      out[i] = 0;
      out[i + 1] = 0;
    }
  }
  return out;
}
