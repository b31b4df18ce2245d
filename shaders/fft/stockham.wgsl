// Stockham autosort FFT of whole lines, no bit-reversal pass, twiddles from a table.
// Each stage is one radix-R butterfly per (line, j) done in registers (R = 4, 8 or 16, built
// from radix-4 and radix-2 butterflies); lines pass through workgroup memory only between stages.
// The first stage reads its points straight from the input and the last stage writes straight to
// the output, through two functions the including file defines:
//
//   fn fft_input(line: u32, pos: u32) -> vec2f          // point `pos` of line `line`
//   fn fft_output(line: u32, pos: u32, value: vec2f)     // result (natural order, unscaled)
//
// so kernels can fuse element-wise work into the loads and stores (fft/rows.wgsl, fft/cols.wgsl).
// Call fft_run(local_invocation_index) from uniform control flow: it holds workgroup barriers.
// The twiddle table is bound at @group(1) @binding(0): fft_twiddles[m] = exp(-2πi m / FFT_TABLE),
// computed on the host in float64 (src/fft/twiddles.ts).
//
// Convention: forward X[k] = Σ x[n] e^{-2πi kn/N}; inverse uses e^{+2πi kn/N}; no scaling here.
//#include "common/complex.wgsl"

const FFT_TABLE: u32 = 1024u;

// Points per line: FFT_N = FFT_R0 · FFT_R1 · FFT_R2 (radices 4, 8 or 16; FFT_R2 = 1 for two stages).
override FFT_N: u32 = 128u;
override FFT_R0: u32 = 16u;
override FFT_R1: u32 = 8u;
override FFT_R2: u32 = 1u;
// Lines transformed together by one workgroup.
override FFT_LINES: u32 = 1u;
// Invocations per workgroup (each loops over its share of the butterflies of a stage).
override FFT_WG: u32 = 64u;
// false: forward transform (e^{-2πi kn/N}); true: inverse (e^{+2πi kn/N}).
override FFT_INVERSE: bool = false;
// Butterfly order and workgroup layout: false → line-major (pos fastest: rows),
// true → pos-major (line fastest: tiles of adjacent columns).
override FFT_INTERLEAVED: bool = false;

@group(1) @binding(0) var<storage, read> fft_twiddles: array<vec2f>;

// Skew the workgroup-memory layout (see fft_slot); off only where the padding does not fit.
override FFT_SKEW: bool = true;
// Points per line in workgroup memory: with the skew, one padding slot after every 16 points.
override FFT_PADDED: u32 = FFT_N + select(0u, FFT_N / 16u, FFT_SKEW);
// Slots of one half of the workgroup memory: FFT_LINES padded lines.
override FFT_HALF: u32 = FFT_LINES * FFT_PADDED;

// Two halves (the second is used only with three stages).
var<workgroup> fft_sm: array<vec2f, 2u * FFT_HALF>;

// Workgroup-memory slot of point `pos` of line `line` (within one half). The skew pos + pos/16
// spreads the first stage's writes (each invocation writes R consecutive points, invocations
// R points apart) over the memory banks: unskewed, the 16 invocations of a half-warp wrote to
// one bank, a 16-way conflict in the row passes (2-way in the column passes of 8 lines).
fn fft_slot(line: u32, pos: u32) -> u32 {
  let p = select(pos, pos + pos / 16u, FFT_SKEW);
  if (FFT_INTERLEAVED) {
    return p * FFT_LINES + line;
  }
  return line * FFT_PADDED + p;
}

// exp(∓2πi m / FFT_TABLE): the sign follows the direction.
fn fft_twiddle(m: u32) -> vec2f {
  let w = fft_twiddles[m];
  return select(w, vec2f(w.x, -w.y), FFT_INVERSE);
}

// W^(r·m) for r = 0..count−1 (count 8 or 16; W = exp(∓2πi/FFT_TABLE)): the powers of two from
// the table, the rest as products of at most four of them. Every table read is a per-invocation
// gather (costly on CPU adapters); this takes 3 (count 8) or 4 (count 16) instead of count − 1,
// for at most a few ulp more rounding.
fn fft_twiddle_powers(m: u32, count: u32) -> array<vec2f, 16> {
  var w: array<vec2f, 16>;
  w[0] = vec2f(1.0, 0.0);
  w[1] = fft_twiddle(m);
  w[2] = fft_twiddle(2u * m);
  w[4] = fft_twiddle(4u * m);
  w[3] = cmul(w[1], w[2]);
  w[5] = cmul(w[1], w[4]);
  w[6] = cmul(w[2], w[4]);
  w[7] = cmul(w[3], w[4]);
  if (count > 8u) {
    let w8 = fft_twiddle(8u * m);
    for (var r = 0u; r < 8u; r++) {
      w[r + 8u] = cmul(w[r], w8);
    }
  }
  return w;
}

// Multiplies by -i (forward) or +i (inverse).
fn fft_rot(a: vec2f) -> vec2f {
  return select(vec2f(a.y, -a.x), vec2f(-a.y, a.x), FFT_INVERSE);
}

// Multiplies by a constant root of unity given as its forward value (conjugated for the inverse).
fn fft_mulc(a: vec2f, w: vec2f) -> vec2f {
  return cmul(a, select(w, vec2f(w.x, -w.y), FFT_INVERSE));
}

// Splits butterfly index b into (line, j), j in [0, count).
fn fft_split(b: u32, count: u32) -> vec2u {
  if (FFT_INTERLEAVED) {
    return vec2u(b % FFT_LINES, b / FFT_LINES);
  }
  return vec2u(b / count, b % count);
}

// Reads point `pos` of `line`: from the input (first stage) or workgroup memory at `base`.
fn fft_get(first: bool, base: u32, line: u32, pos: u32) -> vec2f {
  if (first) {
    return fft_input(line, pos);
  }
  return fft_sm[base + fft_slot(line, pos)];
}

// Writes point `pos` of `line`: to the output (last stage) or workgroup memory at `base`.
fn fft_put(last: bool, base: u32, line: u32, pos: u32, v: vec2f) {
  if (last) {
    fft_output(line, pos, v);
  } else {
    fft_sm[base + fft_slot(line, pos)] = v;
  }
}

// ---- small DFTs in registers (forward sign; the inverse conjugates the roots) ----

fn fft_dft4(a: vec2f, b: vec2f, c: vec2f, d: vec2f) -> array<vec2f, 4> {
  let s0 = a + c;
  let s1 = a - c;
  let s2 = b + d;
  let s3 = fft_rot(b - d);
  return array<vec2f, 4>(s0 + s2, s1 + s3, s0 - s2, s1 - s3);
}

const FFT_C8: f32 = 0.70710678118654752;

fn fft_dft8(x: array<vec2f, 8>) -> array<vec2f, 8> {
  let a = fft_dft4(x[0], x[2], x[4], x[6]);
  let b = fft_dft4(x[1], x[3], x[5], x[7]);
  let b1 = fft_mulc(b[1], vec2f(FFT_C8, -FFT_C8));
  let b2 = fft_rot(b[2]);
  let b3 = fft_mulc(b[3], vec2f(-FFT_C8, -FFT_C8));
  return array<vec2f, 8>(a[0] + b[0], a[1] + b1, a[2] + b2, a[3] + b3, a[0] - b[0], a[1] - b1, a[2] - b2, a[3] - b3);
}

// exp(-2πi m/16) for m = 1, 3 (m = 2 is FFT_C8, m = 4 is -i).
const FFT_C16: f32 = 0.92387953251128674;
const FFT_S16: f32 = 0.38268343236508977;

fn fft_dft16(x: array<vec2f, 16>) -> array<vec2f, 16> {
  // n = 4·n1 + n2, k = k1 + 4·k2: four DFT-4 over n1, twiddle W16^{n2·k1}, four DFT-4 over n2.
  let a0 = fft_dft4(x[0], x[4], x[8], x[12]);
  let a1 = fft_dft4(x[1], x[5], x[9], x[13]);
  let a2 = fft_dft4(x[2], x[6], x[10], x[14]);
  let a3 = fft_dft4(x[3], x[7], x[11], x[15]);
  let w1 = vec2f(FFT_C16, -FFT_S16);
  let w2 = vec2f(FFT_C8, -FFT_C8);
  let w3 = vec2f(FFT_S16, -FFT_C16);
  let w6 = vec2f(-FFT_C8, -FFT_C8);
  let w9 = vec2f(-FFT_C16, FFT_S16);
  let y0 = fft_dft4(a0[0], a1[0], a2[0], a3[0]);
  let y1 = fft_dft4(a0[1], fft_mulc(a1[1], w1), fft_mulc(a2[1], w2), fft_mulc(a3[1], w3));
  let y2 = fft_dft4(a0[2], fft_mulc(a1[2], w2), fft_rot(a2[2]), fft_mulc(a3[2], w6));
  let y3 = fft_dft4(a0[3], fft_mulc(a1[3], w3), fft_mulc(a2[3], w6), fft_mulc(a3[3], w9));
  return array<vec2f, 16>(
    y0[0], y1[0], y2[0], y3[0],
    y0[1], y1[1], y2[1], y3[1],
    y0[2], y1[2], y2[2], y3[2],
    y0[3], y1[3], y2[3], y3[3]);
}

// ---- Stockham stages: ns = length of the sub-transforms already done (1 for the first) ----
// Butterfly (line, j): inputs at j + r·N/R, twiddled by W_{ns·R}^{r·k} (k = j mod ns), outputs at
// (j - k)·R + k + r·ns.

fn fft_stage4(first: bool, last: bool, ns: u32, src: u32, dst: u32, tid: u32) {
  let m = FFT_N / 4u;
  let step = FFT_TABLE / (4u * ns);
  for (var b = tid; b < FFT_LINES * m; b += FFT_WG) {
    let lj = fft_split(b, m);
    let line = lj.x;
    let j = lj.y;
    let k = j & (ns - 1u);
    var v: array<vec2f, 4>;
    for (var r = 0u; r < 4u; r++) {
      v[r] = fft_get(first, src, line, j + r * m);
    }
    if (ns > 1u) {
      // W^k and W^2k from the table (two gathers), W^3k as their product.
      let w1 = fft_twiddle(k * step);
      let w2 = fft_twiddle(2u * k * step);
      v[1] = cmul(v[1], w1);
      v[2] = cmul(v[2], w2);
      v[3] = cmul(v[3], cmul(w1, w2));
    }
    let y = fft_dft4(v[0], v[1], v[2], v[3]);
    let d = (j - k) * 4u + k;
    for (var r = 0u; r < 4u; r++) {
      fft_put(last, dst, line, d + r * ns, y[r]);
    }
  }
}

fn fft_stage8(first: bool, last: bool, ns: u32, src: u32, dst: u32, tid: u32) {
  let m = FFT_N / 8u;
  let step = FFT_TABLE / (8u * ns);
  for (var b = tid; b < FFT_LINES * m; b += FFT_WG) {
    let lj = fft_split(b, m);
    let line = lj.x;
    let j = lj.y;
    let k = j & (ns - 1u);
    var v: array<vec2f, 8>;
    for (var r = 0u; r < 8u; r++) {
      v[r] = fft_get(first, src, line, j + r * m);
    }
    if (ns > 1u) {
      let w = fft_twiddle_powers(k * step, 8u);
      for (var r = 1u; r < 8u; r++) {
        v[r] = cmul(v[r], w[r]);
      }
    }
    let y = fft_dft8(v);
    let d = (j - k) * 8u + k;
    for (var r = 0u; r < 8u; r++) {
      fft_put(last, dst, line, d + r * ns, y[r]);
    }
  }
}

fn fft_stage16(first: bool, last: bool, ns: u32, src: u32, dst: u32, tid: u32) {
  let m = FFT_N / 16u;
  let step = FFT_TABLE / (16u * ns);
  for (var b = tid; b < FFT_LINES * m; b += FFT_WG) {
    let lj = fft_split(b, m);
    let line = lj.x;
    let j = lj.y;
    let k = j & (ns - 1u);
    var v: array<vec2f, 16>;
    for (var r = 0u; r < 16u; r++) {
      v[r] = fft_get(first, src, line, j + r * m);
    }
    if (ns > 1u) {
      let w = fft_twiddle_powers(k * step, 16u);
      for (var r = 1u; r < 16u; r++) {
        v[r] = cmul(v[r], w[r]);
      }
    }
    let y = fft_dft16(v);
    let d = (j - k) * 16u + k;
    for (var r = 0u; r < 16u; r++) {
      fft_put(last, dst, line, d + r * ns, y[r]);
    }
  }
}

fn fft_stage(radix: u32, first: bool, last: bool, ns: u32, src: u32, dst: u32, tid: u32) {
  if (radix == 16u) {
    fft_stage16(first, last, ns, src, dst, tid);
  } else if (radix == 8u) {
    fft_stage8(first, last, ns, src, dst, tid);
  } else {
    fft_stage4(first, last, ns, src, dst, tid);
  }
}

// Transforms FFT_LINES lines from fft_input to fft_output. Uniform control flow only.
fn fft_run(tid: u32) {
  let half = FFT_HALF;
  fft_stage(FFT_R0, true, false, 1u, 0u, 0u, tid);
  workgroupBarrier();
  if (FFT_R2 == 1u) {
    fft_stage(FFT_R1, false, true, FFT_R0, 0u, 0u, tid);
  } else {
    fft_stage(FFT_R1, false, false, FFT_R0, 0u, half, tid);
    workgroupBarrier();
    fft_stage(FFT_R2, false, true, FFT_R0 * FFT_R1, half, 0u, tid);
  }
}
