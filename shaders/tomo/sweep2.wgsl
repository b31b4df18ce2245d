// The block-iterative sweep (sweep_packed.wgsl) with two slices per vec2f.
//#include "tomo/lanes2.wgsl"
//#include "tomo/sweep_packed.wgsl"
