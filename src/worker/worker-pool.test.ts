import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerPool, type AttemptOutcome, type AttemptTask, type NodeFailure, type WorkerPoolOptions } from './worker-pool.js';
import { tempDir } from '../../test/helpers.js';

/** A pool of real Node worker processes running `dir`'s `script`, logs in `dir`; `overrides` change the rest. */
function poolOptions(dir: string, script: string, processes: number, overrides: Partial<WorkerPoolOptions> = {}): WorkerPoolOptions {
  const timeoutMs = overrides.timeoutMs ?? 60_000;
  return {
    nodeRank: 0,
    processes,
    firstGlobalRank: 0,
    setup: { entryScript: join(dir, script), code: dir, worldSize: processes, programArguments: [], inputs: {}, outputs: {}, loggingLevel: 'INFO', timeoutMs, overheadTimeoutMs: Math.min(timeoutMs, 10_000), appendRowHeader: false },
    env: {},
    cwd: dir,
    timeoutMs,
    killGraceMs: 1_000,
    maxInitFailures: 6,
    tasksPerProcess: 1,
    logs: { stdout: (_, p) => join(dir, `out-${p}.txt`), stderr: (_, p) => join(dir, `err-${p}.txt`), error: (_, p) => join(dir, `error-${p}.txt`) },
    runtime: { kind: 'node' },
    ...overrides,
  };
}

describe('WorkerPool: a process that cannot be started', () => {
  it('fails the node (no throw out of start(), no hang) when fork throws, e.g. on a NUL byte in the environment', async () => {
    const dir = tempDir('mb-pool-');
    const failures: NodeFailure[] = [];
    const failed = new Promise<void>((resolve) => {
      const pool = new WorkerPool(
        poolOptions(dir, 's.mjs', 2, { env: { BAD: 'x\0y' }, timeoutMs: 1000, killGraceMs: 100 }),
        {
          onOutcome: () => assert.fail('no outcome expected'),
          onReturned: () => assert.fail('no task was dispatched'),
          onCapacity: () => {},
          onLog: () => {},
          onNodeFailed: (failure) => {
            failures.push(failure);
            void pool.terminate().then(resolve);
          },
        },
      );
      assert.doesNotThrow(() => pool.start());
      assert.equal(pool.capacity(), 0, 'no process is ready');
    });
    await failed;
    assert.equal(failures.length, 1, 'the node fails once, however many processes could not start');
    assert.equal(failures[0]?.contract, false);
    assert.match(failures[0]?.message ?? '', /^node-0\/process-0: cannot start a worker process: .*(null bytes|NUL|\\0)/i);
  });
});

describe('WorkerPool: speculative copies', () => {
  /** A pool of 2 real worker processes running a script that sleeps on a file named slow-*, once per marker. */
  function copyPool(tasksPerProcess = 1) {
    const dir = tempDir('mb-pool-copy-');
    writeFileSync(
      join(dir, 'script.mjs'),
      [
        "import { appendFileSync, writeFileSync } from 'node:fs';",
        "import { basename, dirname, join } from 'node:path';",
        `const dir = ${JSON.stringify(dir)};`,
        "export function init() { appendFileSync(join(dir, 'init.log'), `${process.pid}\\n`); }",
        'export async function run(files) {',
        '  const name = basename(files[0]);',
        "  let first = true; try { writeFileSync(join(dir, `${name}.marker`), '', { flag: 'wx' }); } catch { first = false; }",
        "  if (name.startsWith('slow') && first) await new Promise((resolve) => setTimeout(resolve, 20_000));",
        '  return files.map((file) => basename(file));',
        '}',
      ].join('\n'),
    );
    const outcomes: AttemptOutcome[] = [];
    const returned: AttemptTask[] = [];
    let wake = () => {};
    const changed = () => wake();
    const pool = new WorkerPool(
      poolOptions(dir, 'script.mjs', 2, { tasksPerProcess }),
      {
        onOutcome: (outcome) => {
          outcomes.push(outcome);
          changed();
        },
        onReturned: (tasks) => {
          returned.push(...tasks);
          changed();
        },
        onCapacity: changed,
        onLog: () => {},
        onNodeFailed: (failure) => assert.fail(failure.message),
      },
    );
    const until = async (condition: () => boolean, what: string) => {
      const deadline = Date.now() + 15_000;
      while (!condition()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    };
    const task = (name: string, attempt = 1): AttemptTask => {
      writeFileSync(join(dir, name), 'x\n');
      return { batch: { id: Number(name.replace(/\D/g, '')), items: 1, descriptor: { kind: 'files', files: [join(dir, name)] } }, attempt };
    };
    const inits = () => readFileSync(join(dir, 'init.log'), 'utf8').trim().split('\n').length;
    return { pool, outcomes, returned, until, task, inits, dir };
  }

  it('a copy goes only to an idle process; cancelling the running original kills and replaces its process, with no outcome', async () => {
    const { pool, outcomes, returned, until, task, inits, dir } = copyPool();
    pool.start();
    try {
      await until(() => pool.capacity() === 2, 'both processes ready');
      const original = task('slow-7.txt');
      const other = task('quick-8.txt');
      pool.dispatch(original);
      // The first run() of slow-7 sleeps: it must be the original's, so the copy starts only once
      // the original runs (on a loaded machine the copy could otherwise get there first).
      await until(() => existsSync(join(dir, 'slow-7.txt.marker')), 'the original running');
      pool.dispatch(other);
      const copy: AttemptTask = { batch: original.batch, attempt: 1 };
      assert.equal(pool.startCopy(copy), false, 'no process is idle while both hold a task');
      await until(() => outcomes.length === 1, 'the quick task');
      assert.equal(pool.startCopy(copy), true, 'the process that finished is idle now');
      await until(() => outcomes.length === 2, 'the copy');
      assert.equal(outcomes[1]?.task, copy, 'the copy finished, the original still sleeps');
      assert.equal(outcomes[1]?.returned, 1);
      assert.equal(pool.cancel(original), true);
      assert.equal(pool.cancel({ batch: original.batch, attempt: 1 }), false, 'tasks are told apart by identity');
      await until(() => inits() === 3, 'a replacement process (init again)');
      assert.equal(outcomes.length, 2, 'the cancelled original produced no outcome');
      assert.deepEqual(returned, []);
    } finally {
      await pool.terminate();
    }
  });

  it('a cancelled task queued behind a running one produces no outcome; the running one is not disturbed', async () => {
    const { pool, outcomes, returned, until, task, inits } = copyPool(2);
    pool.start();
    try {
      await until(() => pool.capacity() === 4, 'both processes ready');
      const head = task('quick-1.txt');
      const queued = task('quick-2.txt');
      const third = task('quick-3.txt');
      // Process 0 gets 1 and 3 (least loaded first), process 1 gets 2.
      pool.dispatch(head);
      pool.dispatch(queued);
      pool.dispatch(third);
      assert.equal(pool.cancel(third), true);
      await until(() => outcomes.length === 2, 'the two others');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(outcomes.map((outcome) => outcome.task.batch.id).sort(), [1, 2]);
      assert.equal(inits(), 2, 'no process was replaced for a queued task');
      assert.deepEqual(returned, []);
    } finally {
      await pool.terminate();
    }
  });
});

describe('WorkerPool: tasks go out in few writes', () => {
  it('tasks assigned one at a time to a process with work in hand share a write', async () => {
    const dir = tempDir('mb-pool-writes-');
    // The script counts the 'run' messages its process receives, in a file; its first run()
    // sleeps, so the process holds every task dispatched meanwhile.
    writeFileSync(
      join(dir, 'script.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'let runMessages = 0;',
        "export function init() { process.on('message', (message) => { if (message.t === 'run') runMessages++; }); }",
        'let first = true;',
        'export async function run(files) {',
        '  if (first) { first = false; await new Promise((resolve) => setTimeout(resolve, 500)); }',
        `  writeFileSync(${JSON.stringify(join(dir, 'messages'))}, String(runMessages));`,
        '  return files;',
        '}',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'a.txt'), 'x\n');
    const outcomes: AttemptOutcome[] = [];
    let ready = () => {};
    let finished = () => {};
    const pool = new WorkerPool(
      poolOptions(dir, 'script.mjs', 1, { maxInitFailures: 1, tasksPerProcess: 64 }),
      {
        onOutcome: (outcome) => {
          outcomes.push(outcome);
          if (outcomes.length === 40) finished();
        },
        onReturned: () => assert.fail('no task is handed back'),
        onCapacity: () => ready(),
        onLog: () => {},
        onNodeFailed: (failure) => assert.fail(failure.message),
      },
    );
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const allDone = new Promise<void>((resolve) => (finished = resolve));
    pool.start();
    try {
      await isReady;
      // One task per microtask, as the partitioner feeds tasks from its listing.
      for (let id = 1; id <= 40; id++) {
        pool.dispatch({ batch: { id, items: 1, descriptor: { kind: 'files', files: [join(dir, 'a.txt')] } }, attempt: 1 });
        await Promise.resolve();
      }
      await allDone;
      assert.ok(outcomes.every((outcome) => outcome.returned === 1 && !outcome.failure));
      const messages = Number(readFileSync(join(dir, 'messages'), 'utf8'));
      // The first 4 tasks go at once (the process holds fewer than 4); the other 36 in one write.
      assert.equal(messages, 5, `40 tasks reached the process in ${messages} messages`);
    } finally {
      await pool.terminate();
    }
  });
});
