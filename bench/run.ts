/*
 * Dispatch overhead: what the engine costs per mini-batch when run() itself costs nothing.
 * A 10,000-batch job and a 1-batch job run through the real engine (worker processes, IPC,
 * run store, reports, append_row output); their wall-time difference divided by 10,000 is
 * the per-mini-batch overhead, with process start-up and run-directory setup cancelled out.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runParallelJob } from '../src/run/run-parallel-job.ts';
import { BENCH_DIR, formatTable, median, round, writeResults } from './bench-utils.ts';

const FILES = 20_000;
const FILES_PER_BATCH = 2;
const BATCHES = FILES / FILES_PER_BATCH;
const PROCESSES = 2;
const RUNS = 3;
const TARGET_US_PER_BATCH = 20;

const TRIVIAL_SCRIPT = `// Returns at once: the benchmark measures the engine, not this.
export function run(miniBatch) {
  return miniBatch.map(() => 1);
}
`;

interface Sample {
  wallMs: number;
  schedulerMs: number;
}

function jobYaml(name: string, dataFolder: string): string {
  return `type: parallel
name: ${name}
inputs:
  files:
    type: uri_folder
    path: ./${dataFolder}
    mode: ro_mount
outputs:
  rows:
    type: uri_file
    path: ./out/${name}.txt
input_data: \${{inputs.files}}
mini_batch_size: "${FILES_PER_BATCH}"
max_concurrency_per_instance: ${PROCESSES}
resource_monitor_interval: 0
task:
  type: run_function
  code: ./code
  entry_script: trivial.mjs
  append_row_to: \${{outputs.rows}}
`;
}

function writeFiles(folder: string, count: number): void {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(folder, `item-${String(i).padStart(6, '0')}.txt`), 'x\n');
}

/** Lays out both jobs in `root`: input folders, the entry script, and one job file each. */
function prepare(root: string): { full: string; startup: string } {
  writeFiles(join(root, 'data-full'), FILES);
  writeFiles(join(root, 'data-startup'), FILES_PER_BATCH);
  mkdirSync(join(root, 'code'));
  writeFileSync(join(root, 'code', 'trivial.mjs'), TRIVIAL_SCRIPT);
  const full = join(root, 'full.yml');
  const startup = join(root, 'startup.yml');
  writeFileSync(full, jobYaml('dispatch-full', 'data-full'));
  writeFileSync(startup, jobYaml('dispatch-startup', 'data-startup'));
  return { full, startup };
}

async function measure(jobFile: string, home: string, expectedBatches: number): Promise<Sample> {
  const started = performance.now();
  const outcome = await runParallelJob({ jobFile, home });
  const wallMs = performance.now() - started;
  // A fast wrong answer is no benchmark: every mini-batch must have run and written its rows.
  const rows = outcome.output ? readFileSync(outcome.output.path, 'utf8').split('\n').length - 1 : -1;
  if (outcome.status !== 'succeeded' || outcome.result.succeededBatches !== expectedBatches || rows !== expectedBatches * FILES_PER_BATCH) {
    throw new Error(`${jobFile}: ${outcome.status}, ${outcome.result.succeededBatches}/${expectedBatches} mini-batches, ${rows} rows (${outcome.result.reason ?? 'no reason given'})`);
  }
  return { wallMs, schedulerMs: outcome.result.elapsedMs };
}

const root = mkdtempSync(join(tmpdir(), 'minibatch-bench-'));
try {
  const home = join(root, 'home');
  const jobs = prepare(root);
  console.log(`dispatch overhead: ${FILES.toLocaleString('en')} files, ${FILES_PER_BATCH} per mini-batch, ${PROCESSES} worker processes, run() returns at once`);

  // The first run pays for cold caches (tsx transpiling the worker, the page cache): not counted.
  await measure(jobs.startup, home, 1);
  const startup: Sample[] = [];
  const full: Sample[] = [];
  // Interleaved, so a noisy spell on a shared machine hits both sizes rather than one.
  for (let run = 1; run <= RUNS; run++) {
    startup.push(await measure(jobs.startup, home, 1));
    full.push(await measure(jobs.full, home, BATCHES));
    process.stdout.write(`  run ${run}/${RUNS}: ${full.at(-1)?.wallMs.toFixed(0)} ms\n`);
  }

  const wall = { startup: median(startup.map((s) => s.wallMs)), full: median(full.map((s) => s.wallMs)) };
  const scheduler = { startup: median(startup.map((s) => s.schedulerMs)), full: median(full.map((s) => s.schedulerMs)) };
  const usPerBatch = ((wall.full - wall.startup) * 1000) / BATCHES;
  const schedulerUsPerBatch = ((scheduler.full - scheduler.startup) * 1000) / BATCHES;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;

  const runsText = (samples: Sample[]) => samples.map((s) => s.wallMs.toFixed(0)).join(' / ');
  console.log();
  console.log(
    formatTable(
      ['job', 'mini-batches', 'wall ms (median)', 'scheduler ms (median)', `wall ms, ${RUNS} runs`],
      [
        ['startup', '1', wall.startup.toFixed(1), scheduler.startup.toFixed(1), runsText(startup)],
        ['full', BATCHES.toLocaleString('en'), wall.full.toFixed(1), scheduler.full.toFixed(1), runsText(full)],
      ],
    ),
  );
  console.log();
  console.log(`overhead per mini-batch: ${usPerBatch.toFixed(1)} µs wall, ${schedulerUsPerBatch.toFixed(1)} µs scheduler (target ≤ ${TARGET_US_PER_BATCH} µs: ${usPerBatch <= TARGET_US_PER_BATCH ? 'met' : 'not met'})`);
  console.log(`throughput: ${Math.round((BATCHES * 1000) / scheduler.full).toLocaleString('en')} mini-batches/s`);
  console.log(`controller peak RSS: ${maxRssMb.toFixed(1)} MB (process.resourceUsage().maxRSS, whole benchmark)`);

  const path = writeResults('dispatch', {
    files: FILES,
    filesPerMiniBatch: FILES_PER_BATCH,
    processes: PROCESSES,
    runs: RUNS,
    wallMs: { startup: startup.map((s) => round(s.wallMs, 1)), full: full.map((s) => round(s.wallMs, 1)) },
    schedulerMs: { startup: startup.map((s) => round(s.schedulerMs, 1)), full: full.map((s) => round(s.schedulerMs, 1)) },
    usPerMiniBatch: { wall: round(usPerBatch, 1), scheduler: round(schedulerUsPerBatch, 1), target: TARGET_US_PER_BATCH },
    controllerMaxRssMb: round(maxRssMb, 1),
  });
  console.log(`results: ${path}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
