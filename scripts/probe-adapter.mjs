// Prints one JSON line describing the best WebGPU adapter dawn.node can get here:
// {"found":true,"level":"core"|"compatibility","description":...} or {"found":false,"error":...}.
// Run as a child process by setup.mjs so a crashing driver cannot take the setup down.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const keep = [];
async function probe(flags, featureLevel) {
  const { create } = require('webgpu');
  const gpu = create(flags);
  keep.push(gpu);
  const adapter = await gpu.requestAdapter({ featureLevel });
  if (!adapter) return null;
  if (featureLevel === 'core' && !adapter.features.has('core-features-and-limits')) return null;
  const device = await adapter.requestDevice();
  const info = adapter.info;
  const out = { found: true, level: featureLevel, description: info.description, vendor: info.vendor, architecture: info.architecture };
  device.destroy();
  return out;
}
try {
  let result = await probe([], 'core');
  if (!result) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    result = await probe(['backend=opengles'], 'compatibility');
  }
  console.log(JSON.stringify(result ?? { found: false, error: 'no adapter' }));
} catch (err) {
  console.log(JSON.stringify({ found: false, error: String(err && err.message || err) }));
}
process.exit(0);
