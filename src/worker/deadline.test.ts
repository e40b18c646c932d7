import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadline } from './deadline.js';

describe('Deadline', () => {
  it("fires for the task that overruns, after a quick one whose deadline armed the timer; a stopped task's never fires", async () => {
    const deadline = new Deadline();
    const fired: string[] = [];
    deadline.start(40, () => fired.push('quick'));
    await sleep(10);
    deadline.stop(); // the quick task ended in time
    deadline.start(60, () => fired.push('slow')); // the timer armed for the first fires early and moves on
    for (let waited = 0; fired.length === 0 && waited < 5_000; waited += 10) await sleep(10);
    await sleep(50); // nothing else comes after it
    assert.deepEqual(fired, ['slow']);
  });

  it('fires nothing once stopped or cancelled', async () => {
    const stopped = new Deadline();
    const cancelled = new Deadline();
    const fired: string[] = [];
    stopped.start(10, () => fired.push('stopped'));
    cancelled.start(10, () => fired.push('cancelled'));
    stopped.stop();
    cancelled.cancel();
    await sleep(50);
    assert.deepEqual(fired, []);
  });
});
