// Measured intensities → amplitudes, in place: a = √max(I, 0) (the modulus constraint and the
// Fourier error work with amplitudes).
//#include "common/index.wgsl"

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> data: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn sqrt_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= p.n) { return; }
  data[i] = sqrt(max(data[i], 0.0));
}
