// The FBP back-projection (fbp_backproject.wgsl) with 1 slice(s) per value.
//#include "tomo/lanes1.wgsl"
//#include "tomo/fbp_backproject.wgsl"
