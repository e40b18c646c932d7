import { cpSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { describeChanges, fingerprintInputs, fingerprintInputsApart, fingerprintRun } from './fingerprint.js';
import { findPython, type PythonInterpreter } from '../bridges/python-interpreter.js';
import { loadComputeConfig } from '../spec/compute-config.js';
import { checkCondaFile } from './conda-check.js';
import type { AdaptiveSizing } from '../data/adaptive-partition.js';
import type { MiniBatchBoundary } from '../data/descriptors.js';
import { partitionInput } from '../data/partition.js';
import { formatBytes, planInput, type InputPlan } from '../data/plan-input.js';
import { EngineLog } from '../logs/engine-log.js';
import { formatJobResult } from '../logs/job-result.js';
import { ProcessedBatchesReport } from '../logs/processed-batches.js';
import { appendProgressOverview, ProgressFile } from '../logs/progress-overview.js';
import { RUN_README } from '../logs/readme-text.js';
import { ResourceMonitor } from '../logs/resource-monitor.js';
import { RunDirectory, minibatchHome } from '../logs/run-directory.js';
import { AppendRowWriter } from '../outputs/append-row-writer.js';
import { AutoSizer, type FinishedAs } from '../scheduling/auto-sizer.js';
import { LocalBackend } from '../scheduling/local-backend.js';
import type { QueueBackend } from '../scheduling/queue-backend.js';
import { Scheduler, type ProgressSnapshot, type SchedulerResult } from '../scheduling/scheduler.js';
import { JOB_DEFAULTS } from '../spec/defaults.js';
import { applyOverrides } from '../spec/overrides.js';
import { resolveParallelJob, validateParallelJob, type LoggingLevel, type ResolvedParallelJob } from '../spec/resolve-job.js';
import { YamlSource } from '../spec/yaml-source.js';
import { markDriver, unmarkDriver } from '../store/run-catalog.js';
import { RunStore, type CommittedBatch, type InputFingerprint, type RunFingerprint } from '../store/run-store.js';
import { detectGpus } from './gpus.js';
import { toRunnableYaml } from './runnable-job.js';
import { announcedPython } from '../worker/worker-process.js';

export interface RunJobOptions {
  jobFile: string;
  /** `--set key.path=value` overrides, applied before validation. */
  sets?: readonly string[];
  computeOverride?: string | undefined;
  /** Where runs are kept; `MINIBATCH_HOME` or `./.minibatch` by default. */
  home?: string | undefined;
  /** How often the progress overview file gets a line. */
  overviewIntervalMs?: number;
  /** Tasks held per worker process (1 running + prefetched). */
  tasksPerProcess?: number;
  onEvent?: (event: RunEvent) => void;
  /** Set by the CLI to cancel (Ctrl-C): running attempts are stopped. */
  signal?: AbortSignal;
  /** `--python`: the interpreter for .py entry scripts. */
  python?: string | undefined;
  /** A pipeline's parallel step: its document (in the pipeline file, bindings bound) and its directory. */
  step?: { source: YamlSource; directory: RunDirectory } | undefined;
  /** The job file as the caller already read it (overrides not applied yet): not read again. */
  source?: YamlSource | undefined;
  /** Go on with an earlier run in its own directory: committed mini-batches are kept, not run again. */
  resume?: { runDir: string; allowChanges: boolean; failedOnly?: boolean } | undefined;
}

export type RunEvent =
  | { type: 'notice'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'started'; runId: string; runDir: string; processes: number; job: ResolvedParallelJob; plan: InputPlan }
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'log'; level: LoggingLevel; message: string };

export interface RunJobResult {
  runId: string;
  runDir: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  /** 0 success, 1 the job failed, 2 the script cannot run at all or the input is invalid, 130 cancelled. */
  exitCode: number;
  result: SchedulerResult;
  output: { path: string; rows: number } | undefined;
  jobResultPath: string;
  /** `local`, or the named compute the run used. */
  compute: string;
}

/** Loads, validates and resolves a job file (with overrides) and looks at its input, without running it. */
export async function loadParallelJob(jobFile: string, sets: readonly string[], runDir: string, computeOverride?: string): Promise<{ job: ResolvedParallelJob; plan: InputPlan }> {
  const source = YamlSource.read(jobFile);
  applyOverrides(source, sets);
  const job = resolveParallelJob(source, jobFile, { runDir, computeOverride, computes: () => loadComputeConfig() });
  return { job, plan: await planInput(job) };
}

/** How long a fresh run may go without its input fingerprint when no mini-batch commits sooner. */
const FINGERPRINT_DELAY_MS = 1_000;

/**
 * Runs one `type: parallel` job to the end: plan → partition → schedule → commit → outputs,
 * writing the run directory as it goes. Invalid input throws (before anything is written);
 * a job that runs and fails returns a result with a non-zero exit code.
 */
export async function runParallelJob(options: RunJobOptions): Promise<RunJobResult> {
  const emit = options.onEvent ?? (() => {});
  const resuming = options.resume ? readResumableRun(options.resume.runDir, options.resume.failedOnly === true) : undefined;
  const jobFile = resuming?.jobFile ?? options.jobFile;
  const sets = resuming?.fingerprint.sets ?? options.sets ?? [];
  // A pipeline step comes as a prepared document (bindings bound) with its directory inside the pipeline's.
  const source = options.step?.source ?? (resuming ? undefined : options.source) ?? YamlSource.read(jobFile);
  if (!options.step) applyOverrides(source, sets);
  const name = validateParallelJob(source).name;
  const gpus = detectGpus();
  const directory = resuming ? new RunDirectory(resuming.runDir, basename(resuming.runDir)) : (options.step?.directory ?? RunDirectory.allocate(options.home ?? minibatchHome(), name));
  // Resolved before anything is written: an invalid job leaves no run directory behind.
  const job = resolveParallelJob(source, jobFile, {
    runDir: directory.root,
    computeOverride: options.computeOverride,
    computes: () => loadComputeConfig(),
    processesPerInstance: gpus.length > 0 ? 1 : undefined,
  });
  // The input is looked at (MLTable, formats, headers) and the interpreter found before anything
  // is written, too: at once, since finding it waits for a Python process to answer. An input
  // error is still reported first; the interpreter's is handled here until it is awaited.
  const runtimeChosen = chooseRuntime(job, options.python);
  runtimeChosen.catch(() => {});
  const plan = await planInput(job);
  const runtime = await runtimeChosen;
  // A Redis compute must answer before anything is written. Its modules (BullMQ, ioredis: hundreds
  // of CommonJS files, a second of start-up) are loaded only for it.
  const redis = job.compute.kind === 'redis' ? await import('../distributed/redis-backend.js') : undefined;
  const redisVersion = job.compute.kind === 'redis' ? await (await import('../distributed/redis-connection.js')).checkRedisReachable(job.compute) : undefined;
  const fingerprint = await fingerprintRun(jobFile, sets, job.code);
  // A resume compares the inputs now with how they were, so it waits for them; a fresh run
  // fingerprints them beside its first mini-batches and journals them when known.
  let inputsFingerprinted: Promise<InputFingerprint[] | undefined> | undefined;
  let fingerprintPending = false;
  if (resuming) {
    fingerprint.inputs = await fingerprintInputs(job.inputs);
    if (!resuming.fingerprint.inputs) emit({ type: 'warning', message: `run ${directory.runId}: its first session stopped before its inputs were fingerprinted; changes to them since cannot be detected` });
    const changes = describeChanges(resuming.fingerprint, fingerprint, jobFile, job.code);
    if (changes.length > 0 && !options.resume?.allowChanges) {
      throw new InvalidInputError('E_USAGE', `run ${directory.runId} cannot be resumed as it was: ${changes.join('; ')} since it started; its committed rows would not match the rest. Use --allow-changes to resume anyway.`);
    }
    for (const change of changes) emit({ type: 'warning', message: `resuming with changes (--allow-changes): ${change}` });
  }
  directory.create();

  const startedAt = new Date();
  writeFileSync(directory.jobFile, toRunnableYaml(job));
  writeFileSync(directory.readme, RUN_README);
  const log = new EngineLog(directory.engineLog, job.loggingLevel);
  log.onLine((level, message) => emit({ type: 'log', level, message }));
  for (const notice of job.notices) {
    log.write('INFO', `notice: ${notice}`);
    emit({ type: 'notice', message: notice });
  }
  // The engine log echoes WARNING lines to the CLI: writing it there is enough.
  for (const warning of job.warnings) log.write('WARNING', warning);
  if (gpus.length > 0) log.write('INFO', `GPUs found: ${gpus.length}; CUDA_VISIBLE_DEVICES is set per process`);
  for (const input of Object.values(job.inputs)) {
    if (input.kind === 'asset' && input.path !== input.sourcePath) {
      log.write('INFO', `input ${input.name}: mode ${input.mode}, copying ${input.sourcePath} to ${input.path}`);
      cpSync(input.sourcePath, input.path, { recursive: true });
    }
  }

  let store: RunStore;
  let restored: CommittedBatch[] = [];
  let boundaries: MiniBatchBoundary[] = [];
  if (resuming) {
    ({ store, committed: restored, boundaries } = RunStore.reopen(directory.state, { dropFailed: options.resume?.failedOnly === true }));
    checkSameSizing(directory.runId, plan, restored, boundaries);
    store.recordResume(directory.runId, job.jobFile, fingerprint);
    log.write('INFO', `resuming run ${directory.runId}: ${restored.length} committed mini-batch(es) kept, the rest run now`);
    emit({ type: 'notice', message: `resuming: ${restored.length} committed mini-batch(es) are kept and not run again` });
  } else {
    store = RunStore.create(directory.state, { runId: directory.runId, jobFile: job.jobFile, fingerprint });
  }
  // Started once: at the first commit, a second into the run, or at its end, whichever comes first.
  // Begun beside the worker processes' start-up, its stats (and its thread or child process, for
  // a large input) took the CPU they needed: the first task of a 10,000-file job came ~150 ms later.
  const fingerprintFreshRun = () => {
    if (resuming || inputsFingerprinted) return;
    const journaled = store;
    fingerprintPending = true;
    inputsFingerprinted = fingerprintInputsApart(job.inputs)
      .finally(() => (fingerprintPending = false))
      .then((inputs) => {
        journaled.recordInputs(inputs);
        return inputs;
      })
      .catch((error: unknown) => {
        // The partitioner lists the same input and reports what is wrong with it; only resume loses its check.
        log.write('WARNING', `the inputs could not be fingerprinted (a resume of this run will not detect changes to them): ${(error as Error).message}`);
        return undefined;
      });
  };
  // Says "a driver runs this" to job list / show / cancel in other terminals.
  markDriver(directory.state);
  const report = new ProcessedBatchesReport(directory.processedBatches, resuming !== undefined);
  // On a Redis compute each agent samples its own node.
  const monitor = new ResourceMonitor(directory.resourceUsage(0), directory.root, job.compute.kind === 'local' ? job.resourceMonitorIntervalMs : 0);
  if (runtime.kind === 'python') {
    log.write('INFO', `Python entry script: ${runtime.interpreter.path} (Python ${runtime.interpreter.version}, from ${runtime.interpreter.source})`);
    emit({ type: 'notice', message: `Python ${runtime.interpreter.version} at ${runtime.interpreter.path} (from ${runtime.interpreter.source})` });
    for (const message of await checkCondaFile(job, runtime.interpreter.path)) {
      log.write('WARNING', message);
      emit({ type: 'warning', message });
    }
  }
  /** Redis compute: which agent served which node (a node may change hands when an agent dies). */
  const nodes = new Map<number, string>();
  const backend: QueueBackend =
    job.compute.kind === 'redis' && redis
      ? new redis.RedisBackend({ compute: job.compute, job, runId: directory.runId, runDir: directory.root, onNodeJoined: (node, agent, host) => nodes.set(node, `${agent} (${host})`) })
      : new LocalBackend({
          job,
          runtime: runtime.kind === 'python' ? { kind: 'python', interpreter: runtime.interpreter.path, requested: runtime.interpreter.requested } : { kind: 'node' },
          gpus,
          tasksPerProcess: options.tasksPerProcess,
          // Partitions are read from the shuffle's files, in a format of their own.
          tableFormat: plan.source.kind === 'tabular' && !job.partitionKeys ? plan.source.format : undefined,
          logs: {
            stdout: (node, process) => directory.userStdout(node, process),
            stderr: (node, process) => directory.userStderr(node, process),
            error: (node, process) => directory.userError(node, process),
          },
        });
  if (redisVersion) log.write('INFO', `compute "${job.compute.name}": Redis ${redisVersion}; agents run the worker processes and write their logs under ${directory.logs}`);
  const output = job.appendRow ? new AppendRowWriter(store, job.appendRow) : undefined;
  const progressFile = new ProgressFile(join(directory.state, 'progress.json'));
  const processes = job.instanceCount * job.processesPerInstance;
  const auto = plan.split.kind === 'auto' ? autoSizing(plan.split, processes, boundaries, restored, store, log) : undefined;
  // With auto, what is read ahead is sized already: read just enough to keep every process fed.
  const readAhead = auto ? JOB_DEFAULTS.autoReadAheadPerProcess * processes : undefined;
  const scheduler = new Scheduler(readAhead === undefined ? job : { ...job, readAhead }, backend, store, {
    onCommitted: (batch) => {
      fingerprintFreshRun();
      report.add(batch);
      output?.committed(batch);
      auto?.sizer.finished(batch.id, batch.durationMs, finishedAs(batch));
    },
    onProgress: (snapshot) => {
      progressFile.update(snapshot);
      emit({ type: 'progress', snapshot });
    },
    onLog: (level, message) => log.write(level, message),
  });
  scheduler.restore(restored);
  for (const batch of restored) output?.committed(batch);
  log.write('INFO', `run ${directory.runId}: ${job.instanceCount} node(s) x ${job.processesPerInstance} process(es), ${plan.summary}`);
  emit({ type: 'started', runId: directory.runId, runDir: directory.root, processes, job, plan });

  const fingerprintSoon = setTimeout(fingerprintFreshRun, FINGERPRINT_DELAY_MS);
  const overview = setInterval(() => appendProgressOverview(directory, scheduler.snapshot()), options.overviewIntervalMs ?? 10_000);
  // Running mini-batches get as long as one run() may take to finish and commit, at most 30 s.
  const onAbort = () => scheduler.cancel('cancelled by the user', Math.min(job.timeoutMs + 1_000, 30_000));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let result: SchedulerResult;
  try {
    const running = scheduler.run(
      partitionInput(job, plan, {
        workDir: join(directory.root, 'partitions'),
        onLog: (level, message) => log.write(level, message),
        // Python workers read partitions with pandas, which needs pyarrow for Parquet: CSV always works.
        shuffleFormat: runtime.kind === 'python' ? 'csv' : 'parquet',
        onUnreadableRows: (count, message) => scheduler.addUnreadableRows(count, message),
        ...(auto ? { auto: auto.sizing } : {}),
      }),
    );
    // Started once the worker processes are (scheduler.run() starts them before its first await):
    // the first resource sample must not hold back the first task.
    monitor.start();
    result = await running;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    clearInterval(overview);
    clearTimeout(fingerprintSoon);
    monitor.stop();
  }
  fingerprintFreshRun();
  appendProgressOverview(directory, scheduler.snapshot());
  progressFile.update(scheduler.snapshot(), true);

  let written: { path: string; rows: number } | undefined;
  if (output && result.status === 'succeeded') {
    const { path, rows } = await output.finish(result.totalBatches);
    written = { path, rows };
    log.write('INFO', `wrote ${rows} rows to ${path}`);
  } else {
    await output?.abort();
  }
  const cancelled = result.failureKind === 'cancelled';
  const status = result.status === 'succeeded' ? 'succeeded' : cancelled ? 'cancelled' : 'failed';
  const statusWord = status === 'succeeded' ? 'Succeeded' : cancelled ? 'Cancelled' : 'Failed';
  writeFileSync(directory.jobResult, formatJobResult({ runId: directory.runId, status: statusWord, startedAt, result, job, output: written, inputSummary: plan.summary, nodes }));
  // Readers (job list, the studio) take the end record as "finished": everything else is on disk first.
  await report.close();
  store.writeSummary({ runId: directory.runId, name: job.name, displayName: job.displayName, description: job.description, tags: job.tags, jobFile: job.jobFile, status, startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), result, output: written });
  // Journaled before the end record, so a resume of this run can check its inputs.
  if (fingerprintPending) {
    const waiting = 'waiting for the input fingerprint (a stat per input file) to be journaled, so that a resume of this run can check its input';
    log.write('INFO', waiting);
    // Someone stopping the run is waiting for it: say why it takes a moment longer.
    if (cancelled) emit({ type: 'notice', message: `${waiting}; Ctrl-C again to quit at once` });
  }
  await inputsFingerprinted;
  store.recordEnd(status, result.reason);
  await store.close();
  unmarkDriver(directory.state);
  log.write(status === 'succeeded' ? 'INFO' : 'WARNING', `run ${directory.runId} ${status}${result.reason ? `: ${result.reason}` : ''}`);
  const exitCode = status === 'succeeded' ? 0 : cancelled ? 130 : result.failureKind === 'invalid-script' || result.invalidInput ? 2 : 1;
  return { runId: directory.runId, runDir: directory.root, status, exitCode, result, output: written, jobResultPath: directory.jobResult, compute: job.compute.name };
}

/**
 * `mini_batch_size: auto`: a sizer fed by commits (and, on resume, by what the earlier session
 * measured), and the partitioner's side of it: each new boundary is journaled before its
 * mini-batch can run, and the earlier session's boundaries are replayed first.
 */
function autoSizing(
  split: Extract<InputPlan['split'], { kind: 'auto' }>,
  processes: number,
  replay: readonly MiniBatchBoundary[],
  restored: readonly CommittedBatch[],
  store: RunStore,
  log: EngineLog,
): { sizer: AutoSizer; sizing: AdaptiveSizing } {
  const files = split.unit === 'files';
  const initial = files ? JOB_DEFAULTS.autoInitialFiles : split.grainBytes;
  const sizer = new AutoSizer({ targetMs: split.targetSeconds * 1000, initial, minimum: 1, processes, growthFactor: JOB_DEFAULTS.autoGrowthFactor });
  for (const boundary of replay) sizer.planned(boundary.id, boundary.amount);
  for (const batch of restored) sizer.finished(batch.id, batch.durationMs, finishedAs(batch));
  const describe = (amount: number) => (files ? `${amount} file${amount === 1 ? '' : 's'}` : formatBytes(amount));
  let logged = 0;
  const sizing: AdaptiveSizing = {
    nextAmount: (remaining) => sizer.next(remaining),
    replay,
    onBoundary: (boundary) => {
      store.recordBoundary(boundary);
      sizer.planned(boundary.id, boundary.amount);
      // Said when the size has changed twofold since last said: enough to follow it, not a line per mini-batch.
      if (logged === 0 || boundary.amount >= 2 * logged || boundary.amount * 2 <= logged) {
        logged = boundary.amount;
        const rate = sizer.msPerUnit;
        const measured = rate === undefined ? 'nothing measured yet' : `${files ? `${rate.toFixed(rate < 10 ? 2 : 0)} ms per file` : `${((rate * 1024 * 1024) / 1000).toFixed(2)} s per MB`} measured`;
        log.write('INFO', `mini_batch_size auto: mini-batch ${boundary.id} holds ${describe(boundary.amount)} (${measured}, target ${split.targetSeconds} s)`);
      }
    },
  };
  return { sizer, sizing };
}

/** What a committed mini-batch tells the sizer: a timeout is a (lower-bound) measurement too. */
function finishedAs(batch: CommittedBatch): FinishedAs {
  return batch.status === 'succeeded' ? 'succeeded' : batch.failureKind === 'timeout' ? 'timeout' : 'failed';
}

/**
 * Auto sizes are replayed from the journal, fixed sizes are cut again: a run cannot switch
 * between them on resume (--allow-changes with an edited mini_batch_size) without committed
 * mini-batches meeting different cuts of the input.
 */
function checkSameSizing(runId: string, plan: InputPlan, restored: readonly CommittedBatch[], boundaries: readonly MiniBatchBoundary[]): void {
  if (restored.length === 0) return;
  const auto = plan.split.kind === 'auto';
  if (auto && boundaries.length === 0) {
    throw new InvalidInputError('E_USAGE', `run ${runId} cannot be resumed with mini_batch_size: auto: it started with a fixed mini_batch_size, and its committed mini-batches were cut that way; resume it with the mini_batch_size it started with`);
  }
  if (!auto && boundaries.length > 0) {
    throw new InvalidInputError('E_USAGE', `run ${runId} cannot be resumed with a fixed mini_batch_size: it started with mini_batch_size: auto, and its committed mini-batches were cut by measured time; resume it with mini_batch_size: auto`);
  }
}

type ChosenRuntime = { kind: 'node' } | { kind: 'python'; interpreter: PythonInterpreter };

async function chooseRuntime(job: ResolvedParallelJob, flag: string | undefined): Promise<ChosenRuntime> {
  if (extname(job.entryScript) !== '.py') return { kind: 'node' };
  return { kind: 'python', interpreter: await findPython({ flag, env: process.env.MINIBATCH_PYTHON, environment: job.pythonEnvironment }, announcedPython) };
}

interface ResumableRun {
  runDir: string;
  jobFile: string;
  fingerprint: RunFingerprint;
}

/** The run to resume, from its journal; a clear error when there is none or nothing to do. */
function readResumableRun(runDir: string, failedOnly: boolean): ResumableRun {
  const records = RunStore.readRecords(join(runDir, 'state'));
  const starting = RunStore.startingFingerprint(records);
  if (!starting) {
    throw new InvalidInputError('E_USAGE', `${runDir}: not a run minibatch can resume (no run journal with a fingerprint in state/journal.log)`);
  }
  const ends = records.filter((record) => record.k === 'end');
  const last = ends.at(-1);
  if (last && last.k === 'end' && last.status === 'succeeded' && !failedOnly) {
    throw new InvalidInputError('E_USAGE', `run ${basename(runDir)} already succeeded; there is nothing to resume (rerun-failed re-runs its failed mini-batches)`);
  }
  return { runDir, jobFile: starting.first.jobFile, fingerprint: starting.fingerprint };
}
