// The voxel-driven sweep (sweep_voxels.wgsl, for GPUs) with 2 slice(s) per value.
//#include "tomo/lanes2.wgsl"
//#include "tomo/sweep_voxels.wgsl"
