// The overlap of this device's object window with device e's window, in this window's
// coordinates; `offset` in pixels into the packed export (pack_overlap.wgsl) and into the imports
// (reduce_object.wgsl). h = 0: no overlap. Written on the host by src/ptycho/partition.ts.
struct Rect {
  y0: u32,
  x0: u32,
  h: u32,
  w: u32,
  offset: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}
