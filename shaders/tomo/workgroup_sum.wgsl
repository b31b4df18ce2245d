// Sum of one f32 per invocation over the workgroup, stored by invocation 0 in resid[slot].
// A file including this one declares `override WG` (a power of two) and
// `resid: array<f32>` (read_write storage) at module scope; call from uniform control flow.

var<workgroup> partial: array<f32, WG>;

fn store_workgroup_sum(lid: u32, slot: u32, value: f32) {
  partial[lid] = value;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { partial[lid] += partial[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { resid[slot] = partial[0]; }
}
