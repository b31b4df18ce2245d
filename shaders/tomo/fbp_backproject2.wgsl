// The FBP back-projection (fbp_backproject.wgsl) with 2 slice(s) per value.
//#include "tomo/lanes2.wgsl"
//#include "tomo/fbp_backproject.wgsl"
