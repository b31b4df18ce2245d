// The block-iterative sweep (sweep_packed.wgsl) with one slice per workgroup (GPUs: the most workgroups).
//#include "tomo/lanes1.wgsl"
//#include "tomo/sweep_packed.wgsl"
