import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MiniBatch } from '../data/descriptors.js';
import { RunStore } from '../store/run-store.js';
import type { AttemptOutcome, AttemptTask } from '../worker/worker-pool.js';
import type { BackendHandlers, QueueBackend } from './queue-backend.js';
import { Scheduler, type SchedulerSettings } from './scheduler.js';
import { tempDir } from '../../test/helpers.js';

/** A backend whose "workers" are the test: it records dispatches and lets the test answer them. */
class ScriptedBackend implements QueueBackend {
  readonly name = 'scripted';
  handlers: BackendHandlers | undefined;
  dispatched: AttemptTask[] = [];
  running = new Set<AttemptTask>();
  /** Speculative copies started (also in `running` while they run) and tasks withdrawn. */
  copies: AttemptTask[] = [];
  cancelled: AttemptTask[] = [];
  aborted = false;
  closed = false;
  constructor(readonly slots: number) {}
  async start(handlers: BackendHandlers) {
    this.handlers = handlers;
  }
  capacity() {
    return this.aborted ? 0 : this.slots - this.running.size;
  }
  dispatch(task: AttemptTask) {
    this.dispatched.push(task);
    this.running.add(task);
  }
  /** A copy needs a slot with nothing in it: here, any free slot. */
  startCopy(task: AttemptTask) {
    if (this.aborted || this.running.size >= this.slots) return false;
    this.copies.push(task);
    this.running.add(task);
    return true;
  }
  cancel(task: AttemptTask) {
    assert.ok(this.running.delete(task), `cancel() of a task that is not running: mini-batch ${task.batch.id}`);
    this.cancelled.push(task);
  }
  async abort() {
    this.aborted = true;
  }
  async close() {
    this.closed = true;
  }
  /** Finish a running task: `returned` elements, or a failure. */
  finish(id: number, result: { returned?: number; fail?: string; attempt?: number; copy?: boolean; durationMs?: number }) {
    const task = [...this.running].find(
      (t) => t.batch.id === id && (result.attempt === undefined || t.attempt === result.attempt) && (result.copy === undefined || this.copies.includes(t) === result.copy),
    );
    assert.ok(task, `mini-batch ${id} is running`);
    this.running.delete(task);
    const outcome: AttemptOutcome = {
      task,
      worker: { node: 0, process: 0, pid: 1 },
      returned: result.returned ?? 0,
      rows: Array.from({ length: result.returned ?? 0 }, () => '"r"').join('\n'),
      failure: result.fail ? { kind: 'error', message: result.fail } : undefined,
      startedAt: Date.now(),
      durationMs: result.durationMs ?? 1,
    };
    this.handlers?.onOutcome(outcome);
    return outcome;
  }
}

const settings = (overrides: Partial<SchedulerSettings> = {}): SchedulerSettings => ({
  errorThreshold: -1,
  miniBatchErrorThreshold: -1,
  allowedFailedPercent: 100,
  maxRetries: 1,
  progressUpdateTimeoutMs: 60_000,
  firstTaskCreationTimeoutMs: 60_000,
  speculativeCopies: true,
  ...overrides,
});

async function* batches(count: number, items = 2): AsyncGenerator<MiniBatch> {
  for (let id = 0; id < count; id++) yield { id, items, descriptor: { kind: 'files', files: Array.from({ length: items }, (_, i) => `/f${id}-${i}`) } };
}

function store(): RunStore {
  return RunStore.create(join(tempDir('mb-sched-'), 'state'), { runId: 'test', jobFile: 'job.yml' });
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Scheduler', () => {
  it('dispatches up to capacity, commits each mini-batch once and closes the backend at the end', async () => {
    const backend = new ScriptedBackend(2);
    const scheduler = new Scheduler(settings(), backend, store());
    const done = scheduler.run(batches(3));
    await tick();
    assert.deepEqual(backend.dispatched.map((t) => t.batch.id), [0, 1]);
    backend.finish(1, { returned: 2 });
    await tick();
    assert.deepEqual(backend.dispatched.map((t) => t.batch.id), [0, 1, 2]);
    backend.finish(0, { returned: 2 });
    backend.finish(2, { returned: 2 });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.succeededBatches, 3);
    assert.equal(result.succeededItems, 6);
    assert.ok(backend.closed);
  });

  it('retries a failed try before fresh mini-batches, and drops a stale outcome of the old try', async () => {
    const backend = new ScriptedBackend(1);
    const scheduler = new Scheduler(settings(), backend, store());
    const done = scheduler.run(batches(2));
    await tick();
    backend.finish(0, { fail: 'boom' });
    await tick();
    assert.deepEqual(backend.dispatched.map((t) => [t.batch.id, t.attempt]), [[0, 1], [0, 2]]);
    // A late duplicate of try 1 arrives: it must change nothing.
    backend.handlers?.onOutcome({ task: { batch: backend.dispatched[0]!.batch, attempt: 1 }, worker: { node: 0, process: 0, pid: 1 }, returned: 2, rows: '"x"\n"y"', failure: undefined, startedAt: 0, durationMs: 0 });
    assert.equal(scheduler.snapshot().succeededBatches, 0);
    backend.finish(0, { returned: 2, attempt: 2 });
    await tick();
    backend.finish(1, { returned: 2 });
    const result = await done;
    assert.equal(result.retries, 1);
    assert.equal(result.succeededBatches, 2);
    assert.equal(result.firstError?.message, 'boom');
  });

  it('tasks handed back by the backend run again without spending a try', async () => {
    const backend = new ScriptedBackend(2);
    const scheduler = new Scheduler(settings({ maxRetries: 0 }), backend, store());
    const done = scheduler.run(batches(2));
    await tick();
    const handedBack = [...backend.running].filter((t) => t.batch.id === 1);
    for (const task of handedBack) backend.running.delete(task);
    backend.handlers?.onReturned(handedBack);
    await tick();
    assert.deepEqual(backend.dispatched.map((t) => [t.batch.id, t.attempt]), [[0, 1], [1, 1], [1, 1]]);
    backend.finish(0, { returned: 2 });
    backend.finish(1, { returned: 2 });
    assert.equal((await done).status, 'succeeded');
  });

  it('a partial return is a failed try; the final one counts its missing items as failed', async () => {
    const backend = new ScriptedBackend(1);
    const scheduler = new Scheduler(settings({ maxRetries: 1 }), backend, store());
    const done = scheduler.run(batches(1, 5));
    await tick();
    backend.finish(0, { returned: 3 });
    await tick();
    backend.finish(0, { returned: 4, attempt: 2 });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.failedBatches, 1);
    assert.equal(result.failedItems, 1);
    assert.equal(result.succeededItems, 4);
  });

  it('aborts on a threshold: stops the backend and reports the breach', async () => {
    const backend = new ScriptedBackend(2);
    const scheduler = new Scheduler(settings({ maxRetries: 0, miniBatchErrorThreshold: 0 }), backend, store());
    const done = scheduler.run(batches(10));
    await tick();
    backend.finish(0, { fail: 'bad' });
    const result = await done;
    assert.equal(result.status, 'failed');
    assert.equal(result.failureKind, 'threshold');
    assert.equal(result.reason, 'mini_batch_error_threshold exceeded: 1 failed mini-batches > 0 allowed');
    assert.ok(backend.aborted);
    assert.equal(backend.closed, false);
  });

  it('checks allowed_failed_percent only once every mini-batch is scheduled', async () => {
    const backend = new ScriptedBackend(1);
    const scheduler = new Scheduler(settings({ maxRetries: 0, allowedFailedPercent: 40 }), backend, store());
    const done = scheduler.run(batches(2));
    await tick();
    backend.finish(0, { fail: 'bad' }); // 1 of ? failed: 100 % so far, but the total is not known
    await tick();
    assert.equal(scheduler.snapshot().failedBatches, 1);
    assert.equal(backend.aborted, false);
    backend.finish(1, { returned: 2 });
    const result = await done;
    assert.equal(result.reason, 'allowed_failed_percent exceeded: 1 of 2 mini-batches failed (50%) > 40% allowed');
  });

  it('an empty input succeeds with no mini-batch', async () => {
    const backend = new ScriptedBackend(1);
    const result = await new Scheduler(settings(), backend, store()).run(batches(0));
    assert.equal(result.status, 'succeeded');
    assert.equal(result.totalBatches, 0);
  });

  it('first_task_creation_timeout and progress_update_timeout fail the job', async () => {
    const idle = new ScriptedBackend(0);
    const first = await new Scheduler(settings({ firstTaskCreationTimeoutMs: 30 }), idle, store()).run(batches(1));
    assert.equal(first.failureKind, 'first-task-timeout');
    const stuck = new ScriptedBackend(1);
    const progress = await new Scheduler(settings({ progressUpdateTimeoutMs: 30 }), stuck, store()).run(batches(1));
    assert.equal(progress.failureKind, 'stuck');
    assert.ok(stuck.aborted);
  });

  it('cancel() with a grace period lets running mini-batches commit, starts no new one, and leaves no timer behind', async () => {
    const backend = new ScriptedBackend(1);
    const scheduler = new Scheduler(settings(), backend, store());
    const done = scheduler.run(batches(3));
    await tick();
    scheduler.cancel('stop', 60_000);
    backend.finish(0, { returned: 2 });
    const result = await done;
    assert.equal(result.failureKind, 'cancelled');
    assert.equal(result.succeededBatches, 1);
    assert.deepEqual(backend.dispatched.map((t) => t.batch.id), [0]);
    assert.ok(backend.closed, 'a graceful stop closes the backend (shutdown() runs), it does not kill');
    assert.equal(backend.aborted, false);
  });

  it('cancel() stops the job as cancelled', async () => {
    const backend = new ScriptedBackend(1);
    const scheduler = new Scheduler(settings(), backend, store());
    const done = scheduler.run(batches(3));
    await tick();
    scheduler.cancel('cancelled by the user');
    const result = await done;
    assert.equal(result.failureKind, 'cancelled');
    assert.equal(result.reason, 'cancelled by the user');
  });
});

/** Mini-batches 0..count-1, the last `held` of them only once `release()` is called (the input is still being read until then). */
function gatedBatches(count: number, heldFrom: number): { source: AsyncGenerator<MiniBatch>; release: () => void } {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* source(): AsyncGenerator<MiniBatch> {
    for await (const batch of batches(count)) {
      if (batch.id === heldFrom) await gate;
      yield batch;
    }
  }
  return { source: source(), release };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A scheduler whose straggler thresholds fit a test: 2× the median and at least `minRunningMs`, from 2 samples. */
function speculating(backend: ScriptedBackend, minRunningMs: number, overrides: Partial<SchedulerSettings> = {}) {
  const logs: string[] = [];
  const committed: number[] = [];
  const runStore = store();
  const scheduler = new Scheduler(settings({ speculativeCopyThresholds: { afterMedians: 2, minRunningMs, minSamples: 2 }, ...overrides }), backend, runStore, {
    onLog: (_level, message) => logs.push(message),
    onCommitted: (batch) => committed.push(batch.id),
  });
  return { scheduler, logs, committed, runStore };
}

/** Runs 3 mini-batches on 3 slots: 1 and 2 finish at once, 0 straggles until a copy of it starts. */
async function withCopyOfZero(backend: ScriptedBackend, overrides: Partial<SchedulerSettings> = {}) {
  const job = speculating(backend, 30, overrides);
  const done = job.scheduler.run(batches(3));
  await tick();
  backend.finish(1, { returned: 2 });
  backend.finish(2, { returned: 2 });
  for (let waited = 0; backend.copies.length === 0 && waited < 5_000; waited += 10) await sleep(10);
  assert.equal(backend.copies.length, 1, 'a copy of the straggler started');
  return { ...job, done };
}

async function commitsOf(runStore: RunStore, id: number): Promise<number> {
  await runStore.close();
  return RunStore.readRecords(runStore.dir).filter((record) => record.k === 'commit' && record.r.id === id).length;
}

/** Failed tries journaled (closes the store). */
async function failedTriesOf(runStore: RunStore): Promise<number> {
  await runStore.close();
  return RunStore.readRecords(runStore.dir).filter((record) => record.k === 'attempt').length;
}

describe('Scheduler: speculative copies of stragglers', () => {
  it('copies only once the input is read and nothing waits, and only a clear straggler, on an idle worker', async () => {
    const backend = new ScriptedBackend(3);
    const { scheduler, logs } = speculating(backend, 200);
    const input = gatedBatches(6, 5);
    const done = scheduler.run(input.source);
    await tick();
    await sleep(250);
    backend.finish(1, { returned: 2 });
    backend.finish(2, { returned: 2 });
    await tick();
    backend.finish(3, { returned: 2 });
    backend.finish(4, { returned: 2 });
    await tick();
    // 0 has run 250 ms (> 200 ms), slots are idle, but the input is not read to the end yet.
    assert.deepEqual([...backend.running].map((t) => t.batch.id), [0]);
    await sleep(50);
    assert.equal(backend.copies.length, 0, 'no copy while the input may still bring fresh work');
    input.release();
    for (let waited = 0; backend.copies.length === 0 && waited < 5_000; waited += 10) await sleep(10);
    // Mini-batch 5 took a slot first (fresh work goes before copies); 0 is the straggler, 5 is not.
    assert.deepEqual(backend.copies.map((t) => [t.batch.id, t.attempt]), [[0, 1]]);
    assert.ok(backend.dispatched.some((t) => t.batch.id === 5));
    assert.match(logs.find((line) => line.includes('starting a copy')) ?? '', /^mini-batch 0 has run \d+ ms, \d+× the median \(1 ms\); starting a copy on an idle worker$/);
    backend.finish(5, { returned: 2 });
    backend.finish(0, { returned: 2, copy: true });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.speculativeCopies, { started: 1, won: 1 });
    assert.equal(backend.copies.length, 1, 'at most one copy per try; 5 never became a straggler');
  });

  it('the first copy to succeed commits, once; the other is cancelled and its late outcome ignored', async () => {
    const backend = new ScriptedBackend(3);
    const { done, logs, committed, runStore } = await withCopyOfZero(backend);
    const original = [...backend.running].find((t) => !backend.copies.includes(t));
    backend.finish(0, { returned: 2, copy: true });
    assert.deepEqual(backend.cancelled, [original], 'the original is cancelled');
    // Its outcome arrives anyway (a backend that could not stop it in time): nothing changes.
    backend.handlers?.onOutcome({ task: original!, worker: { node: 0, process: 1, pid: 2 }, returned: 2, rows: '"late"\n"late"', failure: undefined, startedAt: 0, durationMs: 1 });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.succeededBatches, 3);
    assert.deepEqual(result.speculativeCopies, { started: 1, won: 1 });
    assert.deepEqual(committed.filter((id) => id === 0), [0]);
    assert.equal(await commitsOf(runStore, 0), 1);
    assert.ok(logs.some((line) => /^mini-batch 0: the copy won \(on node-0\/process-0\); the other copy is cancelled$/.test(line)), logs.join('\n'));
  });

  it('when the original finishes first, the copy is cancelled and counts as not won', async () => {
    const backend = new ScriptedBackend(3);
    const { done, logs } = await withCopyOfZero(backend);
    backend.finish(0, { returned: 2, copy: false });
    assert.deepEqual(backend.cancelled, backend.copies);
    const result = await done;
    assert.deepEqual(result.speculativeCopies, { started: 1, won: 0 });
    assert.ok(logs.some((line) => line.startsWith('mini-batch 0: the original won')));
  });

  it('a copy that fails while the other runs is no failed try: the other one succeeds, no retry', async () => {
    const backend = new ScriptedBackend(3);
    const { done, runStore } = await withCopyOfZero(backend);
    backend.finish(0, { fail: 'copy broke', copy: true });
    await tick();
    assert.equal(backend.dispatched.filter((t) => t.batch.id === 0).length, 1, 'no retry was dispatched');
    assert.equal(runningCopiesOfZero(backend), 1);
    backend.finish(0, { returned: 2, copy: false });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.retries, 0);
    assert.equal(result.failedBatches, 0);
    assert.deepEqual(result.speculativeCopies, { started: 1, won: 0 });
    assert.equal(backend.cancelled.length, 0, 'nothing left to cancel');
    assert.equal(await failedTriesOf(runStore), 0, 'no failed try journaled');
  });

  it('both copies failing is one failed try, retried as without copies', async () => {
    const backend = new ScriptedBackend(3);
    const { done, runStore } = await withCopyOfZero(backend, { maxRetries: 1 });
    backend.finish(0, { fail: 'first', copy: false });
    await tick();
    assert.equal(backend.dispatched.filter((t) => t.batch.id === 0).length, 1);
    backend.finish(0, { fail: 'second', copy: true });
    await tick();
    assert.deepEqual(backend.dispatched.filter((t) => t.batch.id === 0).map((t) => t.attempt), [1, 2], 'one retry');
    backend.finish(0, { returned: 2, attempt: 2 });
    const result = await done;
    assert.equal(result.status, 'succeeded');
    assert.equal(result.retries, 1);
    assert.equal(result.firstError?.message, 'first', 'the first failure is the first error');
    assert.equal(await failedTriesOf(runStore), 1, 'one failed try journaled');
  });

  it('both copies failing on the last try fail the mini-batch once', async () => {
    const backend = new ScriptedBackend(3);
    const { done, runStore } = await withCopyOfZero(backend, { maxRetries: 0 });
    backend.finish(0, { fail: 'a', copy: true });
    backend.finish(0, { fail: 'b', copy: false });
    const result = await done;
    assert.equal(result.failedBatches, 1);
    assert.equal(result.succeededBatches, 2);
    assert.equal(result.failedItems, 2);
    assert.equal(await commitsOf(runStore, 0), 1);
  });

  it('a copy handed back unstarted leaves the try to the other copy; a held failure then decides it', async () => {
    const backend = new ScriptedBackend(3);
    const { done } = await withCopyOfZero(backend, { maxRetries: 1 });
    backend.finish(0, { fail: 'original broke', copy: false });
    const copy = backend.copies[0]!;
    backend.running.delete(copy);
    backend.handlers?.onReturned([copy]);
    await tick();
    // The copy never ran: the original's failure is the try's outcome, so try 2 starts.
    assert.deepEqual(backend.dispatched.filter((t) => t.batch.id === 0).map((t) => t.attempt), [1, 2]);
    backend.finish(0, { returned: 2, attempt: 2 });
    const result = await done;
    assert.equal(result.retries, 1);
    assert.equal(result.status, 'succeeded');
  });

  it('speculative_copies: false never copies', async () => {
    const backend = new ScriptedBackend(3);
    const { scheduler } = speculating(backend, 30, { speculativeCopies: false });
    const done = scheduler.run(batches(3));
    await tick();
    backend.finish(1, { returned: 2 });
    backend.finish(2, { returned: 2 });
    await sleep(150);
    assert.equal(backend.copies.length, 0);
    backend.finish(0, { returned: 2 });
    const result = await done;
    assert.deepEqual(result.speculativeCopies, { started: 0, won: 0 });
  });

  it('a try still queued behind another in its process is no straggler: its time counts from when it starts running', async () => {
    // Mini-batch 0 waits (prefetched) in a worker's queue: dispatched long ago, running since never.
    const backend = new (class extends ScriptedBackend {
      readonly startedAt = new Map<number, number>();
      runningSince(task: AttemptTask) {
        return this.startedAt.get(task.batch.id);
      }
    })(3);
    const { scheduler } = speculating(backend, 30);
    const done = scheduler.run(batches(3));
    await tick();
    backend.finish(1, { returned: 2 });
    backend.finish(2, { returned: 2 });
    await sleep(150);
    assert.equal(backend.copies.length, 0, 'queued for 150 ms (5× the threshold): not copied');
    // The task ahead of it finished: it runs now, and the process says so (capacity pumps the scheduler).
    backend.startedAt.set(0, performance.now());
    backend.handlers?.onCapacity();
    for (let waited = 0; backend.copies.length === 0 && waited < 5_000; waited += 10) await sleep(10);
    assert.deepEqual(backend.copies.map((t) => t.batch.id), [0], 'once it has run past the threshold, it is copied');
    backend.finish(0, { returned: 2, copy: false });
    const result = await done;
    assert.deepEqual(result.speculativeCopies, { started: 1, won: 0 });
  });

  it('draining (cancel) with a copy running: the first success still commits once; no retry starts', async () => {
    const backend = new ScriptedBackend(3);
    const { scheduler, done, committed } = await withCopyOfZero(backend);
    scheduler.cancel('stop', 60_000);
    backend.finish(0, { returned: 2, copy: true });
    const result = await done;
    assert.equal(result.failureKind, 'cancelled');
    assert.equal(result.succeededBatches, 3);
    assert.deepEqual(committed.filter((id) => id === 0), [0]);
    assert.equal(backend.cancelled.length, 1, 'the original was cancelled');
    assert.ok(backend.closed);
  });

  it('draining with both copies failing leaves the mini-batch uncommitted, for resume', async () => {
    const backend = new ScriptedBackend(3);
    const { scheduler, done, runStore } = await withCopyOfZero(backend, { maxRetries: 2 });
    scheduler.cancel('stop', 60_000);
    backend.finish(0, { fail: 'a', copy: false });
    await tick();
    assert.equal(scheduler.snapshot().running, 1, 'still waiting for the copy');
    backend.finish(0, { fail: 'b', copy: true });
    const result = await done;
    assert.equal(result.failureKind, 'cancelled');
    assert.equal(result.retries, 0);
    assert.equal(backend.dispatched.filter((t) => t.batch.id === 0).length, 1);
    assert.equal(runStore.isCommitted(0), false);
  });
});

function runningCopiesOfZero(backend: ScriptedBackend): number {
  return [...backend.running].filter((t) => t.batch.id === 0).length;
}
