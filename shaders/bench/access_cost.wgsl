// What one data-dependent storage-buffer access costs on an adapter (bench/access-cost.ts): each
// invocation loads, or stores, K complex values (vec2f; the host checks both kernels' results; its
// streaming shape has K · INVOCATIONS = POINTS, every point accessed once, its cached shape reads
// a small array many times over). Invocation g's access k is at
// (k·INVOCATIONS + g) mod POINTS, so neighbouring invocations touch neighbouring values, the most
// cache-friendly pattern there is, and the figure is a lower bound for real kernels. The index
// still depends on the invocation, as in every per-pixel kernel, so a software adapter must
// treat each access as a gather or scatter.

override K: u32 = 64u;
override INVOCATIONS: u32 = 262144u;
override POINTS: u32 = 1048576u;   // a power of two

@group(0) @binding(0) var<storage, read_write> points: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> sums: array<vec2f>;

fn point_index(g: u32, k: u32) -> u32 {
  return (k * INVOCATIONS + g) & (POINTS - 1u);
}

@compute @workgroup_size(64)
fn loads(@builtin(global_invocation_id) gid: vec3u) {
  var acc = vec2f(0.0);
  for (var k = 0u; k < K; k++) {
    acc += points[point_index(gid.x, k)];
  }
  sums[gid.x] = acc;
}

@compute @workgroup_size(64)
fn stores(@builtin(global_invocation_id) gid: vec3u) {
  for (var k = 0u; k < K; k++) {
    points[point_index(gid.x, k)] = vec2f(f32(k), f32(gid.x));
  }
}
