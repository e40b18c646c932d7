import type { MiniBatch } from '../data/descriptors.js';
import { IllegalStateError, InvalidInputError, type SerializedError } from '../errors.js';
import { formatSpan } from '../logs/format-duration.js';
import { SPECULATIVE_COPY_THRESHOLDS } from '../spec/defaults.js';
import type { CommittedBatch, RunStore } from '../store/run-store.js';
import type { AttemptOutcome, AttemptTask, NodeFailure, WorkerIdentity } from '../worker/worker-pool.js';
import { FailureAccounting, type ThresholdSettings } from './failure-accounting.js';
import { median } from './median.js';
import type { QueueBackend } from './queue-backend.js';

export interface SchedulerSettings extends ThresholdSettings {
  maxRetries: number;
  progressUpdateTimeoutMs: number;
  firstTaskCreationTimeoutMs: number;
  /** Mini-batches the partitioner may run ahead of dispatch; READ_AHEAD unless set (auto sizes are fixed when read). */
  readAhead?: number;
  /** Copy clear stragglers to idle workers once nothing else waits (speculative_copies). */
  speculativeCopies: boolean;
  /** When a running mini-batch is a straggler; SPECULATIVE_COPY_THRESHOLDS unless set (tests). */
  speculativeCopyThresholds?: SpeculativeCopyThresholds;
}

export interface SpeculativeCopyThresholds {
  afterMedians: number;
  minRunningMs: number;
  minSamples: number;
}

export interface ProgressSnapshot {
  elapsedMs: number;
  /** Known once the input has been fully partitioned. */
  totalBatches: number | undefined;
  scheduledBatches: number;
  running: number;
  retrying: number;
  succeededBatches: number;
  failedBatches: number;
  succeededItems: number;
  failedItems: number;
  /** Finished mini-batches per second so far. */
  batchesPerSecond: number;
  etaMs: number | undefined;
}

/** The first error that explains a failure: what users need first, before any summary. */
export interface RootCauseError {
  batchId?: number;
  attempt?: number;
  worker?: string;
  kind: string;
  message: string;
  error?: SerializedError;
}

export type FailureKind = 'threshold' | 'stuck' | 'first-task-timeout' | 'no-worker' | 'invalid-script' | 'input' | 'cancelled';

export interface SchedulerResult {
  status: 'succeeded' | 'failed';
  failureKind?: FailureKind;
  /** The input itself is invalid (found while partitioning it): an input error, exit code 2. */
  invalidInput?: boolean;
  reason?: string;
  totalBatches: number;
  finishedBatches: number;
  succeededBatches: number;
  failedBatches: number;
  succeededItems: number;
  failedItems: number;
  retries: number;
  /** Speculative copies started, and how many finished first (their rows were the ones kept). */
  speculativeCopies: { started: number; won: number };
  firstError: RootCauseError | undefined;
  elapsedMs: number;
}

export interface SchedulerEvents {
  onCommitted?(batch: CommittedBatch): void;
  onProgress?(snapshot: ProgressSnapshot): void;
  onLog?(level: 'DEBUG' | 'INFO' | 'WARNING', message: string): void;
}

/** One try in flight: its task, and a speculative copy of it while one runs. */
interface RunningTry {
  readonly attempt: number;
  /** Dispatched tasks of this try that have not ended: the original, and the copy if one runs. */
  readonly tasks: AttemptTask[];
  readonly dispatchedAt: number;
  /** The copy, once started: at most one per try. */
  copy: AttemptTask | undefined;
  /** A copy's failure while the other still ran: a failed try only if that one fails too. */
  heldFailure: AttemptOutcome | undefined;
}

/** Run times kept for the straggler median: the latest ones, enough for a stable median. */
const RUN_TIME_SAMPLES = 1024;

/** How far the partitioner may run ahead of dispatch. */
const READ_AHEAD = 256;
/** Reading ahead yields to the event loop after this many mini-batches. */
const READ_AHEAD_SLICE = 32;

/**
 * Runs a job's mini-batches through a QueueBackend with the semantics of DESIGN.md §5:
 * tries, the thresholds, the job timeouts and exactly-once commit to the run store. It knows
 * nothing of processes or Redis; the backend does.
 *
 * Lifecycle: created → running → (finishing | aborting) → done.
 */
export class Scheduler {
  readonly #settings: SchedulerSettings;
  readonly #backend: QueueBackend;
  readonly #store: RunStore;
  readonly #events: SchedulerEvents;
  readonly #accounting: FailureAccounting;
  #state: 'created' | 'running' | 'draining' | 'finishing' | 'aborting' | 'done' = 'created';
  #cancelReason = '';
  #graceTimer: NodeJS.Timeout | undefined;
  #source: AsyncIterator<MiniBatch> | undefined;
  #reading = false;
  #exhausted = false;
  #buffer: MiniBatch[] = [];
  #again: AttemptTask[] = [];
  #inFlight = new Map<number, RunningTry>();
  #produced = 0;
  #retries = 0;
  #copiesStarted = 0;
  #copiesWon = 0;
  /** Run times of succeeded mini-batches (a ring of the latest), and their median when known. */
  #runTimes: number[] = [];
  #runTimesNext = 0;
  #medianRunMs: number | undefined;
  #copyTimer: NodeJS.Timeout | undefined;
  #copyTimerAt = 0;
  #firstError: RootCauseError | undefined;
  #invalidInput = false;
  #started = 0;
  #reportedAt = 0;
  #firstTaskTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  /** When progress was last made, for progress_update_timeout. */
  #progressMadeAt = 0;
  #resolve: ((result: SchedulerResult) => void) | undefined;

  constructor(settings: SchedulerSettings, backend: QueueBackend, store: RunStore, events: SchedulerEvents = {}) {
    this.#settings = settings;
    this.#backend = backend;
    this.#store = store;
    this.#events = events;
    this.#accounting = new FailureAccounting(settings);
  }

  async run(source: AsyncIterable<MiniBatch>): Promise<SchedulerResult> {
    if (this.#state !== 'created') throw new IllegalStateError(`Scheduler.run() in state ${this.#state}`);
    this.#state = 'running';
    this.#started = performance.now();
    this.#source = source[Symbol.asyncIterator]();
    const done = new Promise<SchedulerResult>((resolve) => (this.#resolve = resolve));
    this.#firstTaskTimer = setTimeout(() => {
      const waiting = this.#backend.describeWaiting?.();
      this.#abort('first-task-timeout', `first_task_creation_timeout exceeded: no mini-batch was scheduled within ${this.#settings.firstTaskCreationTimeoutMs / 1000}s of the start${waiting ? `: ${waiting}` : ''}`);
    }, this.#settings.firstTaskCreationTimeoutMs);
    if (this.#settings.speculativeCopies && !this.#copiesPossible()) this.#events.onLog?.('DEBUG', `speculative copies: the ${this.#backend.name} backend does not offer them`);
    await this.#backend.start({
      onOutcome: (outcome) => this.#onOutcome(outcome),
      onReturned: (tasks) => this.#onReturned(tasks),
      onCapacity: () => this.#pump(),
      onFatal: (failure) => this.#onFatal(failure),
      onLog: (level, message) => this.#events.onLog?.(level, message),
    });
    this.#pump();
    return done;
  }

  /**
   * Rows the partitioner could not read and cannot attribute to a mini-batch (a DuckDB
   * shuffle's rejects): failed items of the job, checked against error_threshold.
   */
  addUnreadableRows(count: number, message: string): void {
    if (this.#state !== 'running' || count <= 0) return;
    this.#accounting.failedItems += count;
    this.#firstError ??= { kind: 'unreadable-rows', message };
    this.#events.onLog?.('WARNING', message);
    const breach = this.#accounting.check(undefined);
    if (breach) this.#abort('threshold', breach.message);
  }

  /** Mini-batches committed by an earlier session of this run (resume): counted, not run again. */
  restore(batches: readonly CommittedBatch[]): void {
    for (const batch of batches) {
      this.#accounting.restore(batch);
      if (batch.status === 'succeeded') this.#addRunTime(batch.durationMs);
    }
  }

  /**
   * Stop the job from outside (Ctrl-C, SIGTERM): no new mini-batch starts; those running may
   * finish and commit within `graceMs`, then whatever still runs is killed. What was committed
   * is kept for `job resume`.
   */
  cancel(reason: string, graceMs = 0): void {
    if (this.#state !== 'running') return;
    this.#state = 'draining';
    this.#cancelReason = reason;
    this.#clearTimers();
    this.#events.onLog?.('WARNING', `stopping: ${reason}; ${this.#inFlight.size} running mini-batch(es) may finish within ${Math.round(graceMs / 1000)}s`);
    this.#graceTimer = setTimeout(() => this.#abort('cancelled', reason), graceMs);
    this.#maybeFinishDraining();
  }

  #maybeFinishDraining(): void {
    if (this.#state !== 'draining' || this.#inFlight.size > 0) return;
    this.#state = 'finishing';
    clearTimeout(this.#graceTimer);
    void this.#backend.close().finally(() => this.#settle('failed', 'cancelled', this.#cancelReason));
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = performance.now() - this.#started;
    const finished = this.#accounting.finishedBatches;
    const batchesPerSecond = elapsedMs > 0 ? (finished * 1000) / elapsedMs : 0;
    const total = this.#exhausted ? this.#produced : undefined;
    let retrying = this.#again.filter((task) => task.attempt > 1).length;
    for (const running of this.#inFlight.values()) if (running.attempt > 1) retrying++;
    return {
      elapsedMs,
      totalBatches: total,
      scheduledBatches: this.#produced - this.#buffer.length,
      running: this.#inFlight.size,
      retrying,
      succeededBatches: this.#accounting.succeededBatches,
      failedBatches: this.#accounting.failedBatches,
      succeededItems: this.#accounting.succeededItems,
      failedItems: this.#accounting.failedItems,
      batchesPerSecond,
      etaMs: total !== undefined && batchesPerSecond > 0 ? ((total - finished) / batchesPerSecond) * 1000 : undefined,
    };
  }

  #pump(): void {
    if (this.#state !== 'running') return;
    while (this.#backend.capacity() > 0) {
      const task = this.#again.shift() ?? this.#nextFresh();
      if (!task) break;
      if (this.#firstTaskTimer) {
        clearTimeout(this.#firstTaskTimer);
        this.#firstTaskTimer = undefined;
        this.#armProgressTimer();
      }
      this.#inFlight.set(task.batch.id, { attempt: task.attempt, tasks: [task], dispatchedAt: performance.now(), copy: undefined, heldFailure: undefined });
      this.#backend.dispatch(task);
    }
    if (!this.#exhausted && !this.#reading && this.#buffer.length < (this.#settings.readAhead ?? READ_AHEAD)) void this.#readAhead();
    this.#speculate();
    this.#maybeFinish();
  }

  #copiesPossible(): boolean {
    return this.#backend.startCopy !== undefined && this.#backend.cancel !== undefined;
  }

  /**
   * Straggler mitigation: once nothing waits to be dispatched (input read, no retry queued),
   * a try that has run clearly longer than typical gets a copy on an idle worker; whichever
   * succeeds first is committed. Copying earlier would take a worker from fresh work.
   */
  #speculate(): void {
    if (!this.#settings.speculativeCopies || !this.#copiesPossible() || this.#state !== 'running') return;
    if (!this.#exhausted || this.#buffer.length > 0 || this.#again.length > 0 || this.#inFlight.size === 0) return;
    const thresholds = this.#settings.speculativeCopyThresholds ?? SPECULATIVE_COPY_THRESHOLDS;
    if (this.#runTimes.length < thresholds.minSamples) return;
    // Cheap first (this runs on every pump near the end): no try is a straggler before it has
    // run minRunningMs, so most quick jobs end here without sorting anything.
    const now = performance.now();
    const candidates: { id: number; original: AttemptTask; running: RunningTry; since: number }[] = [];
    let oldest = Infinity;
    for (const [id, running] of this.#inFlight) {
      const original = running.tasks[0];
      if (running.copy || running.tasks.length !== 1 || !original) continue;
      const since = this.#backend.runningSince ? this.#backend.runningSince(original) : running.dispatchedAt;
      if (since === undefined) continue; // still queued behind another task
      candidates.push({ id, original, running, since });
      oldest = Math.min(oldest, since);
    }
    if (oldest === Infinity) return;
    if (now - oldest <= thresholds.minRunningMs) return this.#lookForStragglersAt(oldest + thresholds.minRunningMs);
    const typical = this.#median();
    const afterMs = Math.max(thresholds.afterMedians * typical, thresholds.minRunningMs);
    // Longest running first.
    candidates.sort((a, b) => a.since - b.since);
    for (const { id, original, running, since } of candidates) {
      const ranMs = now - since;
      // The next one to turn into a straggler: look again then, even if nothing else happens.
      if (ranMs <= afterMs) return this.#lookForStragglersAt(since + afterMs);
      const copy: AttemptTask = { batch: original.batch, attempt: running.attempt };
      // No idle worker: a worker that frees up reports capacity, which pumps (and comes here) again.
      if (!this.#backend.startCopy?.(copy)) return;
      running.copy = copy;
      running.tasks.push(copy);
      this.#copiesStarted++;
      this.#events.onLog?.('INFO', `mini-batch ${id} has run ${formatSpan(ranMs)}, ${Math.round(ranMs / typical)}× the median (${formatSpan(typical)}); starting a copy on an idle worker`);
    }
  }

  /** Pumps again at `at` (performance.now() time), unless a look is due by then anyway. */
  #lookForStragglersAt(at: number): void {
    if (this.#copyTimer !== undefined && this.#copyTimerAt <= at) return;
    clearTimeout(this.#copyTimer);
    this.#copyTimerAt = at;
    this.#copyTimer = setTimeout(
      () => {
        this.#copyTimer = undefined;
        this.#pump();
      },
      Math.max(0, at - performance.now()) + 10,
    );
  }

  #addRunTime(ms: number): void {
    this.#runTimes[this.#runTimesNext] = ms;
    this.#runTimesNext = (this.#runTimesNext + 1) % RUN_TIME_SAMPLES;
    this.#medianRunMs = undefined;
  }

  #median(): number {
    this.#medianRunMs ??= median(this.#runTimes) ?? 0;
    return this.#medianRunMs;
  }

  /** Tasks a backend could not start (a process died first): run again without spending a try. */
  #onReturned(tasks: readonly AttemptTask[]): void {
    const again: AttemptTask[] = [];
    const decided: AttemptOutcome[] = [];
    for (const task of tasks) {
      const running = this.#inFlight.get(task.batch.id);
      // Only a task still waited for: not a cancelled copy, not one of a try already decided.
      if (!running || !takeTask(running, task)) continue;
      if (running.tasks.length > 0) continue; // the other copy still runs this try
      this.#inFlight.delete(task.batch.id);
      // The other copy failed while this one waited: that failure is the try's outcome.
      if (running.heldFailure) decided.push(running.heldFailure);
      else again.push(task);
    }
    this.#again.unshift(...again);
    for (const outcome of decided) {
      if (this.#state !== 'running' && this.#state !== 'draining') break;
      this.#finishTry(outcome, failureOf(outcome));
    }
    this.#pump();
    this.#maybeFinishDraining();
  }

  #nextFresh(): AttemptTask | undefined {
    let batch = this.#buffer.shift();
    // Resumed: what an earlier session committed stays as it is.
    while (batch && this.#store.isCommitted(batch.id)) batch = this.#buffer.shift();
    return batch ? { batch, attempt: 1 } : undefined;
  }

  async #readAhead(): Promise<void> {
    this.#reading = true;
    let sinceYield = 0;
    try {
      while (this.#state === 'running' && this.#buffer.length < (this.#settings.readAhead ?? READ_AHEAD)) {
        const next = await this.#source?.next();
        if (!next || next.done) {
          this.#exhausted = true;
          break;
        }
        this.#buffer.push(next.value);
        this.#produced++;
        if (this.#backend.capacity() > 0) this.#pump();
        // A listing served from memory resolves without returning to the event loop: every few
        // mini-batches, let it run, so a worker's "ready" or results are not held up (the first
        // read-ahead of 256 held a 10,000-file job's first task back ~15 ms).
        if (++sinceYield === READ_AHEAD_SLICE) {
          await new Promise((resolve) => setImmediate(resolve));
          sinceYield = 0;
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#invalidInput = error instanceof InvalidInputError;
      const reason = this.#invalidInput ? message : `reading the input failed: ${message}`;
      this.#firstError ??= { kind: 'input', message: reason };
      this.#abort('input', reason);
      return;
    } finally {
      this.#reading = false;
    }
    this.#pump();
  }

  #onOutcome(outcome: AttemptOutcome): void {
    if (this.#state !== 'running' && this.#state !== 'draining') return;
    const { batch, attempt } = outcome.task;
    const running = this.#inFlight.get(batch.id);
    // A stale or duplicate delivery (a task we no longer wait for, a cancelled copy) changes nothing.
    if (!running || !takeTask(running, outcome.task) || this.#store.isCommitted(batch.id)) return;
    const failure = failureOf(outcome);
    const byCopy = outcome.task === running.copy;
    if (failure && running.tasks.length > 0) {
      // Not a failed try while the other copy may still succeed: decided when that one ends.
      running.heldFailure ??= outcome;
      this.#events.onLog?.('INFO', `mini-batch ${batch.id} try ${attempt}: ${byCopy ? 'the copy' : 'the original'} failed (${failure.kind}): ${failure.message}; the other copy still runs, so the try is not counted yet`);
      return;
    }
    const others = running.tasks.splice(0);
    this.#inFlight.delete(batch.id);
    for (const other of others) this.#backend.cancel?.(other);
    if (running.copy && !failure) {
      if (byCopy) this.#copiesWon++;
      const rest = others.length > 0 ? 'the other copy is cancelled' : 'the other copy had failed';
      this.#events.onLog?.('INFO', `mini-batch ${batch.id}: ${byCopy ? 'the copy' : 'the original'} won (on ${workerName(outcome.worker)}); ${rest}`);
    }
    // Both copies failed: one failed try, as without a copy; the earlier failure is the first error.
    const held = running.heldFailure;
    if (failure && held) this.#noteFirstError(held, failureOf(held) ?? failure);
    this.#finishTry(outcome, failure);
  }

  #noteFirstError(outcome: AttemptOutcome, failure: Failure): void {
    this.#firstError ??= {
      batchId: outcome.task.batch.id,
      attempt: outcome.task.attempt,
      worker: workerName(outcome.worker),
      kind: failure.kind,
      message: failure.message,
      ...('error' in failure && failure.error ? { error: failure.error } : {}),
    };
  }

  /** The try is over with `outcome`: retried, or committed (and counted) as the mini-batch's final state. */
  #finishTry(outcome: AttemptOutcome, failure: Failure | undefined): void {
    const { batch, attempt } = outcome.task;
    this.#armProgressTimer();
    const worker = workerName(outcome.worker);
    const unreadable = outcome.unreadable ?? 0;
    if (failure) this.#noteFirstError(outcome, failure);
    if (failure && attempt <= this.#settings.maxRetries && !('final' in failure)) {
      if (this.#state === 'draining') {
        // Stopping: no new try starts; the mini-batch stays uncommitted, for job resume.
        this.#maybeFinishDraining();
        return;
      }
      this.#retries++;
      this.#store.recordAttempt({ id: batch.id, attempt, worker, failureKind: failure.kind, error: failure.message });
      this.#events.onLog?.('INFO', `mini-batch ${batch.id} try ${attempt} failed (${failure.kind}): ${failure.message}; retrying`);
      this.#again.push({ batch, attempt: attempt + 1 });
      this.#pump();
      return;
    }
    const committed: CommittedBatch = {
      id: batch.id,
      status: failure ? 'failed' : 'succeeded',
      tries: attempt,
      items: batch.items,
      returned: outcome.returned,
      failedItems: Math.max(batch.items - Math.min(batch.items, outcome.returned), Math.min(batch.items, unreadable)),
      worker,
      startedAt: Math.round(outcome.startedAt),
      durationMs: Math.round(outcome.durationMs * 1000) / 1000,
    };
    // Set, not spread in: an object spread per commit was a measurable share of a quick job.
    if (failure) {
      committed.error = failure.message;
      committed.failureKind = failure.kind;
    }
    if (outcome.formatted) committed.formatted = outcome.formatted;
    if (!this.#store.commit(committed, outcome.rows)) return;
    this.#accounting.record(batch.items, outcome.returned, failure !== undefined, unreadable);
    if (!failure) this.#addRunTime(outcome.durationMs);
    if (failure) this.#events.onLog?.('WARNING', `mini-batch ${batch.id} failed after ${attempt} ${attempt === 1 ? 'try' : 'tries'} (${failure.kind}): ${failure.message}`);
    this.#events.onCommitted?.(committed);
    this.#reportProgress();
    const allScheduled = this.#exhausted && this.#buffer.length === 0;
    const breach = this.#accounting.check(allScheduled ? this.#produced : undefined);
    if (breach) {
      this.#abort('threshold', breach.message);
      return;
    }
    if (this.#state === 'draining') this.#maybeFinishDraining();
    else this.#pump();
  }

  /** Progress listeners get a snapshot at most every 100 ms: building one is not free. */
  #reportProgress(): void {
    if (!this.#events.onProgress) return;
    const now = performance.now();
    if (now - this.#reportedAt < 100) return;
    this.#reportedAt = now;
    this.#events.onProgress(this.snapshot());
  }

  #onFatal(failure: NodeFailure): void {
    this.#firstError ??= { kind: failure.contract ? 'invalid-script' : 'init', message: failure.message, error: failure.error };
    this.#abort(failure.contract ? 'invalid-script' : 'no-worker', failure.contract ? failure.message : `no worker could initialise: ${failure.message}`);
  }

  #maybeFinish(): void {
    if (this.#state !== 'running') return;
    if (!this.#exhausted || this.#buffer.length > 0 || this.#again.length > 0 || this.#inFlight.size > 0) return;
    const breach = this.#accounting.check(this.#produced);
    if (breach) {
      this.#abort('threshold', breach.message);
      return;
    }
    this.#state = 'finishing';
    this.#clearTimers();
    void this.#backend.close().finally(() => this.#settle('succeeded'));
  }

  #abort(kind: FailureKind, reason: string): void {
    if (this.#state !== 'running' && this.#state !== 'draining') return;
    this.#state = 'aborting';
    this.#clearTimers();
    clearTimeout(this.#graceTimer);
    this.#events.onLog?.('WARNING', `aborting the job: ${reason}`);
    void this.#backend.abort().finally(() => this.#settle('failed', kind, reason));
  }

  #settle(status: 'succeeded' | 'failed', failureKind?: FailureKind, reason?: string): void {
    this.#state = 'done';
    // Nothing of the scheduler may outlive it (a live timer keeps the CLI from exiting).
    this.#clearTimers();
    clearTimeout(this.#graceTimer);
    const accounting = this.#accounting;
    this.#resolve?.({
      status,
      ...(failureKind ? { failureKind } : {}),
      ...(this.#invalidInput ? { invalidInput: true } : {}),
      ...(reason ? { reason } : {}),
      totalBatches: this.#produced,
      finishedBatches: accounting.finishedBatches,
      succeededBatches: accounting.succeededBatches,
      failedBatches: accounting.failedBatches,
      succeededItems: accounting.succeededItems,
      failedItems: accounting.failedItems,
      retries: this.#retries,
      speculativeCopies: { started: this.#copiesStarted, won: this.#copiesWon },
      firstError: this.#firstError,
      elapsedMs: performance.now() - this.#started,
    });
  }

  /**
   * Progress was made (or the first task went out): progress_update_timeout counts from now.
   * One timer for the whole run, checked when it fires, not re-armed per mini-batch.
   */
  #armProgressTimer(): void {
    this.#progressMadeAt = performance.now();
    if (this.#progressTimer === undefined && this.#state === 'running') this.#checkProgressIn(this.#settings.progressUpdateTimeoutMs);
  }

  #checkProgressIn(ms: number): void {
    this.#progressTimer = setTimeout(() => {
      this.#progressTimer = undefined;
      if (this.#state !== 'running') return;
      const quietMs = performance.now() - this.#progressMadeAt;
      if (quietMs < this.#settings.progressUpdateTimeoutMs) return this.#checkProgressIn(this.#settings.progressUpdateTimeoutMs - quietMs);
      this.#abort('stuck', `progress_update_timeout exceeded: no mini-batch finished for ${this.#settings.progressUpdateTimeoutMs / 1000}s; the job looks stuck`);
    }, ms);
  }

  #clearTimers(): void {
    clearTimeout(this.#firstTaskTimer);
    clearTimeout(this.#progressTimer);
    clearTimeout(this.#copyTimer);
    this.#firstTaskTimer = undefined;
    this.#progressTimer = undefined;
    this.#copyTimer = undefined;
  }
}

/** Why a try failed: the worker's failure, or missing returns (worth a retry), or unreadable rows (final). */
type Failure = NonNullable<AttemptOutcome['failure']> | { kind: 'partial'; message: string } | { kind: 'unreadable-rows'; message: string; final: true };

function failureOf(outcome: AttemptOutcome): Failure | undefined {
  // Rows that could not be read are failed items no retry can fix; anything else missing is worth a retry.
  const unreadable = outcome.unreadable ?? 0;
  const readable = outcome.task.batch.items - unreadable;
  if (outcome.failure) return outcome.failure;
  if (outcome.returned < readable) {
    return { kind: 'partial', message: `run() returned ${outcome.returned} elements for ${readable} items; the missing ${readable - outcome.returned} count as failed items` };
  }
  if (unreadable > 0) return { kind: 'unreadable-rows', message: `${unreadable} row(s) could not be read: ${(outcome.problems ?? []).join('; ')}`, final: true };
  return undefined;
}

/** Removes `task` (by identity) from its try's outstanding tasks; false if it was not one of them. */
function takeTask(running: RunningTry, task: AttemptTask): boolean {
  const index = running.tasks.indexOf(task);
  if (index < 0) return false;
  running.tasks.splice(index, 1);
  return true;
}

function workerName(worker: WorkerIdentity): string {
  return `node-${worker.node}/process-${worker.process}`;
}

