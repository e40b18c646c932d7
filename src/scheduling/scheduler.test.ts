import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MiniBatch } from '../data/descriptors.js';
import { RunStore } from '../store/run-store.js';
import type { AttemptOutcome, AttemptTask } from '../worker/worker-pool.js';
import type { BackendHandlers, QueueBackend } from './queue-backend.js';
import { Scheduler, type SchedulerSettings } from './scheduler.js';

/** A backend whose "workers" are the test: it records dispatches and lets the test answer them. */
class ScriptedBackend implements QueueBackend {
  readonly name = 'scripted';
  handlers: BackendHandlers | undefined;
  dispatched: AttemptTask[] = [];
  running = new Set<AttemptTask>();
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
  async abort() {
    this.aborted = true;
  }
  async close() {
    this.closed = true;
  }
  /** Finish a running task: `returned` elements, or a failure. */
  finish(id: number, result: { returned?: number; fail?: string; attempt?: number }) {
    const task = [...this.running].find((t) => t.batch.id === id && (result.attempt === undefined || t.attempt === result.attempt));
    assert.ok(task, `mini-batch ${id} is running`);
    this.running.delete(task);
    const outcome: AttemptOutcome = {
      task,
      worker: { node: 0, process: 0, pid: 1 },
      returned: result.returned ?? 0,
      rows: Array.from({ length: result.returned ?? 0 }, () => '"r"').join('\n'),
      failure: result.fail ? { kind: 'error', message: result.fail } : undefined,
      startedAt: Date.now(),
      durationMs: 1,
    };
    this.handlers?.onOutcome(outcome);
  }
}

const settings = (overrides: Partial<SchedulerSettings> = {}): SchedulerSettings => ({
  errorThreshold: -1,
  miniBatchErrorThreshold: -1,
  allowedFailedPercent: 100,
  maxRetries: 1,
  progressUpdateTimeoutMs: 60_000,
  firstTaskCreationTimeoutMs: 60_000,
  ...overrides,
});

async function* batches(count: number, items = 2): AsyncGenerator<MiniBatch> {
  for (let id = 0; id < count; id++) yield { id, items, descriptor: { kind: 'files', files: Array.from({ length: items }, (_, i) => `/f${id}-${i}`) } };
}

function store(): RunStore {
  return RunStore.create(join(mkdtempSync(join(tmpdir(), 'mb-sched-')), 'state'), { runId: 'test', jobFile: 'job.yml' });
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
