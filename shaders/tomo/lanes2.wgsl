// Slices per value: 2 (SV, LANES and helpers for the block-iterative sweep, sweep_packed.wgsl and sweep_voxels.wgsl, and the FBP back-projection, fbp_backproject.wgsl).
alias SV = vec2f;
const LANES = 2u;

fn splat(v: f32) -> SV {
  return SV(v);
}

fn clamp_below(x: SV, lo: f32) -> SV {
  return max(x, SV(lo));
}

fn sum_squares(r: SV) -> f32 {
  return dot(r, r);
}

// v where keep holds, else 0 (select: a non-finite v still gives 0).
fn keep_if(v: SV, keep: bool) -> SV {
  return select(vec2f(0.0), v, keep);
}
