// Stockham autosort FFT on lines held in workgroup memory: radix-4 stages with a radix-2 tail,
// no bit-reversal pass, twiddles from a table. Included by every kernel that transforms lines
// (shaders/fft/fft2d.wgsl, and fused kernels elsewhere).
//
// A kernel that includes this file:
//   1. loads FFT_LINES lines of FFT_N points into fft_sm[fft_slot(line, pos)] (half 0),
//   2. calls fft_run(local_invocation_index) from uniform control flow (it holds barriers),
//   3. reads the result from fft_sm[result_base + fft_slot(line, pos)] (natural order).
// The twiddle table is bound at @group(1) @binding(0): fft_twiddles[m] = exp(-2πi m / FFT_TABLE),
// computed on the host in float64 (src/fft/twiddles.ts).
//
// Convention: forward X[k] = Σ x[n] e^{-2πi kn/N}; inverse uses e^{+2πi kn/N}. No scaling here:
// kernels scale at their store (1/N per inverse pass).
//#include "common/complex.wgsl"

const FFT_TABLE: u32 = 1024u;

// Points per line (power of two, 4..FFT_TABLE).
override FFT_N: u32 = 128u;
// Lines transformed together by one workgroup.
override FFT_LINES: u32 = 1u;
// Invocations per workgroup (each loops over its share of the butterflies).
override FFT_WG: u32 = 64u;
// false: forward transform (e^{-2πi kn/N}); true: inverse (e^{+2πi kn/N}).
override FFT_INVERSE: bool = false;
// Workgroup layout: false → line-major (pos fastest, rows), true → pos-major (line fastest, column tiles).
override FFT_INTERLEAVED: bool = false;

@group(1) @binding(0) var<storage, read> fft_twiddles: array<vec2f>;

// Two halves (ping-pong), each FFT_N * FFT_LINES points.
var<workgroup> fft_sm: array<vec2f, 2u * FFT_N * FFT_LINES>;

// Workgroup-memory slot of point `pos` of line `line` (within one half).
fn fft_slot(line: u32, pos: u32) -> u32 {
  if (FFT_INTERLEAVED) {
    return pos * FFT_LINES + line;
  }
  return line * FFT_N + pos;
}

// exp(∓2πi m / FFT_TABLE): the sign follows the direction.
fn fft_twiddle(m: u32) -> vec2f {
  let w = fft_twiddles[m];
  return select(w, vec2f(w.x, -w.y), FFT_INVERSE);
}

// Multiplies by -i (forward) or +i (inverse).
fn fft_rot(a: vec2f) -> vec2f {
  return select(vec2f(a.y, -a.x), vec2f(-a.y, a.x), FFT_INVERSE);
}

// Splits butterfly index b into (line, j), j in [0, count).
fn fft_split(b: u32, count: u32) -> vec2u {
  if (FFT_INTERLEAVED) {
    return vec2u(b % FFT_LINES, b / FFT_LINES);
  }
  return vec2u(b / count, b % count);
}

// One radix-4 Stockham stage from half `src` to half `dst`; `ns` = length of the sub-transforms done so far.
fn fft_stage4(src: u32, dst: u32, ns: u32, tid: u32) {
  let quarter = FFT_N / 4u;
  let step = FFT_TABLE / (4u * ns);
  for (var b = tid; b < FFT_LINES * quarter; b += FFT_WG) {
    let lj = fft_split(b, quarter);
    let line = lj.x;
    let j = lj.y;
    let k = j & (ns - 1u);
    let v0 = fft_sm[src + fft_slot(line, j)];
    let v1 = cmul(fft_sm[src + fft_slot(line, j + quarter)], fft_twiddle(k * step));
    let v2 = cmul(fft_sm[src + fft_slot(line, j + 2u * quarter)], fft_twiddle(2u * k * step));
    let v3 = cmul(fft_sm[src + fft_slot(line, j + 3u * quarter)], fft_twiddle(3u * k * step));
    let a0 = v0 + v2;
    let a1 = v0 - v2;
    let a2 = v1 + v3;
    let a3 = fft_rot(v1 - v3);
    let d = (j - k) * 4u + k;
    fft_sm[dst + fft_slot(line, d)] = a0 + a2;
    fft_sm[dst + fft_slot(line, d + ns)] = a1 + a3;
    fft_sm[dst + fft_slot(line, d + 2u * ns)] = a0 - a2;
    fft_sm[dst + fft_slot(line, d + 3u * ns)] = a1 - a3;
  }
}

// The radix-2 tail stage (only when FFT_N is not a power of four).
fn fft_stage2(src: u32, dst: u32, ns: u32, tid: u32) {
  let half = FFT_N / 2u;
  let step = FFT_TABLE / (2u * ns);
  for (var b = tid; b < FFT_LINES * half; b += FFT_WG) {
    let lj = fft_split(b, half);
    let line = lj.x;
    let j = lj.y;
    let k = j & (ns - 1u);
    let v0 = fft_sm[src + fft_slot(line, j)];
    let v1 = cmul(fft_sm[src + fft_slot(line, j + half)], fft_twiddle(k * step));
    let d = (j - k) * 2u + k;
    fft_sm[dst + fft_slot(line, d)] = v0 + v1;
    fft_sm[dst + fft_slot(line, d + ns)] = v0 - v1;
  }
}

// Transforms the lines in half 0 of fft_sm; returns the base of the half holding the result
// (natural order). Call from uniform control flow: it synchronises the workgroup before each
// stage and before returning.
fn fft_run(tid: u32) -> u32 {
  let size = FFT_N * FFT_LINES;
  var src = 0u;
  var ns = 1u;
  loop {
    if (ns * 4u > FFT_N) { break; }
    workgroupBarrier();
    fft_stage4(src, size - src, ns, tid);
    src = size - src;
    ns = ns * 4u;
  }
  if (ns < FFT_N) {
    workgroupBarrier();
    fft_stage2(src, size - src, ns, tid);
    src = size - src;
  }
  workgroupBarrier();
  return src;
}
