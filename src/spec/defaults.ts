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
  copyLogsToParent: false,
  appendRowDataframeHeader: false,
  appendRowFileName: 'parallel_run_step.txt',
} as const;

/** Grace between a timed-out run()'s AbortSignal and the kill of its process. */
export const TIMEOUT_KILL_GRACE_MS = 1_000;
/** Init failures allowed per node, as a multiple of its processes, before the node stops. */
export const INIT_FAILURES_PER_PROCESS = 3;
