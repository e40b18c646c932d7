/*
 * W3/W4 (bench/tabular.ts) and W8 (bench/redis.ts) keep their own scripts and options: the suite
 * runs them as child processes (output shown as it comes) and reads their figures back from the
 * JSON they write, to put them in the same tables.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, median, round } from '../bench-utils.ts';
import { REPO, ratio, type ResultRow, type SuiteContext, type WorkloadResult } from './common.ts';

function runScript(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, script), ...args], { cwd: REPO, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/${script} exited ${code}`))));
  });
}

const today = () => new Date().toISOString().slice(0, 10);
const readJson = (name: string) => JSON.parse(readFileSync(join(BENCH_DIR, 'results', name), 'utf8')) as Record<string, any>;

/** W3 and W4 in one go (one data generation each); returns two workload results. */
export async function tabular(ctx: SuiteContext, which: { w3: boolean; w4: boolean }): Promise<Record<string, WorkloadResult>> {
  const w3Mb = String(ctx.options['w3-mb'] ?? (ctx.quick ? 20 : 500));
  // W4 is the W3 file with partition_keys (issue 9): the same size, and tabular.ts the same seed.
  const w4Mb = String(ctx.options['w4-mb'] ?? w3Mb);
  const args = ['--w3-mb', w3Mb, '--w4-mb', w4Mb, '--runs', String(ctx.runs), ...(which.w3 ? [] : ['--skip-w3']), ...(which.w4 ? [] : ['--skip-w4'])];
  ctx.log(`W3/W4: node --import tsx bench/tabular.ts ${args.join(' ')}`);
  await runScript('tabular.ts', args);
  const section = readJson(`${today()}.json`).tabular ?? {};
  const out: Record<string, WorkloadResult> = {};
  if (which.w3 && section.w3) {
    const w = section.w3;
    const mbWall = (walls: number[]) => round(median(walls) * 1000, 1);
    const rows: ResultRow[] = [
      {
        configuration: `${w.inputMb} MB CSV, ${w.rows.toLocaleString('en')} rows, size ${w.miniBatchSize}`,
        runner: 'minibatch (CLI)',
        medianWallMs: mbWall(w.wallSeconds.minibatch),
        wallMs: w.wallSeconds.minibatch.map((s: number) => s * 1000),
        metric: { name: 'MB/s', value: w.mbPerSecond.minibatch, unit: 'MB/s' },
        ratios: { 'Python Pool(2) + csv': ratio(w.mbPerSecond.minibatch, w.mbPerSecond.python) },
        ratioOf: 'MB/s ÷ peer MB/s',
        target: `≥ ${w.targetRatio}× the fastest peer; controller ≤ ${w.targetRssMb} MB`,
        met: w.ratio >= w.targetRatio && w.controllerPeakRssMb.max <= w.targetRssMb,
        note: `run by run ${w.ratioByRun.join(' / ')}; controller peak RSS ${w.controllerPeakRssMb.max} MB`,
      },
      {
        configuration: `${w.inputMb} MB CSV`,
        runner: 'Python Pool(2) + csv (tabular_baseline.py)',
        medianWallMs: mbWall(w.wallSeconds.python),
        wallMs: w.wallSeconds.python.map((s: number) => s * 1000),
        metric: { name: 'MB/s', value: w.mbPerSecond.python, unit: 'MB/s' },
        note: `parent peak RSS ${Math.max(...w.pythonParentPeakRssMb)} MB`,
      },
    ];
    out.W3 = { title: 'W3 tabular throughput', setup: `bench/tabular.ts --w3-mb ${w3Mb} --runs ${ctx.runs}: 2 processes, one output row per input row; the fastest peer is the stdlib Python Pool + csv baseline (GNU parallel and a fork pool would need their own CSV splitter and are not run)`, rows, notes: ['MB/s = input bytes / median wall (spawn to exit); ratio = minibatch MB/s ÷ Python MB/s.'], raw: w };
  }
  if (which.w4 && section.w4) {
    const w = section.w4;
    out.W4 = {
      title: 'W4 partitions',
      setup: `bench/tabular.ts --w4-mb ${w4Mb}: partition_keys [store] (1,000 values), DuckDB shuffle in a child process, 2 processes, 1 run`,
      rows: [{ configuration: `${w.inputMb} MB CSV, ${w.partitions} partitions`, runner: 'minibatch (CLI)', medianWallMs: round(w.wallSeconds * 1000, 1), metric: { name: 'MB/s', value: w.mbPerSecond, unit: 'MB/s' }, target: 'controller ≤ 150 MB', met: w.controllerPeakRssMb <= 150, note: `shuffle ${w.shuffleSeconds} s (${Math.round(w.shuffleShare * 100)} %), partitions run ${w.partitionsRunSeconds} s; controller peak RSS ${w.controllerPeakRssMb} MB` }],
      notes: ['No peer: there is no standard-library equivalent of an out-of-core group-by to compare with.'],
      raw: w,
    };
  }
  return out;
}

export async function w8(ctx: SuiteContext): Promise<WorkloadResult> {
  // W1 and W2 through 1, 2, 3 agents (issue 9): W1's 10,000 trivial mini-batches (of one file each
  // here) and W2's 2,000 items of ~5 ms, 20 per mini-batch. `npm run bench:redis` alone keeps its own sizes.
  const sizes = ctx.quick ? ['--batches', '300', '--cpu-items', '60', '--cpu-ms', '10'] : ['--batches', '10000', '--cpu-items', '2000', '--cpu-ms', '5', '--cpu-size', '20'];
  const args = ['--runs', String(ctx.runs), ...sizes];
  ctx.log(`W8: node --import tsx bench/redis.ts ${args.join(' ')}`);
  await runScript('redis.ts', args);
  const r = readJson(`redis-${today()}.json`);
  const rows: ResultRow[] = [];
  for (const [label, c] of Object.entries<any>(r.w8a?.configurations ?? {})) {
    rows.push({
      configuration: `W8a ${r.w8a.miniBatches} trivial mini-batches`,
      runner: label,
      medianWallMs: c.medianWallMs.full,
      wallMs: c.wallMs.full,
      metric: { name: 'overhead µs / mini-batch', value: c.usPerMiniBatch.wall, unit: 'µs' },
      ...(c.mode === 'redis' ? { ratios: { [`local, ${c.processes} process${c.processes > 1 ? 'es' : ''}`]: c.ratioToLocal?.wall ?? null }, ratioOf: 'overhead ÷ local overhead', target: `≤ ${r.w8a.targetRatio}× local`, met: c.ratioToLocal?.wall !== null && c.ratioToLocal?.wall <= r.w8a.targetRatio } : {}),
      note: `CPU µs / mini-batch ${c.cpuUsPerMiniBatch.total}`,
    });
  }
  for (const [label, c] of Object.entries<any>(r.w8b?.configurations ?? {})) {
    rows.push({
      configuration: `W8b ${r.w8b.items} items × ${r.w8b.cpuMsPerItem} ms`,
      runner: label,
      medianWallMs: c.medianWallMs,
      wallMs: c.wallMs,
      metric: { name: 'items/s', value: c.itemsPerSecond, unit: 'items/s' },
      ratios: { '1 agent': c.speedupVsOneAgent },
      ratioOf: 'throughput ÷ 1 agent',
      note: c.efficiencyVsOneAgent !== undefined ? `efficiency ${c.efficiencyVsOneAgent}` : '',
    });
  }
  return { title: 'W8 Redis compute', setup: `bench/redis.ts ${args.join(' ')} (redis-server ${r.redis?.version}); full figures in results/redis-${today()}.json`, rows, notes: ['As bench/README.md describes for `npm run bench:redis`.'], raw: { loadAverage1m: r.loadAverage1m, benchSeconds: r.benchSeconds } };
}
