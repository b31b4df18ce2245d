// Slices per value: 8 (SV, LANES and helpers for the block-iterative sweep, sweep_packed.wgsl and sweep_voxels.wgsl, and the FBP back-projection, fbp_backproject.wgsl).
alias SV = mat2x4f;
const LANES = 8u;

fn splat(v: f32) -> SV {
  return mat2x4f(vec4f(v), vec4f(v));
}

fn clamp_below(x: SV, lo: f32) -> SV {
  return mat2x4f(max(x[0], vec4f(lo)), max(x[1], vec4f(lo)));
}

fn sum_squares(r: SV) -> f32 {
  return dot(r[0], r[0]) + dot(r[1], r[1]);
}

// v where keep holds, else 0 (select per column: a non-finite v still gives 0).
fn keep_if(v: SV, keep: bool) -> SV {
  return mat2x4f(select(vec4f(0.0), v[0], keep), select(vec4f(0.0), v[1], keep));
}
