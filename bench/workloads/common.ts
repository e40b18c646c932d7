/*
 * What every workload of the side-by-side suite (bench/suite.ts) shares: running a command and
 * timing it (spawn to exit) with the peak RSS of that process, running the built CLI as a user
 * runs it, generating inputs, interleaving runners, and the shape of a workload's result.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { BENCH_DIR, median } from '../bench-utils.ts';

export const REPO = join(BENCH_DIR, '..');
export const CLI = join(REPO, 'bin', 'minibatch.js');
export const PEERS = join(BENCH_DIR, 'peers');
export const PYTHON = ['/usr/bin/python3', 'python3'].find((candidate) => {
  try {
    execFileSync(candidate, ['-c', 'import multiprocessing, hashlib'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
export const GNU_PARALLEL = ['/usr/bin/parallel', '/usr/local/bin/parallel'].find((path) => {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).startsWith('GNU parallel');
  } catch {
    return false; // absent, or moreutils' parallel (not GNU)
  }
});
export const GNU_PARALLEL_MISSING = 'skipped: install Debian parallel (apt-get install parallel)';

/** What a workload is given by the suite. */
export interface SuiteContext {
  /** A temp dir under os.tmpdir(), removed at the end of the suite. */
  root: string;
  runs: number;
  quick: boolean;
  /** Raw command-line options, for workload-specific ones (--w5-files, …). */
  options: Record<string, string | boolean | undefined>;
  /** File trees generated once per suite and shared by workloads (W5 and W7 use the same 1M files). */
  cache: Map<string, unknown>;
  log: (line: string) => void;
}

/** One line of a workload's table in RESULTS.md. */
export interface ResultRow {
  configuration: string;
  runner: string;
  /** Median wall time, ms (spawn to exit unless the workload says otherwise). */
  medianWallMs: number | null;
  /** Every run's wall time, ms, in run order. */
  wallMs?: number[];
  /** The workload's figure: name, value, unit (e.g. "µs / mini-batch", 52.1). */
  metric: { name: string; value: number | null; unit: string };
  /** minibatch rows: "peer name" → ratio, with what the ratio divides in `ratioOf`. */
  ratios?: Record<string, number | null>;
  ratioOf?: string;
  target?: string;
  met?: boolean | null;
  note?: string;
}

export interface WorkloadResult {
  title: string;
  /** What was run, in one or two sentences (sizes, processes, runs). */
  setup: string;
  rows: ResultRow[];
  notes: string[];
  /** Anything else worth keeping in the JSON (raw samples, counts). */
  raw?: Record<string, unknown>;
}

// --- running processes ------------------------------------------------------------------------

export interface Measured {
  wallMs: number;
  /** performance.timeOrigin + performance.now() just before spawn (same clock as Date.now()). */
  startedAt: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak RSS of this process (not its children), MB: max of VmHWM / VmRSS sampled from /proc. */
  peakRssMb: number;
}

function statusKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return Math.max(field('VmRSS'), field('VmHWM'));
  } catch {
    return 0; // the process has just ended
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sample /proc every this many ms for the peak RSS (0: not at all). */
  sampleMs?: number;
  timeoutMs?: number;
  /** Called on every sample tick; may kill the child (W7 stops the CLI after its first task). */
  onTick?: (pid: number) => void;
  /** Shell stdin from this file (GNU parallel's --pipe). */
  stdinFile?: string;
}

/** Runs a command, timing it from just before spawn to exit; throws on a spawn error only. */
export function measure(command: string, args: readonly string[], options: RunOptions = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.timeOrigin + performance.now();
    const started = performance.now();
    const stdinFd = options.stdinFile ? openSync(options.stdinFile, 'r') : undefined;
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'] });
    if (stdinFd !== undefined) closeSync(stdinFd);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let peakKb = 0;
    const sampleMs = options.sampleMs ?? 100;
    const tick = () => {
      if (child.pid === undefined) return;
      peakKb = Math.max(peakKb, statusKb(child.pid));
      options.onTick?.(child.pid);
    };
    const timer = sampleMs > 0 ? setInterval(tick, sampleMs) : undefined;
    const killer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error) => {
      clearInterval(timer);
      clearTimeout(killer);
      reject(error);
    });
    child.on('spawn', () => sampleMs > 0 && tick());
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      clearTimeout(killer);
      // The pipes drain before 'close': the CLI's JSON summary is the last thing it writes.
      child.once('close', () => resolve({ wallMs, startedAt, exitCode: code, signal, stdout, stderr, peakRssMb: peakKb / 1024 }));
    });
  });
}

/** measure(), then insists on exit 0. */
export async function measureOk(label: string, command: string, args: readonly string[], options: RunOptions = {}): Promise<Measured> {
  const run = await measure(command, args, options);
  if (run.exitCode !== 0) throw new Error(`${label}: ${command} ${args.join(' ')} exited ${run.exitCode ?? run.signal}:\n${run.stderr.slice(-2000)}`);
  return run;
}

export interface CliSummary {
  status: string;
  runDir: string;
  elapsedSeconds: number;
  miniBatches: { total: number; succeeded: number; failed: number };
  items: { succeeded: number; failed: number };
  output: { path: string; rows: number } | null;
}

/**
 * `node bin/minibatch.js run <job> --json` as a user runs it, timed from spawn to exit, with
 * the controller's (the CLI process's) peak RSS. Checks that it succeeded with every
 * mini-batch and, if given, the expected number of output rows; removes the run directory.
 */
export async function runCli(job: string, home: string, expect: { rows?: number; extraArgs?: string[]; keepRunDir?: boolean } = {}): Promise<{ run: Measured; summary: CliSummary }> {
  const run = await measure(process.execPath, [CLI, 'run', job, '--json', ...(expect.extraArgs ?? [])], { env: { ...process.env, MINIBATCH_HOME: home }, cwd: REPO });
  let summary: CliSummary;
  try {
    summary = JSON.parse(run.stdout) as CliSummary;
  } catch {
    throw new Error(`minibatch ${job}: exit ${run.exitCode ?? run.signal} without a JSON summary:\n${run.stderr.slice(-2000)}`);
  }
  const rows = summary.output?.rows;
  if (run.exitCode !== 0 || summary.status !== 'succeeded' || summary.miniBatches.failed !== 0 || (expect.rows !== undefined && rows !== expect.rows)) {
    throw new Error(`minibatch ${job}: ${summary.status} (exit ${run.exitCode}), ${summary.miniBatches.succeeded}/${summary.miniBatches.total} mini-batches, ${rows} rows (expected ${expect.rows}):\n${run.stderr.slice(-2000)}`);
  }
  if (!expect.keepRunDir) rmSync(summary.runDir, { recursive: true, force: true });
  return { run, summary };
}

/** A job over a folder of files, 10 per mini-batch, 2 processes, rows appended to `output`; `extra` lines go in as they are. */
export function filesJobYaml(folder: string, output: string, task: string, extra = ''): string {
  return `type: parallel
inputs: {data: {type: uri_folder, path: ${JSON.stringify(folder)}, mode: ro_mount}}
outputs: {rows: {type: uri_file, path: ${JSON.stringify(output)}}}
input_data: \${{inputs.data}}
mini_batch_size: "10"
max_concurrency_per_instance: 2
${extra}task: {code: ./code, ${task}, append_row_to: "\${{outputs.rows}}"}
`;
}

/** Lines in a file (output row counts of the peers). */
export function countLines(path: string): number {
  const data = readFileSync(path);
  let lines = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
  return lines;
}

// --- inputs ---------------------------------------------------------------------------------

/** `count` tiny files ("x\n") in `folder`, flat, or in sub-folders of `perFolder` files. */
export function writeFileTree(folder: string, count: number, perFolder = 0): void {
  mkdirSync(folder, { recursive: true });
  let current = folder;
  for (let i = 0; i < count; i++) {
    if (perFolder > 0 && i % perFolder === 0) {
      current = join(folder, `d${String(i / perFolder).padStart(5, '0')}`);
      mkdirSync(current, { recursive: true });
    }
    writeFileSync(join(current, `item-${String(i).padStart(7, '0')}.txt`), 'x\n');
  }
}

/** A file tree made once per suite run: W5 and W7 share the big ones. */
export function cachedFileTree(ctx: SuiteContext, count: number, perFolder: number): { folder: string; seconds: number } {
  const key = `tree-${count}-${perFolder}`;
  const cached = ctx.cache.get(key) as { folder: string; seconds: number } | undefined;
  if (cached && existsSync(cached.folder)) return cached;
  const folder = join(ctx.root, key);
  const started = performance.now();
  writeFileTree(folder, count, perFolder);
  const made = { folder, seconds: (performance.now() - started) / 1000 };
  ctx.cache.set(key, made);
  return made;
}



/** Free bytes and inodes where os.tmpdir() lives. */
export function freeSpace(path: string): { bytes: number; inodes: number } {
  const stats = statfsSync(path);
  return { bytes: stats.bavail * stats.bsize, inodes: stats.ffree };
}

// --- CPU work -------------------------------------------------------------------------------

/**
 * PBKDF2-SHA256 iterations for ~`ms` of CPU on one idle core: the fastest of several timings
 * in this process, so a busy machine does not inflate it (as bench/redis.ts W8b does). Node's
 * crypto and Python's hashlib.pbkdf2_hmac both call OpenSSL: the same work in every peer.
 */
export function calibratePbkdf2(ms: number): number {
  const probe = 20_000;
  const work = (seed: string) => pbkdf2Sync(seed, 'minibatch', probe, 32, 'sha256');
  work('warm-up');
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    const started = process.cpuUsage();
    work(`probe-${i}`);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return Math.round((probe * ms) / best);
}

// --- runs, medians, verdicts ----------------------------------------------------------------

/**
 * Runs every runner `runs` times, interleaved (run 1: A B C, run 2: B C A, …), so a noisy
 * spell on the shared machine hits every runner rather than one. Returns the samples by runner.
 */
export async function interleaved<T>(runs: number, runners: readonly { name: string; run: () => Promise<T> }[], log: (line: string) => void, describe: (sample: T) => string): Promise<Map<string, T[]>> {
  const samples = new Map<string, T[]>(runners.map((runner) => [runner.name, []]));
  for (let run = 0; run < runs; run++) {
    const order = runners.map((_, i) => runners[(i + run) % runners.length] as (typeof runners)[number]);
    const line: string[] = [];
    for (const runner of order) {
      const sample = await runner.run();
      samples.get(runner.name)?.push(sample);
      line.push(`${runner.name} ${describe(sample)}`);
    }
    log(`  run ${run + 1}/${runs}: ${line.join(', ')}`);
  }
  return samples;
}

export const med = (values: readonly number[]): number => median(values);
export const ratio = (a: number, b: number): number | null => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null);
