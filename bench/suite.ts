/*
 * The side-by-side benchmark suite (`npm run bench`): every workload runs minibatch, through the
 * built CLI as a user runs it, and its peers in the same run, interleaved, and reports medians
 * and ratios. Figures go to bench/results/<yyyy-mm-dd>.json (key `suite`, one entry per
 * workload, merged with the same day's earlier ones) and bench/RESULTS.md is regenerated.
 *
 * Options: --only W1,W2 --runs 3 --quick --with-redis, and per workload: --w1-files --w1-lines
 * --parallel-batches --w2-items --w2-ms --w3-mb --w4-mb --w5-files --w5-csv-mb --w7-files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, checkNumbers, machineNote, parseOptions, round, usage, writeResults } from './bench-utils.ts';
import { writeResultsMarkdown, type SuiteSection } from './report.ts';
import { GNU_PARALLEL, GNU_PARALLEL_MISSING, PYTHON, REPO, type SuiteContext, type WorkloadResult } from './workloads/common.ts';
import { w1, w6 } from './workloads/dispatch.ts';
import { w2 } from './workloads/cpu.ts';
import { tabular, w8 } from './workloads/delegated.ts';
import { w5 } from './workloads/memory.ts';
import { w7 } from './workloads/first-task.ts';

const ALL = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8'];

const SCRIPT = 'bench/suite.ts';
const { values: options } = parseOptions(SCRIPT, () =>
  parseArgs({
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'with-redis': { type: 'boolean', default: false },
      'w1-files': { type: 'string' },
      'w1-lines': { type: 'string' },
      'parallel-batches': { type: 'string' },
      'w2-items': { type: 'string' },
      'w2-ms': { type: 'string' },
      'w3-mb': { type: 'string' },
      'w4-mb': { type: 'string' },
      'w5-files': { type: 'string' },
      'w5-csv-mb': { type: 'string' },
      'w7-files': { type: 'string' },
    },
  }),
);
checkNumbers(SCRIPT, options, { whole: ['runs', 'w1-files', 'w1-lines', 'parallel-batches', 'w2-items', 'w5-files', 'w7-files'], lists: ['w5-files', 'w5-csv-mb', 'w7-files'], except: ['only'] });
const unknown = options.only?.toUpperCase().split(',').filter((w) => !ALL.includes(w.trim())) ?? [];
if (unknown.length > 0) usage(SCRIPT, `--only ${options.only}: no workload ${unknown.join(', ')}; expected some of ${ALL.join(', ')}`);
const selected = options.only ? options.only.toUpperCase().split(',').map((w) => w.trim()) : ALL.filter((w) => w !== 'W8' || options['with-redis']);
if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) usage(SCRIPT, 'dist/ is missing: run `npm run build` first (npm run bench does)');

const version = (command: string, args: string[]) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'not installed';
  }
};
const machine: Record<string, string | number> = { ...machineNote(), python: PYTHON ? version(PYTHON, ['--version']) : 'no python3', gnuParallel: GNU_PARALLEL ? version(GNU_PARALLEL, ['--version']).replace('GNU parallel ', '') : GNU_PARALLEL_MISSING };
const load = () => loadavg().map((v) => round(v, 2));

const root = mkdtempSync(join(tmpdir(), 'minibatch-suite-'));
const ctx: SuiteContext = {
  root,
  runs: Number(options.runs ?? (options.quick ? 1 : 3)),
  quick: options.quick ?? false,
  options: options as Record<string, string | boolean | undefined>,
  cache: new Map(),
  log: (line) => console.log(line),
};
const command = `node --import tsx bench/suite.ts ${process.argv.slice(2).join(' ')}`.trim();
console.log(`minibatch benchmark suite: ${selected.join(', ')}; ${ctx.runs} run(s)${ctx.quick ? ', quick sizes' : ''}; load average ${load().join(', ')}; ${machine.cpuModel}, ${machine.cpus} cores`);
if (!GNU_PARALLEL) console.log(`GNU parallel: ${GNU_PARALLEL_MISSING}`);

const today = new Date().toISOString().slice(0, 10);
function previous(): SuiteSection['workloads'] {
  try {
    return (JSON.parse(readFileSync(join(BENCH_DIR, 'results', `${today}.json`), 'utf8')) as { suite?: SuiteSection }).suite?.workloads ?? {};
  } catch {
    return {};
  }
}

/** Runs one workload (or W3+W4 together) and saves the JSON and RESULTS.md after each, so a crash later keeps what was measured. */
async function record(keys: string[], go: () => Promise<Record<string, WorkloadResult>>): Promise<void> {
  const startLoad = load();
  const started = performance.now();
  const results = await go();
  const seconds = round((performance.now() - started) / 1000, 1);
  const at = new Date().toISOString();
  const workloads = previous();
  for (const key of keys) {
    const result = results[key];
    if (result) workloads[key] = { ...result, at, seconds, loadAverage: { start: startLoad, end: load() }, command };
  }
  const ordered = Object.fromEntries(ALL.filter((k) => workloads[k]).map((k) => [k, workloads[k]]));
  const section: Omit<SuiteSection, 'at'> = { machine, command, workloads: ordered as SuiteSection['workloads'] };
  writeResults('suite', section, today);
  writeResultsMarkdown();
  console.log(`${keys.join('+')} done in ${seconds} s; load average ${load().join(', ')}`);
}

const suiteStarted = performance.now();
const failures: string[] = [];
try {
  const plan: [string[], () => Promise<Record<string, WorkloadResult>>][] = [];
  if (selected.includes('W1')) plan.push([['W1'], async () => ({ W1: await w1(ctx) })]);
  if (selected.includes('W2')) plan.push([['W2'], async () => ({ W2: await w2(ctx) })]);
  if (selected.includes('W3') || selected.includes('W4')) plan.push([['W3', 'W4'], () => tabular(ctx, { w3: selected.includes('W3'), w4: selected.includes('W4') })]);
  if (selected.includes('W5')) plan.push([['W5'], async () => ({ W5: await w5(ctx) })]);
  if (selected.includes('W6')) plan.push([['W6'], async () => ({ W6: await w6(ctx) })]);
  if (selected.includes('W7')) plan.push([['W7'], async () => ({ W7: await w7(ctx) })]);
  if (selected.includes('W8')) plan.push([['W8'], async () => ({ W8: await w8(ctx) })]);
  for (const [keys, go] of plan) {
    try {
      await record(keys, go);
    } catch (error) {
      // One workload failing (a missing tool, a timeout) does not lose the others.
      failures.push(`${keys.join('+')}: ${(error as Error).message}`);
      console.error(`${keys.join('+')} failed: ${(error as Error).stack ?? error}`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.log(`\nsuite done in ${((performance.now() - suiteStarted) / 1000).toFixed(0)} s; results in bench/results/${today}.json and bench/RESULTS.md`);
if (failures.length > 0) {
  console.error(`failed: ${failures.join('\n')}`);
  process.exitCode = 1;
}
