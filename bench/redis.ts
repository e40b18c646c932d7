/*
 * W8: the Redis compute (BullMQ) beside local mode, in one run, through the built CLI as a user
 * runs it: `node bin/minibatch.js run job.yml --json [--compute bench-redis]` as a child process,
 * agents as separate `node bin/minibatch.js agent …` processes, a redis-server of our own on a
 * free port of 127.0.0.1 (no persistence), all started here and stopped at the end.
 *
 * W8a dispatch overhead: 4,000 one-file mini-batches whose run() does nothing, on local mode
 * with P = 1, 2, 3 worker processes and on the Redis compute with 1, 2, 3 agents of 1 process
 * each (instance_count = agents, max_concurrency_per_instance = 1): the same process count
 * side by side. Per-mini-batch overhead = (median wall of the 4,000-batch job − median wall of
 * the same job with 1 mini-batch) / 3,999, as bench/run.ts does: start-up (CLI, worker spawn,
 * agents noticing the run and joining, leaving at the end) cancels out.
 *
 * W8b CPU scaling: 600 items of ~20 ms of CPU each (PBKDF2 iterations calibrated here: a fixed
 * amount of work, not a wall-clock spin, so a crowded CPU cannot make it look faster), 10 per
 * mini-batch, through 1, 2, 3 agents of 1 process each and local mode with 1 (and 2) processes.
 * Throughput = items / (median wall − median start-up wall of the same configuration from W8a).
 *
 * Options: --batches 4000 --runs 3 --cpu-items 600 --cpu-ms 20 --cpu-size 10
 *          --local-cpu 1,2 (local process counts in W8b) --skip-w8a --skip-w8b --keep (temp dir)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BENCH_DIR, checkNumbers, machineNote, median, parseOptions, round } from './bench-utils.ts';

const SCRIPT = 'bench/redis.ts';
const { values: options } = parseOptions(SCRIPT, () =>
  parseArgs({
    options: {
      batches: { type: 'string', default: '4000' },
      runs: { type: 'string', default: '3' },
      'cpu-items': { type: 'string', default: '600' },
      'cpu-ms': { type: 'string', default: '20' },
      'cpu-size': { type: 'string', default: '10' },
      'local-cpu': { type: 'string', default: '1,2' },
      'skip-w8a': { type: 'boolean', default: false },
      'skip-w8b': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  }),
);
checkNumbers(SCRIPT, options, { whole: ['batches', 'runs', 'cpu-items', 'cpu-size', 'local-cpu'], lists: ['local-cpu'] });
const BATCHES = Number(options.batches);
const RUNS = Number(options.runs);
const CPU_ITEMS = Number(options['cpu-items']);
const CPU_MS = Number(options['cpu-ms']);
const CPU_SIZE = Number(options['cpu-size']);
const LOCAL_CPU = options['local-cpu'].split(',').map(Number).filter((n) => n > 0);
const COUNTS = [1, 2, 3] as const;
const TARGET_RATIO = 3;
const RUN_TIMEOUT_MS = 180_000;

const REPO = join(BENCH_DIR, '..');
const CLI = join(REPO, 'bin', 'minibatch.js');
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
const COMPUTE = 'bench-redis';

const TRIVIAL_SCRIPT = `// W8a: returns at once; the benchmark measures the engine, not this.
export function run(miniBatch) {
  return miniBatch.map(() => 1);
}
`;

/**
 * The work of one W8b item: PBKDF2-SHA256, native code, so every worker process does the same
 * work at the same speed. (A JS loop was tried first: V8 optimised it in some worker processes
 * and not in others, a 3.7× spread in CPU per item that had nothing to do with the engine.)
 */
function work(iterations: number, seed: string): string {
  return pbkdf2Sync(seed, 'minibatch', iterations, 32, 'sha256').toString('hex');
}

const CPU_SCRIPT = `// W8b: a fixed amount of CPU per item (PBKDF2 iterations calibrated to ~${CPU_MS} ms on an idle core).
import { pbkdf2Sync } from 'node:crypto';
export function run(miniBatch, ctx) {
  const iterations = Number(ctx.programArguments.parsed.iterations);
  return miniBatch.map((file) => pbkdf2Sync(file, 'minibatch', iterations, 32, 'sha256').toString('hex'));
}
`;

// --- processes we start, all stopped at the end ------------------------------------------------

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startRedis(dir: string): Promise<{ port: number; server: ChildProcess; version: string }> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = await freePort();
  const server = track(spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
  for (let i = 0; i < 100; i++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await probe.connect();
      const info = await probe.info('server');
      return { port, server, version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
    } catch {
      await sleep(100);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server did not answer on 127.0.0.1:${port}`);
}

interface Agent {
  name: string;
  child: ChildProcess;
  output: () => string;
}

async function startAgent(name: string, env: NodeJS.ProcessEnv): Promise<Agent> {
  const child = track(spawn(process.execPath, [CLI, 'agent', '--compute', COMPUTE, '--node-name', name, '--processes', '1'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  for (let i = 0; i < 400 && !output.includes('waiting for runs'); i++) {
    if (child.exitCode !== null) throw new Error(`agent ${name} exited: ${output}`);
    await sleep(50);
  }
  if (!output.includes('waiting for runs')) throw new Error(`agent ${name} did not start: ${output}`);
  return { name, child, output: () => output };
}

// --- jobs -------------------------------------------------------------------------------------

interface Config {
  label: string;
  mode: 'local' | 'redis';
  /** Local: worker processes. Redis: agents (instance_count), 1 process each. */
  count: number;
}

const configLabel = (mode: 'local' | 'redis', count: number) => (mode === 'local' ? `local, ${count} process${count > 1 ? 'es' : ''}` : `redis, ${count} agent${count > 1 ? 's' : ''} × 1`);

function jobYaml(config: Config, name: string, dataFolder: string, script: string, size: number, programArguments = ''): string {
  const processes = config.mode === 'local' ? config.count : 1;
  const instances = config.mode === 'local' ? 1 : config.count;
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
mini_batch_size: "${size}"
max_concurrency_per_instance: ${processes}
resources:
  instance_count: ${instances}
resource_monitor_interval: 0
retry_settings:
  max_retries: 0
  timeout: 120
task:
  type: run_function
  code: ./code
  entry_script: ${script}
  append_row_to: \${{outputs.rows}}${programArguments ? `\n  program_arguments: "${programArguments}"` : ''}
`;
}

function writeFiles(folder: string, count: number): void {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(folder, `item-${String(i).padStart(6, '0')}.txt`), 'x\n');
}

interface Cpu {
  /** The driver (the CLI child) and, in local mode, its worker processes: this process's reaped children. */
  driver: number;
  /** All three agents and their worker processes (reaped by the agent when it leaves a run). */
  agents: number;
  redis: number;
}

interface Sample {
  wallMs: number;
  schedulerMs: number;
  /** CPU time (user + system) used during the run, in ms, from /proc (10 ms ticks). */
  cpuMs: Cpu;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime, stime, cutime, cstime of a process, in ms. */
function procCpu(pid: number | 'self'): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const ms = (index: number) => ((fields[index] ?? 0) * 1000) / CLOCK_TICKS;
    return { own: ms(11) + ms(12), children: ms(13) + ms(14) };
  } catch {
    return { own: 0, children: 0 };
  }
}

function cpuNow(ctx: Env): Cpu {
  const all = (pid: number) => {
    const cpu = procCpu(pid);
    return cpu.own + cpu.children;
  };
  return {
    driver: procCpu('self').children,
    agents: ctx.agentPids.reduce((sum, pid) => sum + all(pid), 0),
    redis: ctx.redisPid ? all(ctx.redisPid) : 0,
  };
}

interface Env {
  root: string;
  home: string;
  env: NodeJS.ProcessEnv;
  agentPids: number[];
  redisPid: number | undefined;
}

/** Runs one job through the CLI and checks that every mini-batch ran and wrote its rows. */
async function measure(ctx: Env, jobFile: string, config: Config, expectedBatches: number, expectedRows: number): Promise<Sample> {
  const args = [CLI, 'run', jobFile, '--json', ...(config.mode === 'redis' ? ['--compute', COMPUTE] : [])];
  const cpuBefore = cpuNow(ctx);
  const started = performance.now();
  const child = track(spawn(process.execPath, args, { cwd: ctx.root, env: { ...ctx.env, MINIBATCH_HOME: ctx.home }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wallMs = performance.now() - started;
  clearTimeout(timer);
  const cpuAfter = cpuNow(ctx);
  const cpuMs: Cpu = { driver: cpuAfter.driver - cpuBefore.driver, agents: cpuAfter.agents - cpuBefore.agents, redis: cpuAfter.redis - cpuBefore.redis };
  let summary: { status: string; runDir: string; miniBatches: { succeeded: number }; elapsedSeconds: number; output: { path: string } | null };
  try {
    summary = JSON.parse(stdout);
  } catch {
    throw new Error(`${config.label}, ${jobFile}: exit ${code}, no JSON summary\n${stderr.slice(-2000)}`);
  }
  const rows = summary.output ? readFileSync(summary.output.path, 'utf8').split('\n').length - 1 : -1;
  if (code !== 0 || summary.status !== 'succeeded' || summary.miniBatches.succeeded !== expectedBatches || rows !== expectedRows) {
    throw new Error(`${config.label}, ${jobFile}: exit ${code}, ${summary.status}, ${summary.miniBatches.succeeded}/${expectedBatches} mini-batches, ${rows}/${expectedRows} rows\n${stderr.slice(-2000)}`);
  }
  // Each 4,000-batch run leaves a run directory of logs: drop it, the figures are taken.
  rmSync(summary.runDir, { recursive: true, force: true });
  return { wallMs, schedulerMs: summary.elapsedSeconds * 1000, cpuMs };
}

/** PBKDF2 iterations for ~`ms` of CPU: the fastest of several timings, so a busy machine does not inflate it. */
function calibrate(ms: number): number {
  const probe = 20_000;
  work(probe, 'warm-up');
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    const started = process.cpuUsage();
    work(probe, `probe-${i}`);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return Math.round((probe * ms) / best);
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const runsText = (samples: readonly Sample[]) => samples.map((s) => s.wallMs.toFixed(0)).join(' / ');

// --- main -------------------------------------------------------------------------------------

const benchStarted = performance.now();
const root = mkdtempSync(join(tmpdir(), 'minibatch-bench-redis-'));
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  for (const child of children) child.kill('SIGKILL');
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const agents: Agent[] = [];
let redisServer: ChildProcess | undefined;
try {
  statSyncOrBuild();
  const load = { start: round(loadavg()[0] ?? 0, 2), end: 0 };
  const redis = await startRedis(root);
  redisServer = redis.server;
  const configFile = join(root, 'minibatch.config.yml');
  // Default lease and heartbeat settings: what a user gets.
  writeFileSync(configFile, `computes:\n  - name: ${COMPUTE}\n    type: redis\n    url: redis://127.0.0.1:${redis.port}\n    prefix: mbbench\n`);
  const ctx: Env = { root, home: join(root, 'home'), env: { ...process.env, MINIBATCH_CONFIG: configFile }, agentPids: [], redisPid: redis.server.pid };
  for (let i = 1; i <= 3; i++) agents.push(await startAgent(`bench-agent-${i}`, ctx.env));
  ctx.agentPids = agents.map((agent) => agent.child.pid ?? 0).filter((pid) => pid > 0);

  mkdirSync(join(root, 'code'));
  writeFileSync(join(root, 'code', 'trivial.mjs'), TRIVIAL_SCRIPT);
  writeFileSync(join(root, 'code', 'cpu.mjs'), CPU_SCRIPT);
  writeFiles(join(root, 'data-full'), BATCHES);
  writeFiles(join(root, 'data-startup'), 1);
  writeFiles(join(root, 'data-cpu'), CPU_ITEMS);

  const configs: Config[] = [];
  for (const count of COUNTS) for (const mode of ['local', 'redis'] as const) configs.push({ label: configLabel(mode, count), mode, count });
  const jobFiles = new Map<string, { full: string; startup: string; cpu: string }>();
  const iterations = calibrate(CPU_MS);
  for (const config of [...configs, ...LOCAL_CPU.filter((n) => !(COUNTS as readonly number[]).includes(n)).map((count) => ({ label: configLabel('local', count), mode: 'local' as const, count }))]) {
    const slug = `${config.mode}-${config.count}`;
    const file = (kind: string, body: string) => {
      const path = join(root, `${slug}-${kind}.yml`);
      writeFileSync(path, body);
      return path;
    };
    jobFiles.set(config.label, {
      full: file('full', jobYaml(config, `${slug}-full`, 'data-full', 'trivial.mjs', 1)),
      startup: file('startup', jobYaml(config, `${slug}-startup`, 'data-startup', 'trivial.mjs', 1)),
      cpu: file('cpu', jobYaml(config, `${slug}-cpu`, 'data-cpu', 'cpu.mjs', CPU_SIZE, `--iterations ${iterations}`)),
    });
  }
  const jobsOf = (config: Config) => jobFiles.get(config.label) as { full: string; startup: string; cpu: string };

  console.log(`W8, Redis compute vs local mode: redis-server ${redis.version} on 127.0.0.1:${redis.port}, 3 agents started (node-name bench-agent-1..3), ${RUNS} runs each, load average ${load.start} at start`);
  const startup = new Map<string, Sample[]>();
  const measureStartup = async (config: Config) => {
    const sample = await measure(ctx, jobsOf(config).startup, config, 1, 1);
    startup.set(config.label, [...(startup.get(config.label) ?? []), sample]);
    return sample;
  };

  // Warm-up, not counted: the page cache, and each agent's first join.
  await measure(ctx, jobsOf(configs[0] as Config).startup, configs[0] as Config, 1, 1);
  await measure(ctx, jobsOf(configs[5] as Config).startup, configs[5] as Config, 1, 1);

  // --- W8a ---
  const full = new Map<string, Sample[]>();
  const w8aRows: string[][] = [];
  const w8a: Record<string, unknown> = {};
  if (!options['skip-w8a']) {
    console.log(`\nW8a dispatch overhead: ${BATCHES.toLocaleString('en')} one-file mini-batches, run() returns at once`);
    // Interleaved, so a noisy spell on a shared machine hits every configuration rather than one.
    for (let run = 1; run <= RUNS; run++) {
      const line: string[] = [];
      for (const config of configs) {
        await measureStartup(config);
        const sample = await measure(ctx, jobsOf(config).full, config, BATCHES, BATCHES);
        full.set(config.label, [...(full.get(config.label) ?? []), sample]);
        line.push(`${config.label} ${sample.wallMs.toFixed(0)} ms`);
      }
      console.log(`  run ${run}/${RUNS}: ${line.join(', ')}`);
    }
    for (const config of configs) {
      const s = startup.get(config.label) ?? [];
      const f = full.get(config.label) ?? [];
      const wall = { startup: median(s.map((x) => x.wallMs)), full: median(f.map((x) => x.wallMs)) };
      const sched = { startup: median(s.map((x) => x.schedulerMs)), full: median(f.map((x) => x.schedulerMs)) };
      const us = ((wall.full - wall.startup) * 1000) / (BATCHES - 1);
      const schedUs = ((sched.full - sched.startup) * 1000) / (BATCHES - 1);
      // CPU of every process involved, per mini-batch, the same subtraction: does not depend on how busy the machine is.
      const cpuPart = (part: keyof Cpu) => ((median(f.map((x) => x.cpuMs[part])) - median(s.map((x) => x.cpuMs[part]))) * 1000) / (BATCHES - 1);
      const cpuUs = { driver: cpuPart('driver'), agents: cpuPart('agents'), redis: cpuPart('redis') };
      w8a[config.label] = {
        mode: config.mode,
        processes: config.count,
        agents: config.mode === 'redis' ? config.count : 0,
        wallMs: { startup: s.map((x) => round(x.wallMs, 1)), full: f.map((x) => round(x.wallMs, 1)) },
        schedulerMs: { startup: s.map((x) => round(x.schedulerMs, 1)), full: f.map((x) => round(x.schedulerMs, 1)) },
        medianWallMs: { startup: round(wall.startup, 1), full: round(wall.full, 1) },
        usPerMiniBatch: { wall: round(us, 1), scheduler: round(schedUs, 1) },
        cpuMs: { startup: s.map((x) => x.cpuMs), full: f.map((x) => x.cpuMs) },
        cpuUsPerMiniBatch: { driver: round(cpuUs.driver, 0), agents: round(cpuUs.agents, 0), redis: round(cpuUs.redis, 0), total: round(cpuUs.driver + cpuUs.agents + cpuUs.redis, 0) },
        miniBatchesPerSecond: round((BATCHES - 1) / ((wall.full - wall.startup) / 1000), 0),
      };
    }
    for (const config of configs) {
      const mine = w8a[config.label] as {
        usPerMiniBatch: { wall: number; scheduler: number };
        cpuUsPerMiniBatch: { driver: number; agents: number; redis: number; total: number };
        medianWallMs: { startup: number; full: number };
        miniBatchesPerSecond: number;
      };
      const local = w8a[configLabel('local', config.count)] as typeof mine;
      const ratioOf = (a: number, b: number) => (a > 0 && b > 0 ? a / b : Number.NaN);
      const ratio = ratioOf(mine.usPerMiniBatch.wall, local.usPerMiniBatch.wall);
      const cpuRatio = ratioOf(mine.cpuUsPerMiniBatch.total, local.cpuUsPerMiniBatch.total);
      const verdict = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}× ${r <= TARGET_RATIO ? '(met)' : '(not met)'}` : 'n/a (a negative or zero difference: noise)');
      if (config.mode === 'redis') Object.assign(w8a[config.label] as Record<string, unknown>, { ratioToLocal: { wall: round(ratio, 2), cpu: round(cpuRatio, 2) } });
      w8aRows.push([
        config.label,
        fmt(mine.medianWallMs.startup),
        fmt(mine.medianWallMs.full),
        fmt(mine.usPerMiniBatch.wall, 1),
        fmt(mine.usPerMiniBatch.scheduler, 1),
        mine.miniBatchesPerSecond.toLocaleString('en'),
        config.mode === 'redis'
          ? `${fmt(mine.cpuUsPerMiniBatch.total)} = ${fmt(mine.cpuUsPerMiniBatch.driver)} + ${fmt(mine.cpuUsPerMiniBatch.agents)} + ${fmt(mine.cpuUsPerMiniBatch.redis)}`
          : `${fmt(mine.cpuUsPerMiniBatch.total)} (controller + workers)`,
        config.mode === 'redis' ? verdict(ratio) : '',
        config.mode === 'redis' ? verdict(cpuRatio) : '',
        runsText(full.get(config.label) ?? []),
      ]);
    }
  }

  // --- W8b ---
  const w8bRows: string[][] = [];
  const w8b: Record<string, unknown> = {};
  if (!options['skip-w8b']) {
    const cpuConfigs: Config[] = [
      ...LOCAL_CPU.map((count) => ({ label: configLabel('local', count), mode: 'local' as const, count })),
      ...COUNTS.map((count) => ({ label: configLabel('redis', count), mode: 'redis' as const, count })),
    ];
    const batches = Math.ceil(CPU_ITEMS / CPU_SIZE);
    console.log(`\nW8b CPU scaling: ${CPU_ITEMS} items × ~${CPU_MS} ms CPU (PBKDF2-SHA256, ${iterations.toLocaleString('en')} iterations, calibrated here), ${CPU_SIZE} per mini-batch (${batches} mini-batches)`);
    // Start-up walls come from W8a's 1-batch jobs (same configuration); measured here if W8a was skipped.
    for (const config of cpuConfigs) while ((startup.get(config.label)?.length ?? 0) < RUNS) await measureStartup(config);
    const cpu = new Map<string, Sample[]>();
    for (let run = 1; run <= RUNS; run++) {
      const line: string[] = [];
      for (const config of cpuConfigs) {
        const sample = await measure(ctx, jobsOf(config).cpu, config, batches, CPU_ITEMS);
        cpu.set(config.label, [...(cpu.get(config.label) ?? []), sample]);
        line.push(`${config.label} ${sample.wallMs.toFixed(0)} ms`);
      }
      console.log(`  run ${run}/${RUNS}: ${line.join(', ')}`);
    }
    const throughput = (config: Config) => {
      const wall = median((cpu.get(config.label) ?? []).map((x) => x.wallMs));
      const start = median((startup.get(config.label) ?? []).map((x) => x.wallMs));
      const cpuS = median((cpu.get(config.label) ?? []).map((x) => x.cpuMs.driver + x.cpuMs.agents + x.cpuMs.redis)) / 1000;
      return { wall, start, cpuS, itemsPerS: CPU_ITEMS / ((wall - start) / 1000), wholeItemsPerS: CPU_ITEMS / (wall / 1000) };
    };
    const oneAgent = throughput({ label: configLabel('redis', 1), mode: 'redis', count: 1 });
    const localOne = throughput({ label: configLabel('local', 1), mode: 'local', count: 1 });
    for (const config of cpuConfigs) {
      const t = throughput(config);
      const speedup = t.itemsPerS / oneAgent.itemsPerS;
      const efficiency = config.mode === 'redis' ? speedup / config.count : Number.NaN;
      const ideal = Math.min(config.count, 2);
      w8b[config.label] = {
        mode: config.mode,
        processes: config.count,
        wallMs: (cpu.get(config.label) ?? []).map((x) => round(x.wallMs, 1)),
        medianWallMs: round(t.wall, 1),
        startupWallMs: round(t.start, 1),
        itemsPerSecond: round(t.itemsPerS, 1),
        itemsPerSecondWholeWall: round(t.wholeItemsPerS, 1),
        cpuSecondsAllProcesses: round(t.cpuS, 2),
        cpuMs: (cpu.get(config.label) ?? []).map((x) => x.cpuMs),
        speedupVsOneAgent: round(speedup, 2),
        ...(config.mode === 'redis' ? { efficiencyVsOneAgent: round(efficiency, 2) } : {}),
        vsLocalOneProcess: round(t.itemsPerS / localOne.itemsPerS, 2),
      };
      w8bRows.push([
        config.label,
        fmt(t.wall),
        fmt(t.start),
        fmt(t.itemsPerS, 1),
        fmt(t.wholeItemsPerS, 1),
        `${speedup.toFixed(2)}×`,
        config.mode === 'redis' ? `${Math.round(efficiency * 100)} %` : '',
        `${(t.itemsPerS / localOne.itemsPerS).toFixed(2)}×`,
        `${ideal}×`,
        fmt(t.cpuS, 1),
        runsText(cpu.get(config.label) ?? []),
      ]);
    }
  }

  load.end = round(loadavg()[0] ?? 0, 2);
  const benchMs = performance.now() - benchStarted;

  // --- report ---
  if (w8aRows.length > 0) {
    console.log(`\n### W8a: dispatch overhead, ${BATCHES.toLocaleString('en')} trivial mini-batches (1 file each), ${RUNS} runs, medians\n`);
    console.log(
      markdownTable(
        ['configuration', 'start-up wall ms (1 batch)', `wall ms (${BATCHES} batches)`, 'µs / mini-batch (wall)', 'µs / mini-batch (scheduler)', 'mini-batches/s', 'CPU µs / mini-batch: driver + agents + redis', `wall overhead ratio to local, same processes (target ≤ ${TARGET_RATIO}×)`, 'CPU ratio to local', `wall ms, ${RUNS} runs`],
        w8aRows,
      ),
    );
    console.log(`\nµs / mini-batch = (median wall of the ${BATCHES}-batch job − median wall of the 1-batch job) / ${BATCHES - 1}; wall = CLI spawn to exit. The scheduler column uses the run's own elapsed time (scheduler start to settle) the same way.`);
    console.log('CPU µs / mini-batch: user + system time from /proc of every process involved (the driver CLI and its reaped children, i.e. local worker processes; the 3 agents with their worker processes; redis-server), the same subtraction; it does not depend on how busy the machine is.');
    console.log('Redis: each agent runs 1 worker process, so N agents = N processes, compared with local mode at N processes. The ratio compares the wall figures.');
  }
  if (w8bRows.length > 0) {
    console.log(`\n### W8b: CPU scaling, ${CPU_ITEMS} items × ~${CPU_MS} ms CPU, ${CPU_SIZE} per mini-batch, ${RUNS} runs, medians\n`);
    console.log(
      markdownTable(
        ['configuration', 'wall ms', 'start-up ms (W8a)', 'items/s (wall − start-up)', 'items/s (whole wall)', 'speed-up vs 1 agent', 'efficiency vs 1 agent', 'vs local 1 process', 'best possible on 2 cores', 'CPU s, all processes', `wall ms, ${RUNS} runs`],
        w8bRows,
      ),
    );
    console.log(`\nThe work itself is ${((CPU_ITEMS * CPU_MS) / 1000).toFixed(0)} s of CPU (${CPU_ITEMS} × ${CPU_MS} ms as calibrated); 'CPU s, all processes' adds the engine's own (driver, agents, redis-server, workers), median of the runs.`);
    console.log('Efficiency = speed-up / agents. This machine has 2 cores (shared with the driver, the agents and redis-server), so 3 agents cannot go past 2×.');
  }
  console.log(`\nload average (1 min): ${load.start} at start, ${load.end} at end; whole benchmark ${(benchMs / 1000).toFixed(1)} s`);

  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `redis-${new Date().toISOString().slice(0, 10)}.json`);
  const result = {
    at: new Date().toISOString(),
    machine: machineNote(),
    redis: { version: redis.version, host: '127.0.0.1', persistence: false },
    runs: RUNS,
    loadAverage1m: load,
    benchSeconds: round(benchMs / 1000, 1),
    method: {
      overhead: `(median wall of the ${BATCHES}-batch job − median wall of the same job with 1 mini-batch) / ${BATCHES - 1}; wall = CLI spawn to exit`,
      redisConfiguration: 'instance_count = agents, max_concurrency_per_instance = 1 (1 worker process per agent); default lease and heartbeat settings',
      cpuWork: `PBKDF2-SHA256 with ${iterations} iterations per item, calibrated to ~${CPU_MS} ms of CPU in the benchmark process`,
      throughput: 'items / (median wall − median 1-batch start-up wall of the same configuration)',
    },
    ...(w8aRows.length > 0 ? { w8a: { miniBatches: BATCHES, filesPerMiniBatch: 1, targetRatio: TARGET_RATIO, configurations: w8a } } : {}),
    ...(w8bRows.length > 0 ? { w8b: { items: CPU_ITEMS, cpuMsPerItem: CPU_MS, iterationsPerItem: iterations, itemsPerMiniBatch: CPU_SIZE, configurations: w8b } } : {}),
  };
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results: ${path}`);
} catch (error) {
  if (interrupted) console.error('interrupted');
  throw error;
} finally {
  await Promise.all(agents.map((agent) => stopChild(agent.child)));
  if (redisServer) await stopChild(redisServer, 1_000);
  for (const child of children) child.kill('SIGKILL');
  if (!options.keep) rmSync(root, { recursive: true, force: true });
  else console.log(`kept ${root}`);
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The CLI runs from dist/: `npm run bench:redis` builds first. */
function statSyncOrBuild(): void {
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench:redis does)');
}
