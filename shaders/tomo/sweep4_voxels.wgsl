// The voxel-driven sweep (sweep_voxels.wgsl, for GPUs) with 4 slice(s) per value.
//#include "tomo/lanes4.wgsl"
//#include "tomo/sweep_voxels.wgsl"
