// The FBP back-projection (fbp_backproject.wgsl) with 8 slice(s) per value.
//#include "tomo/lanes8.wgsl"
//#include "tomo/fbp_backproject.wgsl"
