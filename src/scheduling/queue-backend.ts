import type { AttemptOutcome, AttemptTask, NodeFailure } from '../worker/worker-pool.js';

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
  /** Stop now: running attempts are killed and get no outcome. */
  abort(): Promise<void>;
  /** Graceful end: scripts' shutdown() runs, then workers exit. */
  close(): Promise<void>;
}

export interface BackendHandlers {
  onOutcome(outcome: AttemptOutcome): void;
  /** Tasks handed back without having started (their worker went away): not a try. */
  onReturned(tasks: AttemptTask[]): void;
  onCapacity(): void;
  /** No worker can run the script any more (every node failed init, or the script is unusable). */
  onFatal(failure: NodeFailure): void;
  onLog(level: 'DEBUG' | 'INFO' | 'WARNING', message: string): void;
}
