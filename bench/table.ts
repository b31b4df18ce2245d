/**
 * The benchmark table: plain text for the terminal and Markdown for the project README, both
 * from the JSON the runner writes (bench/results/*.json), so a saved result can be printed again
 * with `node dist/bench/run.js --from <file> --markdown`.
 */
import type { BenchResult, WorkloadResult } from './types.js';

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && a < 10 ** -digits) return v.toExponential(1);
  return v.toFixed(digits);
}

function ratio(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}×`;
}

/** Millions of voxel updates per second, or giga when large. */
function rate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : `${(v / 1e6).toFixed(0)} M`;
}

const HEADER = [
  'workload',
  'iters',
  'GPU s (upload+recon+readback)',
  'incl. TIFF I/O s',
  'GPU s/iter',
  'kernel s',
  'voxel upd/s',
  'error vs truth',
  'CPU s/iter',
  'speed-up vs CPU',
  'vs TomoPy ART †',
] as const;

function rowOf(w: WorkloadResult): string[] {
  const tomopy = w.tomopy && !w.tomopy.comparable ? `– (n≠256)` : w.tomopy ? `${ratio(w.tomopy.ratio)}${w.tomopy.meetsTarget ? ' ✓' : ' ✗'} (target ≥${w.tomopy.targetRatio}×)` : '–';
  return [
    w.name,
    String(w.iterations),
    fmt(w.gpu.seconds),
    w.io ? fmt(w.io.totalSeconds) : '–',
    fmt(w.gpu.secondsPerIteration),
    fmt(w.gpu.kernelSeconds),
    rate(w.gpu.voxelUpdatesPerSecond),
    fmt(w.errorVsTruth, 4),
    w.cpu ? `${fmt(w.cpu.secondsPerIteration)}${w.cpu.scaled ? '*' : ''}` : '–',
    w.speedup ? ratio(w.speedup.perIteration) : '–',
    tomopy,
  ];
}

/** One-line description of where a result was measured. */
export function machineLine(r: BenchResult): string {
  const m = r.machine;
  const gib = (m.memoryBytes / 2 ** 30).toFixed(0);
  return `${r.adapter.description || r.adapter.device || 'unknown adapter'} (${r.adapter.backend}, ${r.adapter.featureLevel}${r.adapter.software ? ', software' : ''}) on ${m.cpuCount} × ${m.cpuModel}, ${gib} GiB, Node ${r.node}, load ${m.loadAverageStart.map((l) => l.toFixed(1)).join('/')} at start; ${r.date}${r.git ? `, commit ${r.git.commit}${r.git.dirty ? ' (modified)' : ''}` : ''}`;
}

function notes(r: BenchResult): string[] {
  const out: string[] = [];
  const w0 = r.workloads.find((w) => w.cpu?.scaled);
  if (w0?.cpu) {
    out.push(
      `* CPU baseline (bench/cpu-baselines.ts, one thread, plain TypeScript) timed on ${w0.cpu.slices} of ${r.params.rows} slices and scaled linearly per slice (slices are independent in parallel beam).`,
    );
  }
  const io = r.workloads.find((w) => w.io);
  if (io?.io) {
    out.push(
      `${io.name} including I/O (float32 TIFF in a temp folder: read with loadProjections, reconstruct, writeVolume): ${fmt(io.io.totalSeconds)} s = read ${fmt(io.io.readSeconds)} + reconstruct ${fmt(io.io.reconstructSeconds)} + write ${fmt(io.io.writeSeconds)}; issue 2's target on a real GPU: 5 ART iterations < 1 s including I/O.`,
    );
  }
  out.push(
    `Workload: ${r.params.cols}×${r.params.rows}×${r.params.angles} tilt series (3-D Shepp-Logan, ${r.params.angleRange[0]}°..+${r.params.angleRange[1]}°) → ${r.params.size}³; simulate ${fmt(r.simulateSeconds)} s and shader compile ${fmt(r.warmupSeconds)} s not included. Voxel updates: angles × rows × n² per iteration (FBP: per pass). `,
    `† TomoPy's C ART: about ${r.workloads.find((w) => w.tomopy)?.tomopy?.secondsPerIteration ?? 2.8} s per iteration of the 256³ seed workload on this kind of two-core machine (issue 2; stated, not measured here) ÷ our GPU s/iter; target ≥2× (✓ met, ✗ not met; only at n = 256).`,
  );
  return out;
}

/** The table as aligned plain text. */
export function textTable(r: BenchResult): string {
  const rows = [HEADER.slice() as string[], ...r.workloads.map(rowOf)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', ...notes(r), `Machine: ${machineLine(r)}`].join('\n');
}

/** The table as Markdown (for the project README). */
export function markdownTable(r: BenchResult): string {
  const rows = r.workloads.map(rowOf);
  const align = HEADER.map((_, c) => (c === 0 ? ':--' : '--:'));
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`;
  return [line(HEADER), line(align), ...rows.map(line), '', ...notes(r).flatMap((n) => [n.startsWith('*') ? `\\${n}` : n, '']), `Measured on: ${machineLine(r)}.`].join('\n');
}
