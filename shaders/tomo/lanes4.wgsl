// Slices per value of the block-iterative sweep: 4 (SV, LANES and helpers for sweep_packed.wgsl and sweep_voxels.wgsl).
alias SV = vec4f;
const LANES = 4u;

fn splat(v: f32) -> SV {
  return SV(v);
}

fn clamp_below(x: SV, lo: f32) -> SV {
  return max(x, SV(lo));
}

fn sum_squares(r: SV) -> f32 {
  return dot(r, r);
}
