#!/usr/bin/env node
// Installs what webrecon needs, and nothing a machine already has:
//   1. npm dependencies (npm ci / npm install) when node_modules is missing or stale;
//   2. the TypeScript build (dist/) when a source file is newer than it;
//   3. only when no core WebGPU adapter can be had: a software Vulkan driver (Mesa lavapipe,
//      mesa-vulkan-drivers 25.x + libvulkan1; from bookworm-backports on Debian 12). As root on
//      Debian it installs them with apt; otherwise it prints exactly what to install.
// Uses Node built-ins only, so it runs on a fresh clone. Flags: --quiet, --no-driver, --check.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const log = (msg) => { if (!quiet) console.error(`[setup] ${msg}`); };
const say = (msg) => console.error(`[setup] ${msg}`);

function run(cmd, argv, opts = {}) {
  log(`$ ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
  if (r.status !== 0) {
    say(`'${cmd} ${argv.join(' ')}' failed (exit ${r.status}).`);
    process.exit(r.status || 1);
  }
}

function newestMtime(dir, exts) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// 1. npm dependencies
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)) {
  log('installing npm dependencies');
  run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

// 2. build
const stamp = join(root, 'dist', '.build-stamp');
const srcTime = Math.max(newestMtime(join(root, 'src'), ['.ts']), newestMtime(join(root, 'bench'), ['.ts']), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (!existsSync(stamp) || statSync(stamp).mtimeMs < srcTime) {
  log('building (tsc)');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  writeFileSync(stamp, new Date().toISOString());
}

// 3. a WebGPU adapter
function probe() {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'probe-adapter.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const line = (r.stdout || '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try { return JSON.parse(line); } catch { return { found: false, error: `probe crashed (exit ${r.status}): ${(r.stderr || '').slice(-300)}` }; }
}

let adapter = probe();
if (adapter.found && adapter.level === 'core') {
  log(`WebGPU adapter: ${adapter.description} (core)`);
  process.exit(0);
}
if (args.has('--no-driver') || args.has('--check')) {
  say(adapter.found ? `only a compatibility-mode adapter: ${adapter.description}` : `no WebGPU adapter (${adapter.error})`);
  process.exit(adapter.found ? 0 : 1);
}

const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
const field = (k) => (osRelease.match(new RegExp(`^${k}="?([^"\\n]*)"?`, 'm')) || [])[1] || '';
const isDebian = field('ID') === 'debian' || /debian/.test(field('ID_LIKE'));
const codename = field('VERSION_CODENAME');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const needsBackports = codename === 'bookworm';
const instructions = [
  needsBackports ? "echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list" : null,
  'apt-get update',
  `apt-get install -y ${needsBackports ? '-t bookworm-backports ' : ''}mesa-vulkan-drivers libvulkan1`,
].filter(Boolean);

if (!isDebian || !isRoot || process.platform !== 'linux') {
  const where = process.platform !== 'linux' ? `this ${process.platform} machine` : !isDebian ? `this non-Debian system (${field('PRETTY_NAME') || 'unknown'})` : 'a non-root user';
  say(`No core WebGPU adapter was found${adapter.found ? ` (only compatibility mode: ${adapter.description})` : ''}, and setup cannot install a driver as ${where}.`);
  say('Install a Vulkan driver for your GPU, or the Mesa lavapipe software driver (Mesa >= 24), e.g. on Debian 12 as root:');
  for (const c of instructions) say(`    ${c}`);
  say('On other systems: the package that provides lvp_icd.json (Fedora: mesa-vulkan-drivers; Ubuntu 24.04+: mesa-vulkan-drivers) plus the Vulkan loader (libvulkan1 / vulkan-loader).');
  if (adapter.found) { say('Continuing in compatibility mode.'); process.exit(0); }
  process.exit(1);
}

say(`No core WebGPU adapter found${adapter.found ? ' (only OpenGL ES compatibility mode)' : ''}: installing Mesa lavapipe (software Vulkan).`);
if (needsBackports) {
  const list = '/etc/apt/sources.list.d/bookworm-backports.list';
  const haveBackports = spawnSync('sh', ['-c', 'grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/'], {}).status === 0;
  if (!haveBackports) writeFileSync(list, 'deb http://deb.debian.org/debian bookworm-backports main\n');
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
run('apt-get', ['update', '-q'], { env });
run('apt-get', ['install', '-y', '-q', ...(needsBackports ? ['-t', 'bookworm-backports'] : []), 'mesa-vulkan-drivers', 'libvulkan1'], { env });
adapter = probe();
if (adapter.found) {
  say(`WebGPU adapter: ${adapter.description} (${adapter.level})`);
  process.exit(0);
}
say(`Installed lavapipe but still no WebGPU adapter: ${adapter.error}`);
process.exit(1);
