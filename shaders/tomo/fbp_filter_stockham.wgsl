// FBP row filtering through the Stockham FFT of fft/stockham.wgsl (radix 4/8/16 stages, lines
// shared through workgroup memory): the same result as fbp_filter_fft.wgsl, the circular
// convolution of the zero-padded row with IDFT(H) on a grid of FFT_N = P samples, in two passes
// (FFT_INVERSE false, then true) for padded lengths 32..1024.
// Two detector rows travel as one complex line, as in fbp_filter_fft.wgsl: the same row at
// angles 2k and 2k + 1 as real and imaginary parts (H is real, so IDFT(H · DFT(a + i b)) =
// (a ⊛ h) + i (b ⊛ h)); line `pair` = r · ⌈angles / 2⌉ + k.
//   forward pass: spec[pair] = H · DFT(zero-padded row pair)
//   inverse pass: the sinogram (tomo/fbp_layout.wgsl) ← IDFT(spec[pair]) / P, first `cols` points
// Each workgroup transforms FFT_LINES consecutive lines; lines past the end read zeros and write
// nothing.
//#include "fft/stockham.wgsl"
//#include "tomo/fbp_layout.wgsl"

struct Params {
  cols: u32,
  rows: u32,     // detector rows in this chunk
  angles: u32,
  pairs: u32,    // rows · ⌈angles / 2⌉ lines
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;       // [angles, rows, cols]
@group(0) @binding(2) var<storage, read> response: array<f32>;   // H[k], k < FFT_N
@group(0) @binding(3) var<storage, read_write> spec: array<vec2f>; // [pairs, FFT_N]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // sinogram layout

// First line (row pair) of this workgroup.
var<private> line0: u32;

// Detector row and the two angles of line `pair`.
fn pair_rows(pair: u32) -> vec3u {
  let half_angles = (p.angles + 1u) / 2u;
  let r = pair / half_angles;
  let a0 = 2u * (pair - r * half_angles);
  return vec3u(r, a0, a0 + 1u);
}

fn fft_input(line: u32, pos: u32) -> vec2f {
  let pair = line0 + line;
  if (pair >= p.pairs) { return vec2f(0.0); }
  if (FFT_INVERSE) {
    return spec[pair * FFT_N + pos];
  }
  if (pos >= p.cols) { return vec2f(0.0); }
  let q = pair_rows(pair);
  let re = proj[(q.y * p.rows + q.x) * p.cols + pos];
  let im = select(0.0, proj[(min(q.z, p.angles - 1u) * p.rows + q.x) * p.cols + pos], q.z < p.angles);
  return vec2f(re, im);
}

fn fft_output(line: u32, pos: u32, value: vec2f) {
  let pair = line0 + line;
  if (pair >= p.pairs) { return; }
  if (!FFT_INVERSE) {
    spec[pair * FFT_N + pos] = value * response[pos];
    return;
  }
  if (pos >= p.cols) { return; }
  let q = pair_rows(pair);
  let v = value * (1.0 / f32(FFT_N));
  out[sino_index(q.x, q.y, pos, p.angles, p.cols)] = v.x;
  if (q.z < p.angles) { out[sino_index(q.x, q.z, pos, p.angles, p.cols)] = v.y; }
}

@compute @workgroup_size(FFT_WG)
fn filter_pass(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let first = (wid.x + wid.y * nwg.x) * FFT_LINES;
  if (first >= p.pairs) { return; }   // uniform across the workgroup
  line0 = first;
  fft_run(tid);
}
