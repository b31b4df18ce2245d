// Line integral along one ray of the Joseph projector (joseph.wgsl). A file including this one
// declares `p: Params` and `vol: array<f32>` (the slab volume [slices, n, n]) at module scope.
//#include "tomo/joseph.wgsl"

// Line integral of slice `s` of `vol` along ray `j` of the angle described by `g`.
fn ray_sum(g: AngleGeo, s: u32, j: u32) -> f32 {
  let n = i32(p.n);
  let pos0 = ray_start(g, j);
  let range = ray_step_range(pos0, g.slope, n);
  let slice0 = s * u32(n) * u32(n);
  var acc = 0.0;
  for (var t = range.x; t <= range.y; t++) {
    let st = ray_step(g, pos0, t, n);
    acc += st.w.x * vol[slice0 + st.o0] + st.w.y * vol[slice0 + st.o1];
  }
  return acc * g.inv_m;
}
