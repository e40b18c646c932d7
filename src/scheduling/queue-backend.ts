import type { AttemptTask, NodeFailure, WorkerPoolHandlers } from '../worker/worker-pool.js';

/**
 * The port between the scheduler (which owns every semantic: tries, thresholds, job timeouts,
 * exactly-once commit) and where attempts run. The local backend runs worker processes on
 * this machine; the Redis backend (later) hands tasks to agents through BullMQ. Both must pass
 * the same conformance suite.
 */
export interface QueueBackend {
  readonly name: string;
  /** Start workers; handlers receive everything that happens from then on. */
  start(handlers: BackendHandlers): Promise<void>;
  /** How many tasks can be dispatched right now without queueing them behind busy workers. */
  capacity(): number;
  dispatch(task: AttemptTask): void;
  /*
   * Speculative copies (straggler mitigation). Optional: the scheduler copies only through a
   * backend that has both methods. Tasks are told apart by identity: a copy is its own
   * AttemptTask object with the same batch and attempt, and outcomes carry the object dispatched.
   */
  /**
   * Runs `task`, a second copy of a try already running, on a worker process that holds
   * nothing else (never queued behind a busy one, which would defeat the copy). False, and
   * nothing dispatched, when no process is idle.
   */
  startCopy?(task: AttemptTask): boolean;
  /**
   * Withdraws a dispatched task: a running one is stopped (its process replaced), a queued one
   * dropped. It produces no outcome and is not handed back; handlers are not called from
   * inside this call.
   */
  cancel?(task: AttemptTask): void;
  /**
   * When `task` started running (performance.now()), or undefined while it waits in a worker's
   * queue behind another: a prefetched task has not been running since it was dispatched, and
   * must not look like a straggler. Without it, dispatch time is used.
   */
  runningSince?(task: AttemptTask): number | undefined;
  /** Why nothing can be dispatched yet (agents missing), for the first_task_creation_timeout message. */
  describeWaiting?(): string | undefined;
  /** Stop now: running attempts are killed and get no outcome. */
  abort(): Promise<void>;
  /** Graceful end: scripts' shutdown() runs, then workers exit. */
  close(): Promise<void>;
}

/** What a backend reports; the same events as a node's worker pool, plus the job-level fatal one. */
export interface BackendHandlers extends Omit<WorkerPoolHandlers, 'onNodeFailed'> {
  /** No worker can run the script any more (every node failed init, or the script is unusable). */
  onFatal(failure: NodeFailure): void;
}
