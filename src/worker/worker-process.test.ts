import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { WorkerMessage } from './protocol.js';
import { pythonChannel } from './worker-process.js';

describe('Python channel', () => {
  /** A child's fd 3 and fd 4 as streams, and what was killed: the channel only needs these. */
  function fakeBridge() {
    const toBridge = new PassThrough();
    const fromBridge = new PassThrough();
    const signals: string[] = [];
    const child = { stdio: [null, null, null, toBridge, fromBridge], kill: (signal: string) => signals.push(signal) } as unknown as ChildProcess;
    const messages: WorkerMessage[] = [];
    pythonChannel(child).onMessage((message) => messages.push(message));
    const flushed = () => new Promise((resolve) => setImmediate(resolve));
    return { fromBridge, signals, messages, flushed };
  }

  it('reads JSON lines across chunks', async () => {
    const { fromBridge, messages, flushed } = fakeBridge();
    fromBridge.write('{"t":"re');
    fromBridge.write('ady"}\n{"t":"results","results":[]}\n');
    await flushed();
    assert.deepEqual(messages, [{ t: 'ready' }, { t: 'results', results: [] }]);
  });

  it('a line that is not a message is fatal, kills the process, and nothing it says afterwards counts, in this chunk or a later one', async () => {
    const { fromBridge, signals, messages, flushed } = fakeBridge();
    fromBridge.write('not json at all\n{"t":"results","results":[{"t":"done","id":0}]}\n');
    await flushed();
    fromBridge.write('{"t":"results","results":[{"t":"done","id":1}]}\n');
    await flushed();
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.t, 'fatal');
    assert.match(JSON.stringify(messages[0]), /not a message on its channel: not json at all/);
    assert.deepEqual(signals, ['SIGKILL']);
  });
});
