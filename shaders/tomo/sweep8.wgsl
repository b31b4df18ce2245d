// The block-iterative sweep (sweep_packed.wgsl) with eight slices per mat2x4f (two vec4f columns).
//#include "tomo/lanes8.wgsl"
//#include "tomo/sweep_packed.wgsl"
