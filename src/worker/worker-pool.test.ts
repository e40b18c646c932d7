import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerPool, type NodeFailure } from './worker-pool.js';

describe('WorkerPool: a process that cannot be started', () => {
  it('fails the node (no throw out of start(), no hang) when fork throws, e.g. on a NUL byte in the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-pool-'));
    const failures: NodeFailure[] = [];
    const failed = new Promise<void>((resolve) => {
      const pool = new WorkerPool(
        {
          nodeRank: 0,
          processes: 2,
          firstGlobalRank: 0,
          setup: { entryScript: join(dir, 's.mjs'), code: dir, worldSize: 2, programArguments: [], inputs: {}, outputs: {}, loggingLevel: 'INFO', timeoutMs: 1000, overheadTimeoutMs: 1000, appendRowHeader: false },
          env: { BAD: 'x\0y' },
          cwd: dir,
          timeoutMs: 1000,
          killGraceMs: 100,
          maxInitFailures: 6,
          tasksPerProcess: 1,
          logs: { stdout: (_, p) => join(dir, `out-${p}.txt`), stderr: (_, p) => join(dir, `err-${p}.txt`), error: (_, p) => join(dir, `error-${p}.txt`) },
          runtime: { kind: 'node' },
        },
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
