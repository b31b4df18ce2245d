// The block-iterative sweep (sweep_packed.wgsl) with one slice per workgroup (GPUs: the most workgroups).
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

//#include "tomo/sweep_packed.wgsl"
