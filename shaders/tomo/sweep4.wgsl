// The block-iterative sweep (sweep_packed.wgsl) with four slices per vec4f: on a CPU adapter one access moves four slices.
//#include "tomo/lanes4.wgsl"
//#include "tomo/sweep_packed.wgsl"
