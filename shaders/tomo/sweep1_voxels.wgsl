// The voxel-driven sweep (sweep_voxels.wgsl, for GPUs) with 1 slice(s) per value.
//#include "tomo/lanes1.wgsl"
//#include "tomo/sweep_voxels.wgsl"
