// The FBP back-projection (fbp_backproject.wgsl) with 4 slice(s) per value.
//#include "tomo/lanes4.wgsl"
//#include "tomo/fbp_backproject.wgsl"
