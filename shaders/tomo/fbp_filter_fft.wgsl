// FBP row filtering through the FFT, in workgroup memory: the same result as fbp_filter.wgsl
// (the circular convolution of the zero-padded row with IDFT(H) on a grid of P samples) in
// O(P log P) instead of O(cols²) per row.
// One workgroup filters two detector rows at once (the same row at angles 2k and 2k+1), packed as
// the real and imaginary parts of one complex row: H is real, so IDFT(H · DFT(a + i b)) = (a ⊛ h) + i (b ⊛ h).
// Transforms: radix-2 Stockham autosort (natural order in and out, no bit reversal), forward with
// e^{−2πi kn/P}, inverse with the conjugate twiddles and 1/P. Twiddles and H come from `table`
// (float64 on the host): table[k] = e^{−2πi k/P} for k < P/2, then table[P/2 + k].x = H[k].
// Output sinogram-major [rows, angles, cols] or interleaved, as fbp_filter.wgsl writes it
// (tomo/fbp_layout.wgsl).
//#include "common/complex.wgsl"
//#include "tomo/fbp_layout.wgsl"

struct Params {
  cols: u32,
  rows: u32,     // detector rows in this chunk
  angles: u32,
  _pad: u32,
}

override WG: u32 = 256;
override P: u32 = 512;      // padded length, a power of two
override LOGP: u32 = 9;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> buf_a: array<vec2f, P>;
var<workgroup> buf_b: array<vec2f, P>;

@compute @workgroup_size(WG)
fn filter_rows_fft(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  // Pairs of angles of the same detector row, so the pairing (and so the rounding) does not
  // depend on how the rows are split into slabs.
  let half_angles = (p.angles + 1u) / 2u;
  let pair = wid.x + wid.y * nwg.x;
  if (pair >= p.rows * half_angles) { return; }   // uniform across the workgroup
  let r = pair / half_angles;
  let a0 = 2u * (pair - r * half_angles);
  let a1 = a0 + 1u;
  let has1 = a1 < p.angles;
  let w0 = a0 * p.rows + r;
  let w1 = a1 * p.rows + r;
  let cols = p.cols;
  for (var x = lid; x < P; x += WG) {
    var v = vec2f(0.0);
    if (x < cols) {
      v.x = proj[w0 * cols + x];
      if (has1) { v.y = proj[w1 * cols + x]; }
    }
    buf_a[x] = v;
  }
  workgroupBarrier();
  var in_a = true;
  for (var dir = 0u; dir < 2u; dir++) {
    var n = P;
    for (var st = 0u; st < LOGP; st++) {
      let m = n >> 1u;
      let s = 1u << st;
      for (var t = lid; t < P / 2u; t += WG) {
        let q = t & (s - 1u);
        let k = t >> st;
        var w = table[k << st];
        if (dir == 1u) { w = conj(w); }
        var a: vec2f;
        var b: vec2f;
        if (in_a) {
          a = buf_a[q + s * k];
          b = buf_a[q + s * (k + m)];
        } else {
          a = buf_b[q + s * k];
          b = buf_b[q + s * (k + m)];
        }
        let y0 = a + b;
        let y1 = cmul(a - b, w);
        let o = q + s * 2u * k;
        if (in_a) {
          buf_b[o] = y0;
          buf_b[o + s] = y1;
        } else {
          buf_a[o] = y0;
          buf_a[o + s] = y1;
        }
      }
      workgroupBarrier();
      in_a = !in_a;
      n = m;
    }
    if (dir == 0u) {
      for (var x = lid; x < P; x += WG) {
        let h = table[P / 2u + x].x;
        if (in_a) { buf_a[x] *= h; } else { buf_b[x] *= h; }
      }
      workgroupBarrier();
    }
  }
  let inv = 1.0 / f32(P);
  for (var x = lid; x < cols; x += WG) {
    var v = buf_b[x];
    if (in_a) { v = buf_a[x]; }
    out[sino_index(r, a0, x, p.angles, cols)] = v.x * inv;
    if (has1) { out[sino_index(r, a1, x, p.angles, cols)] = v.y * inv; }
  }
}
