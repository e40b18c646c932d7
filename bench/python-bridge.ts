/*
 * W6, the Python bridge: per-mini-batch overhead of 10,000 trivial mini-batches run by a
 * Python entry script, beside the same job with a JS entry script and beside a plain Python
 * multiprocessing.Pool doing the same work, all in one run. Overhead per mini-batch =
 * (wall of 10,000 mini-batches − wall of 1) / 10,000, so start-up cancels out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runParallelJob } from '../src/run/run-parallel-job.ts';
import { formatTable, median, round, writeResults } from './bench-utils.ts';

const FILES = 20_000;
const PER_BATCH = 2;
const BATCHES = FILES / PER_BATCH;
const RUNS = 3;

const PYTHON = ['/usr/bin/python3', 'python3'].find((candidate) => {
  try {
    execFileSync(candidate, ['-c', 'import sys'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

const POOL_BASELINE = `import multiprocessing, os, sys
def init():
    pass
def run(batch):
    return ["1"] * len(batch)
if __name__ == "__main__":
    folder, out, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    batches = [files[i:i + per] for i in range(0, len(files), per)]
    with multiprocessing.Pool(2, initializer=init) as pool, open(out, "w") as handle:
        for rows in pool.imap(run, batches, chunksize=1):
            handle.write("".join(row + "\\n" for row in rows))
`;

function jobYaml(script: string, data: string): string {
  return `type: parallel
inputs: {files: {type: uri_folder, path: ./${data}}}
outputs: {rows: {type: uri_file, path: ./out/${script}-${data}.txt}}
input_data: \${{inputs.files}}
mini_batch_size: "${PER_BATCH}"
max_concurrency_per_instance: 2
resource_monitor_interval: 0
task: {code: ./code, entry_script: ${script}, append_row_to: "\${{outputs.rows}}"}
`;
}

async function engine(root: string, script: string, data: string, python: string | undefined): Promise<number> {
  const jobFile = join(root, `${script}-${data}.yml`);
  writeFileSync(jobFile, jobYaml(script, data));
  const started = performance.now();
  const result = await runParallelJob({ jobFile, home: join(root, 'home'), python });
  if (result.status !== 'succeeded') throw new Error(`${script} ${data}: ${result.result.reason}`);
  return performance.now() - started;
}

function pool(root: string, data: string): number {
  const started = performance.now();
  execFileSync(PYTHON ?? 'python3', [join(root, 'pool.py'), join(root, data), join(root, `pool-${data}.txt`), String(PER_BATCH)]);
  return performance.now() - started;
}

if (!PYTHON) {
  console.log('python bridge benchmark: no python3 found, skipped');
} else {
  const root = mkdtempSync(join(tmpdir(), 'minibatch-bench-py-'));
  try {
    for (const [data, count] of [['full', FILES], ['one', PER_BATCH]] as const) {
      mkdirSync(join(root, data));
      for (let i = 0; i < count; i++) writeFileSync(join(root, data, `item-${String(i).padStart(6, '0')}.txt`), 'x\n');
    }
    mkdirSync(join(root, 'code'));
    writeFileSync(join(root, 'code', 'trivial.mjs'), 'export function run(batch) { return batch.map(() => 1); }\n');
    writeFileSync(join(root, 'code', 'trivial.py'), 'def run(mini_batch):\n    return [1] * len(mini_batch)\n');
    writeFileSync(join(root, 'pool.py'), POOL_BASELINE);
    console.log(`python bridge: ${BATCHES.toLocaleString('en')} trivial mini-batches of ${PER_BATCH} files, 2 processes, ${PYTHON}, ${RUNS} runs interleaved`);

    const samples: Record<string, { full: number[]; one: number[] }> = { js: { full: [], one: [] }, python: { full: [], one: [] }, pool: { full: [], one: [] } };
    await engine(root, 'trivial.py', 'one', PYTHON); // warm-up
    for (let run = 0; run < RUNS; run++) {
      for (const data of ['one', 'full'] as const) {
        samples.js?.[data].push(await engine(root, 'trivial.mjs', data, undefined));
        samples.python?.[data].push(await engine(root, 'trivial.py', data, PYTHON));
        samples.pool?.[data].push(pool(root, data));
      }
      process.stdout.write(`  run ${run + 1}/${RUNS} done\n`);
    }
    const rows = Object.entries(samples).map(([name, sample]) => {
      const full = median(sample.full);
      const one = median(sample.one);
      return { name, full, one, us: ((full - one) * 1000) / BATCHES };
    });
    const poolUs = rows.find((row) => row.name === 'pool')?.us ?? NaN;
    console.log();
    console.log(
      formatTable(
        ['runner', 'wall ms, 10,000 (median)', 'wall ms, 1 (median)', 'µs per mini-batch', 'vs Pool'],
        rows.map((row) => [row.name === 'js' ? 'minibatch, JS script' : row.name === 'python' ? 'minibatch, Python script' : 'multiprocessing.Pool', row.full.toFixed(0), row.one.toFixed(0), row.us.toFixed(1), `${(row.us / poolUs).toFixed(2)}x`]),
      ),
    );
    const path = writeResults('pythonBridge', { python: PYTHON, batches: BATCHES, runs: RUNS, ...Object.fromEntries(rows.map((row) => [row.name, { fullMs: round(row.full, 1), oneMs: round(row.one, 1), usPerMiniBatch: round(row.us, 1) }])) });
    console.log(`results: ${path}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
