// Packs the parts of this device's partial object sums that other devices' windows overlap into
// one contiguous buffer for the read-back of the all-reduce (src/ptycho/partition.ts): rectangle
// by rectangle (the table of reduce_object.wgsl, by device index), row-major, three floats per
// pixel (num.re, num.im, den). Only these overlaps travel between devices, never whole windows.
//#include "common/index.wgsl"
//#include "ptycho/overlap_rect.wgsl"

struct Params {
  cols: u32,   // window cols
  parts: u32,
  total: u32,  // pixels to pack (sum of the rectangles' areas)
  _pad0: u32,
}


@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> num: array<vec2f>;
@group(0) @binding(2) var<storage, read> den: array<f32>;
@group(0) @binding(3) var<storage, read> rects: array<Rect>;
@group(0) @binding(4) var<storage, read_write> packed: array<f32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linear_index(gid, nwg, WG);
  if (i >= p.total) { return; }
  for (var e = 0u; e < p.parts; e++) {
    let r = rects[e];
    let n = r.h * r.w;
    if (n == 0u || i < r.offset || i >= r.offset + n) { continue; }
    let local = i - r.offset;
    let ly = local / r.w;
    let q = (r.y0 + ly) * p.cols + r.x0 + (local - ly * r.w);
    let v = num[q];
    packed[3u * i] = v.x;
    packed[3u * i + 1u] = v.y;
    packed[3u * i + 2u] = den[q];
    return;
  }
}
