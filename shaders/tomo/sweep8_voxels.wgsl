// The voxel-driven sweep (sweep_voxels.wgsl, for GPUs) with 8 slice(s) per value.
//#include "tomo/lanes8.wgsl"
//#include "tomo/sweep_voxels.wgsl"
