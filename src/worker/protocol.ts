import type { MiniBatchDescriptor } from '../data/descriptors.js';
import type { TabularFormat } from '../data/tabular-source.js';
import type { SerializedError } from '../errors.js';
import type { LoggingLevel } from '../spec/resolve-job.js';

/*
 * The only messages that cross between the controller and a worker process: string-tagged
 * unions, sent over Node's IPC channel as JSON.
 * The Python bridge (later) speaks the same messages as JSON lines.
 */

/** What a worker needs to know once, before init(). */
export interface WorkerSetup {
  entryScript: string;
  code: string;
  nodeRank: number;
  processRank: number;
  globalRank: number;
  worldSize: number;
  programArguments: string[];
  inputs: Record<string, string | number | boolean>;
  outputs: Record<string, string>;
  loggingLevel: LoggingLevel;
  /** run() timeout: the AbortSignal fires then; the controller kills a little later. */
  timeoutMs: number;
  /** Time allowed to load a mini-batch before run() (overhead_timeout). */
  overheadTimeoutMs: number;
  /** Python: DataFrame rows become objects (a CSV header) instead of lists (space-separated). */
  appendRowHeader: boolean;
  /**
   * The append_row format, so the worker formats its own rows (the controller then only
   * concatenates); undefined for summary_only, where rows are only counted. Parquet rows
   * travel as JSON lines.
   */
  outputFormat?: 'text' | 'csv' | 'jsonl' | 'parquet' | undefined;
  /** The input's table format, when it is a table: the worker loads its reader while it waits for the first task. */
  tableFormat?: TabularFormat | undefined;
}

export interface TaskMessage {
  id: number;
  attempt: number;
  items: number;
  descriptor: MiniBatchDescriptor;
}

export type ControllerMessage =
  /** A spare worker (forked before the job was read) taken by a pool: the job's folder and environment. */
  | { t: 'adopt'; cwd: string; env: Record<string, string> }
  | { t: 'init'; setup: WorkerSetup }
  /** Tasks to run in order; several per message, so dispatch costs one IPC write per burst. */
  | { t: 'run'; tasks: TaskMessage[] }
  | { t: 'shutdown' };

export type TaskResult =
  | {
      t: 'done';
      id: number;
      attempt: number;
      /** Elements returned by run(): the number of succeeded items. */
      returned: number;
      /** The returned elements: JSON lines, one per element, or (`formatted`) output text. */
      rows: string;
      /** `rows` is already output text in the job's format; `columns` fixed its CSV rows. */
      formatted?: { columns?: string[] };
      runMs: number;
      /** Input rows that could not be read (ragged, not JSON): failed items that no retry can fix. */
      unreadable?: number;
      /** The first few of those, as `file:line: what`. */
      problems?: string[];
    }
  | { t: 'failed'; id: number; attempt: number; reason: WorkerFailureReason; error: SerializedError; runMs: number };

/** Why an attempt failed, as the worker saw it. */
export type WorkerFailureReason = 'error' | 'bad-return' | 'timeout' | 'overhead-timeout';

export type WorkerMessage =
  /** A Python bridge's first message: its interpreter (worker-process.ts reads a spare's; the pool ignores it). */
  | { t: 'about'; version: string; executable: string }
  | { t: 'ready' }
  /** `contract`: the script cannot work at all (missing, syntax error, no run export): not retried. */
  | { t: 'init-failed'; error: SerializedError; contract: boolean }
  /** Finished tasks, in order; batched while the worker has more queued work. */
  | { t: 'results'; results: TaskResult[] }
  /** An error that escaped the script (uncaught exception): the process exits right after. */
  | { t: 'fatal'; error: SerializedError }
  | { t: 'shutdown-done'; error?: SerializedError };
