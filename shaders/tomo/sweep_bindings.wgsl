// Bindings and constants shared by the two traversals of the block-iterative sweep
// (sweep_packed.wgsl: band walk; sweep_voxels.wgsl: voxel-driven); the host binds the same buffers
// to both (src/tomo/iterative.ts, SweepDevice). The including file declares SV (lanes*.wgsl).
//#include "tomo/joseph.wgsl"
//#include "tomo/workgroup_sum.wgsl"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> geo: array<AngleGeo>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> data: array<SV>;
@group(0) @binding(4) var<storage, read> rowscale: array<f32>;
@group(0) @binding(5) var<storage, read> colscale: array<f32>;
@group(0) @binding(6) var<storage, read_write> vol: array<SV>;
@group(0) @binding(7) var<storage, read_write> q: array<SV>;
@group(0) @binding(8) var<storage, read_write> resid: array<f32>;

override WG: u32 = 256;
override NORMALISE: u32 = 0; // 0: ART (no column scaling); 1: SART/SIRT
