// Index helpers shared by kernels. Long 1-D jobs are dispatched on a 2-D grid of workgroups
// (see src/gpu/dispatch.ts grid1d); linear_index rebuilds the flat invocation index.

fn linear_index(gid: vec3u, nwg: vec3u, wg_size: u32) -> u32 {
  return gid.x + gid.y * nwg.x * wg_size;
}
