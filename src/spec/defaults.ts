import { availableParallelism } from 'node:os';

/**
 * Every default of the parallel job, in one place (DESIGN.md §2). Inner code never
 * re-derives a default: it reads the resolved job.
 */
export const JOB_DEFAULTS = {
  instanceCount: 1,
  /** CPU node: one worker process per core (a GPU node gets 1, see resolve-job). */
  processesPerInstance: () => availableParallelism(),
  filesPerMiniBatch: 10,
  /** Tabular input: approximate bytes per mini-batch. */
  tabularBytesPerMiniBatch: 1024 * 1024,
  /** `mini_batch_size: auto`: how long one mini-batch should run (the reference advises ~10 s). */
  targetMiniBatchSeconds: 10,
  /** `auto` starts this small so the first results come fast: one file… */
  autoInitialFiles: 1,
  /** …or 64 KB of a table (also the grain an auto-sized table is cut in). */
  autoInitialBytes: 64 * 1024,
  /** `auto` grows a mini-batch to at most this many times the largest one measured so far. */
  autoGrowthFactor: 4,
  /** `auto` reads ahead this many mini-batches per worker process (sizes are fixed when read). */
  autoReadAheadPerProcess: 2,
  errorThreshold: -1,
  miniBatchErrorThreshold: -1,
  allowedFailedPercent: 100,
  maxRetries: 2,
  timeoutSeconds: 60,
  overheadTimeoutSeconds: 600,
  /** 3 × (timeout + overhead), as the reference computes it. */
  progressUpdateTimeoutSeconds: (timeoutSeconds: number, overheadSeconds: number) => 3 * (timeoutSeconds + overheadSeconds),
  firstTaskCreationTimeoutSeconds: 600,
  resourceMonitorIntervalSeconds: 600,
  loggingLevel: 'INFO',
  isDeterministic: true,
  /** Straggler mitigation: copy a clearly slow mini-batch to an idle worker at the end of the job. */
  speculativeCopies: true,
  copyLogsToParent: false,
  appendRowDataframeHeader: false,
  appendRowFileName: 'parallel_run_step.txt',
} as const;

/** Grace between a timed-out run()'s AbortSignal and the kill of its process. */
export const TIMEOUT_KILL_GRACE_MS = 1_000;
/** Init failures allowed per node, as a multiple of its processes, before the node stops. */
export const INIT_FAILURES_PER_PROCESS = 3;
/**
 * When a running mini-batch counts as a straggler worth a speculative copy: it has run longer
 * than `afterMedians` × the median run() time of succeeded mini-batches and at least
 * `minRunningMs` (quick jobs never copy), and that median rests on `minSamples` of them. One
 * sample is enough: a process may have prefetched the rest of the job behind the straggler,
 * so one mini-batch may be all that finished; the floor keeps a poor median from copying much.
 */
export const SPECULATIVE_COPY_THRESHOLDS = {
  afterMedians: 2,
  minRunningMs: 1_000,
  minSamples: 1,
} as const;

/** Every default of a `type: redis` compute in minibatch.config.yml, in seconds unless named. */
export const REDIS_COMPUTE_DEFAULTS = {
  prefix: 'mb',
  /**
   * How long an agent's lease on a running mini-batch lasts without renewal. Agents renew it
   * from their event loop, which user code never blocks (it runs in worker processes), so a
   * CPU-heavy mini-batch is not taken for stalled; only a dead or cut-off agent lets it lapse.
   */
  lockDurationSeconds: 30,
  /** How often live agents look for lapsed leases and put those mini-batches back in the queue. */
  stalledIntervalSeconds: 15,
  /** How often agents and the driver say they are alive. */
  heartbeatIntervalSeconds: 2,
  /** Silence after which an agent (or a driver) counts as gone. */
  heartbeatTimeoutSeconds: 10,
  /** Tasks an agent holds per worker process (1 running + prefetched), as in local mode. */
  tasksPerProcess: 2,
  /**
   * Tries in flight per worker process at most. Quick mini-batches need many in flight or
   * every one waits a Redis round trip; the driver sizes the window from measured run() time.
   */
  maxTasksPerProcess: 64,
  /** The window covers this much run() time per process (ms). */
  inFlightTargetMs: 50,
  /**
   * Tries per BullMQ job at most. A bundle holds half a process's window (so at least two per
   * process keep it fed), which is one try for mini-batches slower than inFlightTargetMs / 4.
   */
  maxTasksPerBundle: 32,
} as const;

/** The config file naming computes; looked for in the current folder, then in the user's home. */
export const CONFIG_FILE_NAME = 'minibatch.config.yml';
