// FBP row filtering as a direct convolution in workgroup memory.
// One workgroup filters one detector row (angle a, row r) of a [angles, rows, cols] chunk:
//   out[r, a, c] = sum_k proj[a, r, k] * kern[c - k + cols - 1],   c, k in [0, cols)
// where kern is the filter's spatial kernel unrolled over -(cols-1)..(cols-1) (src/tomo/filters.ts),
// i.e. the circular convolution of the zero-padded row with IDFT(H). The output is written
// sinogram-major, [rows, angles, cols], so each slice's sinogram is contiguous for the
// back-projection, or with its slices interleaved (tomo/fbp_layout.wgsl). Rows are processed in WG x WG blocks: a tile of the row and the 2 WG - 1
// kernel values the block needs are staged in workgroup memory.

//#include "tomo/fbp_layout.wgsl"

struct Params {
  cols: u32,
  rows: u32,     // detector rows in this chunk
  angles: u32,
  _pad: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> kern: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> tile: array<f32, WG>;
var<workgroup> kseg: array<f32, 2 * WG>;

@compute @workgroup_size(WG)
fn filter_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;            // which row: w = a * rows + r
  if (w >= p.rows * p.angles) { return; }   // uniform across the workgroup
  let a = w / p.rows;
  let r = w % p.rows;
  let cols = i32(p.cols);
  let src = w * p.cols;
  let nb = (p.cols + WG - 1u) / WG;
  let wg = i32(WG);
  let last = 2 * cols - 2;
  for (var ob = 0u; ob < nb; ob++) {
    let c = ob * WG + lid;
    var acc = 0.0;
    for (var kt = 0u; kt < nb; kt++) {
      let k0 = kt * WG;
      workgroupBarrier();
      let k = k0 + lid;
      tile[lid] = select(0.0, proj[src + min(k, p.cols - 1u)], k < p.cols);
      // kernel offsets m = c - k for this block: (ob - kt) * WG - (WG - 1) + q, q in [0, 2 WG - 1)
      let m0 = (i32(ob) - i32(kt)) * wg - (wg - 1) + cols - 1;
      let e0 = m0 + i32(lid);
      let e1 = e0 + wg;
      kseg[lid] = select(0.0, kern[clamp(e0, 0, last)], e0 >= 0 && e0 <= last);
      kseg[lid + WG] = select(0.0, kern[clamp(e1, 0, last)], e1 >= 0 && e1 <= last);
      workgroupBarrier();
      let q0 = lid + WG - 1u;
      for (var kk = 0u; kk < WG; kk++) {
        acc = fma(tile[kk], kseg[q0 - kk], acc);
      }
    }
    if (c < p.cols) {
      out[sino_index(r, a, c, p.angles, p.cols)] = acc;
    }
  }
}
