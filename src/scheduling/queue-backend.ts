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
