import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBaseContext, miniBatchContext, type MiniBatchSignal } from './entry-script-context.js';

const setup = {
  entryScript: '/x/score.mjs',
  code: '/x',
  nodeRank: 0,
  processRank: 1,
  globalRank: 1,
  worldSize: 2,
  programArguments: ['--model', 'm1'],
  inputs: { data: '/in' },
  outputs: { result: '/out' },
  loggingLevel: 'INFO' as const,
  timeoutMs: 1000,
  overheadTimeoutMs: 1000,
  appendRowHeader: false,
};

describe('miniBatchContext', () => {
  it('has the base context fields, in the same order, with the mini-batch id, try, partition key and an enumerable signal', () => {
    const base = createBaseContext(setup, new AbortController().signal);
    const ctx = miniBatchContext(base, 7, 2, { store: 'a' }, { abort: undefined, timedOut: undefined });
    assert.deepEqual(Object.keys(ctx), Object.keys(base));
    assert.equal(ctx.miniBatchId, 7);
    assert.equal(ctx.attempt, 2);
    assert.deepEqual(ctx.partitionKeyValue, { store: 'a' });
    assert.equal(ctx.programArguments.parsed.model, 'm1');
    assert.equal(ctx.logger, base.logger);
    assert.ok('signal' in { ...ctx }, 'a spread copy keeps signal');
  });

  it("gives each mini-batch its own signal, made on first read, aborted with the timeout's error even when read late", () => {
    const base = createBaseContext(setup, new AbortController().signal);
    const first: MiniBatchSignal = { abort: undefined, timedOut: undefined };
    const second: MiniBatchSignal = { abort: undefined, timedOut: undefined };
    const a = miniBatchContext(base, 0, 1, undefined, first);
    const b = miniBatchContext(base, 1, 1, undefined, second);
    assert.equal(first.abort, undefined, 'no AbortController until the script reads signal');
    const signalA = a.signal;
    assert.equal(a.signal, signalA, 'the same signal on every read');
    assert.equal(signalA.aborted, false);
    const timeout = new Error('run() timed out');
    second.timedOut = timeout;
    assert.equal(b.signal.aborted, true, 'read after the timeout: already aborted');
    assert.equal(b.signal.reason, timeout);
    assert.equal(signalA.aborted, false, "another mini-batch's timeout does not touch this one");
    assert.notEqual(a.signal, b.signal);
  });
});
