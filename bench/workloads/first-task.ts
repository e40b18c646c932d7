/*
 * W7 time to first task: from just before spawning `node bin/minibatch.js run job.yml` to the
 * first run() call, which writes performance.timeOrigin + performance.now() (the same clock as
 * the benchmark's) to a file. The CLI is then stopped with SIGTERM: the rest of the job is not
 * the question. Beside it, the floors: `node -e 0` and `minibatch --version` (spawn to exit).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../bench-utils.ts';
import { cachedFileTree, CLI, filesJobYaml, interleaved, measure, measureOk, med, ratio, type ResultRow, type SuiteContext, type WorkloadResult } from './common.ts';
import { FILES_PER_FOLDER } from './memory.ts';

const TARGET_MS = 300;

export async function w7(ctx: SuiteContext): Promise<WorkloadResult> {
  const dir = join(ctx.root, 'w7');
  mkdirSync(join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'code', 'stamp.mjs'), `import { writeFileSync } from 'node:fs';
let first = true;
export function run(miniBatch, ctx) {
  if (first) {
    first = false;
    // 'wx': only the first call of the first process to get here writes.
    try { writeFileSync(ctx.programArguments.parsed.stamp, String(performance.timeOrigin + performance.now()), { flag: 'wx' }); } catch {}
  }
  return miniBatch.map(() => 1);
}
`);
  const counts = String(ctx.options['w7-files'] ?? (ctx.quick ? '10000' : '10000,1000000')).split(',').map(Number).filter((n) => n > 0);
  const stamp = join(dir, 'first-task.txt');
  const home = join(dir, 'home');
  const runners: { name: string; run: () => Promise<number> }[] = [
    { name: 'node -e 0', run: async () => (await measureOk('node', process.execPath, ['-e', '0'], { sampleMs: 0 })).wallMs },
    { name: 'minibatch --version', run: async () => (await measureOk('minibatch --version', process.execPath, [CLI, '--version'], { sampleMs: 0 })).wallMs },
  ];
  const made: Record<string, number> = {};
  for (const count of counts) {
    const tree = cachedFileTree(ctx, count, FILES_PER_FOLDER);
    made[count] = round(tree.seconds, 1);
    const job = join(dir, `files-${count}.yml`);
    writeFileSync(job, filesJobYaml(tree.folder, join(dir, 'out', `files-${count}.txt`), `entry_script: stamp.mjs, program_arguments: "--stamp ${stamp}"`, 'resource_monitor_interval: 0\n'));
    runners.push({
      name: `${count.toLocaleString('en')} files`,
      run: async () => {
        rmSync(stamp, { force: true });
        let stopped = false;
        const run = await measure(process.execPath, [CLI, 'run', job], {
          env: { ...process.env, MINIBATCH_HOME: home },
          sampleMs: 20,
          timeoutMs: 600_000,
          onTick: (pid) => {
            if (!stopped && existsSync(stamp)) {
              stopped = true;
              process.kill(pid, 'SIGTERM');
            }
          },
        });
        rmSync(home, { recursive: true, force: true });
        rmSync(join(dir, 'out'), { recursive: true, force: true });
        if (!existsSync(stamp)) throw new Error(`W7 ${count} files: no first task (exit ${run.exitCode ?? run.signal}):\n${run.stderr.slice(-2000)}`);
        return Number(readFileSync(stamp, 'utf8')) - run.startedAt;
      },
    });
  }
  ctx.log(`W7 time to first task: ${counts.map((c) => c.toLocaleString('en')).join(', ')} files (${FILES_PER_FOLDER} per folder), ${ctx.runs} run(s)`);
  for (const runner of runners) await runner.run(); // warm-up: page cache, directory entries
  const samples = await interleaved(ctx.runs, runners, ctx.log, (ms) => `${ms.toFixed(0)} ms`);
  const floor = med(samples.get('minibatch --version') ?? []);
  const rows: ResultRow[] = runners.map(({ name }) => {
    const values = samples.get(name) ?? [];
    const value = med(values);
    const isJob = name.endsWith('files');
    return {
      configuration: isJob ? `${name}, size 10, 2 processes` : 'start-up floor',
      runner: isJob ? 'minibatch (CLI)' : name,
      medianWallMs: isJob ? null : round(value, 1),
      wallMs: values.map((v) => round(v, 1)),
      metric: { name: isJob ? 'spawn → first run() call' : 'spawn → exit', value: round(value, 1), unit: 'ms' },
      ...(isJob ? { ratios: { 'minibatch --version': ratio(value, floor) }, ratioOf: 'time to first task ÷ CLI start-up', target: `< ${TARGET_MS} ms`, met: value < TARGET_MS } : {}),
    };
  });
  rmSync(dir, { recursive: true, force: true });
  return {
    title: 'W7 time to first task',
    setup: `the built CLI on a folder tree of tiny files (${FILES_PER_FOLDER} per sub-folder); ${ctx.runs} run(s) interleaved with the floors, medians`,
    rows,
    notes: ['Time to first task = the first run() call\'s performance.timeOrigin + performance.now() (written to a file) − the same clock just before spawn: it includes Node\'s and the CLI\'s start-up, reading the job, the first folder listed, the worker processes started and their init(). The CLI is stopped with SIGTERM once the file appears.', 'Floors: spawn to exit of `node -e 0` and of `node bin/minibatch.js --version`.'],
    raw: { generateSeconds: made },
  };
}
