import type { TabularFormat } from '../data/tabular-source.js';
import { INIT_FAILURES_PER_PROCESS, TIMEOUT_KILL_GRACE_MS } from '../spec/defaults.js';
import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import type { AttemptTask } from '../worker/worker-pool.js';
import { WorkerPool, type WorkerLogPaths } from '../worker/worker-pool.js';
import type { WorkerSetup } from '../worker/protocol.js';
import { discardSpareWorkers, type WorkerRuntime } from '../worker/worker-process.js';
import type { BackendHandlers, QueueBackend } from './queue-backend.js';

export interface LocalBackendOptions {
  job: ResolvedParallelJob;
  logs: WorkerLogPaths;
  /** GPU indexes on this machine, one per process; empty on a CPU machine. */
  gpus?: readonly number[];
  /** Tasks held per worker process (1 running + prefetched). */
  tasksPerProcess?: number;
  /** Grace for shutdown() at the end, in ms. */
  shutdownGraceMs?: number;
  /** Node.js, or the Python interpreter for a .py entry script. */
  runtime: WorkerRuntime;
  /** The input's table format (none for a file list), told to the workers so they load its reader early. */
  tableFormat?: TabularFormat | undefined;
}

/** What every worker process of a job is told before init(), whichever backend starts it. */
export function baseWorkerSetup(job: ResolvedParallelJob, worldSize: number, tableFormat?: TabularFormat): Omit<WorkerSetup, 'nodeRank' | 'processRank' | 'globalRank'> {
  return {
    entryScript: job.entryScript,
    code: job.code,
    worldSize,
    programArguments: [...job.programArguments],
    inputs: Object.fromEntries(Object.values(job.inputs).map((input) => [input.name, input.kind === 'literal' ? input.value : input.path])),
    outputs: Object.fromEntries(Object.values(job.outputs).map((output) => [output.name, output.path])),
    loggingLevel: job.loggingLevel,
    timeoutMs: job.timeoutMs,
    overheadTimeoutMs: job.overheadTimeoutMs,
    appendRowHeader: job.appendRow?.header ?? false,
    outputFormat: job.appendRow?.format,
    tableFormat,
  };
}

/** One GPU per process; local ranks beyond the GPU count get none (DESIGN.md §6). Undefined on a CPU machine. */
export function gpuEnvironment(gpus: readonly number[]): ((processRank: number) => Record<string, string>) | undefined {
  if (gpus.length === 0) return undefined;
  return (rank) => ({ CUDA_VISIBLE_DEVICES: rank < gpus.length ? String(gpus[rank]) : '' });
}

/**
 * The embedded backend: `instance_count` node groups of worker processes on this machine,
 * each a WorkerPool. No queue of its own: the scheduler dispatches only when a process is free.
 */
export class LocalBackend implements QueueBackend {
  readonly name = 'local';
  readonly #options: LocalBackendOptions;
  readonly #pools: WorkerPool[] = [];
  #failedNodes = 0;

  constructor(options: LocalBackendOptions) {
    this.#options = options;
  }

  async start(handlers: BackendHandlers): Promise<void> {
    const { job } = this.#options;
    const setup = baseWorkerSetup(job, job.instanceCount * job.processesPerInstance, this.#options.tableFormat);
    const gpus = this.#options.gpus ?? [];
    for (let node = 0; node < job.instanceCount; node++) {
      const pool = new WorkerPool(
        {
          nodeRank: node,
          processes: job.processesPerInstance,
          firstGlobalRank: node * job.processesPerInstance,
          setup,
          env: { ...job.environmentVariables },
          cwd: job.code,
          timeoutMs: job.timeoutMs,
          killGraceMs: TIMEOUT_KILL_GRACE_MS,
          maxInitFailures: INIT_FAILURES_PER_PROCESS * job.processesPerInstance,
          tasksPerProcess: this.#options.tasksPerProcess ?? 2,
          logs: this.#options.logs,
          runtime: this.#options.runtime,
          maxWorkerMemoryBytes: job.maxWorkerMemoryBytes,
          perProcessEnv: gpuEnvironment(gpus),
        },
        {
          onOutcome: handlers.onOutcome,
          onReturned: handlers.onReturned,
          onCapacity: handlers.onCapacity,
          onLog: handlers.onLog,
          onNodeFailed: (failure) => {
            this.#failedNodes++;
            handlers.onLog('WARNING', `node-${failure.node} stopped: ${failure.message}`);
            if (failure.contract || this.#failedNodes === this.#pools.length) handlers.onFatal(failure);
          },
        },
      );
      this.#pools.push(pool);
    }
    for (const pool of this.#pools) pool.start();
    discardSpareWorkers(); // the pools took what they could use
  }

  capacity(): number {
    let free = 0;
    for (const pool of this.#pools) free += pool.capacity();
    return free;
  }

  dispatch(task: AttemptTask): void {
    let best: WorkerPool | undefined;
    let bestFree = 0;
    for (const pool of this.#pools) {
      const free = pool.capacity();
      if (free > bestFree) {
        best = pool;
        bestFree = free;
      }
    }
    if (!best) throw new Error('LocalBackend.dispatch() with no capacity');
    best.dispatch(task);
  }

  startCopy(task: AttemptTask): boolean {
    return this.#pools.some((pool) => pool.startCopy(task));
  }

  runningSince(task: AttemptTask): number | undefined {
    for (const pool of this.#pools) {
      const since = pool.runningSince(task);
      if (since !== undefined) return since;
    }
    return undefined;
  }

  cancel(task: AttemptTask): void {
    for (const pool of this.#pools) if (pool.cancel(task)) return;
  }

  async abort(): Promise<void> {
    await Promise.all(this.#pools.map((pool) => pool.terminate()));
  }

  async close(): Promise<void> {
    await Promise.all(this.#pools.map((pool) => pool.close(this.#options.shutdownGraceMs ?? 10_000)));
  }
}
