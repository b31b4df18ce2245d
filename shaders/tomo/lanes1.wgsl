// Slices per value: 1 (SV, LANES and helpers for the block-iterative sweep, sweep_packed.wgsl and sweep_voxels.wgsl, and the FBP back-projection, fbp_backproject.wgsl).
alias SV = f32;
const LANES = 1u;

fn splat(v: f32) -> SV {
  return v;
}

fn clamp_below(x: SV, lo: f32) -> SV {
  return max(x, lo);
}

fn sum_squares(r: SV) -> f32 {
  return r * r;
}

// v where keep holds, else 0 (select: a non-finite v still gives 0).
fn keep_if(v: SV, keep: bool) -> SV {
  return select(0.0, v, keep);
}
