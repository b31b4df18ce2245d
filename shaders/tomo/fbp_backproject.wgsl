// Voxel-driven FBP back-projection with linear interpolation on the detector, all angles
// accumulated per voxel inside the kernel; one dispatch covers every slice of a slab and,
// for centre finding, every candidate rotation centre.
//
// Geometry (src/tomo/geometry.ts, TomoPy's conventions): voxel (i, k) of an n x n slice has its
// centre at x = k + 0.5 - n/2, y = n/2 - 0.5 - i; at angle theta it projects to the continuous
// detector index  jf = x cos(theta) + y sin(theta) + center - 0.5  (pixel j's centre at index j).
// The filtered sinogram is zero outside the detector, interpolated as
//   q(jf) = sum_j max(0, 1 - |jf - j|) * q[j],
// and  vol[cand, z, i, k] = sum_a weight_a * q_{z,a}(jf).
//
// Slices come in groups of LANES interleaved in one value of type SV (f32, vec2f, vec4f or
// mat2x4f; the including file fbp_backproject1/2/4/8.wgsl declares them through lanes1/2/4/8.wgsl),
// so on software adapters every load and every index computation serves LANES slices.
// Buffers: sino [groups, angles, cols] of SV (sinogram-major, as the row filters write it with
// OUT_LANES = LANES, tomo/fbp_layout.wgsl), angles [angles] of vec4f(cos, sin, weight, 0),
// centers [candidates] (TomoPy centre values), out [candidates, groups, n, n] of SV.
//#include "common/index.wgsl"
//#include "common/intconv.wgsl"

struct Params {
  n: u32,
  slices: u32,      // slice groups (slices / LANES, rounded up)
  angles: u32,
  cols: u32,
  candidates: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> sino: array<SV>;
@group(0) @binding(2) var<storage, read> angle_table: array<vec4f>;
@group(0) @binding(3) var<storage, read> centers: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<SV>;

@compute @workgroup_size(WG)
fn backproject(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = linear_index(gid, nwg, WG);
  let nn = p.n * p.n;
  if (t >= nn * p.slices * p.candidates) { return; }
  let k = t % p.n;
  let i = (t / p.n) % p.n;
  let z = (t / nn) % p.slices;
  let cand = t / (nn * p.slices);
  let half = 0.5 * f32(p.n);
  let x = f32(k) + 0.5 - half;
  let y = half - 0.5 - f32(i);
  let base = centers[cand] - 0.5;
  let last = i32(p.cols) - 1;
  let lastf = f32(p.cols);
  var acc = splat(0.0);
  var row = z * p.angles * p.cols;
  for (var a = 0u; a < p.angles; a++) {
    let cs = angle_table[a];
    let jf = base + x * cs.x + y * cs.y;
    if (jf > -1.0 && jf < lastf) {
      let j0f = floor(jf);
      let f = jf - j0f;
      let j0 = whole_to_i32(j0f);
      // Taps beyond the detector read a clamped index and count as zero.
      let v0 = keep_if(sino[row + u32(max(j0, 0))], j0 >= 0);
      let v1 = keep_if(sino[row + u32(min(j0 + 1, last))], j0 + 1 <= last);
      acc += cs.z * (v0 + f * (v1 - v0));
    }
    row += p.cols;
  }
  out[t] = acc;
}
