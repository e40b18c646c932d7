import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutoSizer, type AutoSizerSettings } from './auto-sizer.js';

const FILES: AutoSizerSettings = { targetMs: 10_000, initial: 1, minimum: 1, processes: 2, growthFactor: 4 };

/** Hands out a mini-batch of the size the sizer asks for and finishes it at `msPerUnit`. */
function step(sizer: AutoSizer, id: number, msPerUnit: number, remaining?: number): number {
  const size = sizer.next(remaining);
  sizer.planned(id, size);
  sizer.finished(id, size * msPerUnit, 'succeeded');
  return size;
}

describe('AutoSizer', () => {
  it('starts at the initial size until something has been measured', () => {
    const sizer = new AutoSizer(FILES);
    assert.equal(sizer.next(), 1);
    sizer.planned(0, 1);
    sizer.planned(1, 1);
    assert.equal(sizer.next(), 1, 'handed out but unfinished mini-batches measure nothing');
    assert.equal(sizer.msPerUnit, undefined);
  });

  it('grows at most 4x the largest measured mini-batch per step, up to the target', () => {
    const sizer = new AutoSizer(FILES);
    // 10 ms per file: 1000 files make 10 s.
    const sizes = Array.from({ length: 8 }, (_, id) => step(sizer, id, 10));
    assert.deepEqual(sizes, [1, 4, 16, 64, 256, 1000, 1000, 1000]);
  });

  it('never exceeds the target once the rate is known, and never goes below the minimum', () => {
    const slow = new AutoSizer(FILES);
    // 30 s per file: even one file overshoots the 10 s target; one it is.
    assert.deepEqual([step(slow, 0, 30_000), step(slow, 1, 30_000)], [1, 1]);
    const exact = new AutoSizer(FILES);
    assert.deepEqual([0, 1, 2].map((id) => step(exact, id, 5_000)), [1, 2, 2]);
  });

  it('takes the median of recent rates, so one outlier does not move the size', () => {
    const sizer = new AutoSizer({ ...FILES, window: 5 });
    for (let id = 0; id < 6; id++) step(sizer, id, 10);
    const before = sizer.next();
    sizer.planned(100, before);
    sizer.finished(100, before * 1000, 'succeeded'); // one mini-batch 100x slower
    assert.equal(sizer.msPerUnit, 10);
    assert.equal(sizer.next(), before);
  });

  it('shrinks when the script slows down', () => {
    const sizer = new AutoSizer({ ...FILES, window: 3 });
    for (let id = 0; id < 8; id++) step(sizer, id, 10);
    assert.equal(sizer.next(), 1000);
    for (let id = 8; id < 11; id++) {
      sizer.planned(id, 1000);
      sizer.finished(id, 1000 * 100, 'succeeded');
    }
    assert.equal(sizer.msPerUnit, 100);
    assert.equal(sizer.next(), 100);
  });

  it('learns from a timeout (a lower bound), not from other failures', () => {
    const sizer = new AutoSizer(FILES);
    sizer.planned(0, 1);
    sizer.finished(0, 1, 'failed'); // an exception at once says nothing about speed
    assert.equal(sizer.msPerUnit, undefined);
    sizer.planned(1, 4);
    sizer.finished(1, 60_000, 'timeout');
    assert.equal(sizer.msPerUnit, 15_000);
    assert.equal(sizer.next(), 1);
  });

  it('ignores what it did not hand out and counts each mini-batch once', () => {
    const sizer = new AutoSizer(FILES);
    sizer.finished(7, 10, 'succeeded');
    assert.equal(sizer.msPerUnit, undefined);
    sizer.planned(0, 2);
    sizer.finished(0, 20, 'succeeded');
    sizer.finished(0, 20_000, 'succeeded'); // a duplicate delivery
    assert.equal(sizer.msPerUnit, 10);
  });

  it('near the end, shares what remains between the processes', () => {
    const sizer = new AutoSizer({ ...FILES, processes: 4 });
    for (let id = 0; id < 8; id++) step(sizer, id, 10);
    assert.equal(sizer.next(), 1000);
    assert.equal(sizer.next(10_000), 1000);
    assert.equal(sizer.next(1000), 250);
    assert.equal(sizer.next(6), 2, 'rounded up: 6 files on 4 processes');
    assert.equal(sizer.next(1), 1);
    assert.equal(sizer.next(0), 1, 'never zero');
  });

  it('sizes bytes the same way (a table: per-byte time from 64 KB up)', () => {
    const sizer = new AutoSizer({ targetMs: 1000, initial: 65_536, minimum: 1, processes: 1, growthFactor: 4 });
    // 1 ms per KB: 1000 KB per second.
    const sizes = Array.from({ length: 4 }, (_, id) => step(sizer, id, 1 / 1024));
    assert.deepEqual(sizes, [65_536, 262_144, 1_024_000, 1_024_000]);
  });

  it('a script too quick to measure grows by the factor alone', () => {
    const sizer = new AutoSizer(FILES);
    assert.deepEqual([0, 1, 2, 3].map((id) => step(sizer, id, 0)), [1, 4, 16, 64]);
  });

  it('rejects settings that cannot size anything', () => {
    assert.throws(() => new AutoSizer({ ...FILES, targetMs: 0 }), RangeError);
    assert.throws(() => new AutoSizer({ ...FILES, growthFactor: 1 }), RangeError);
    assert.throws(() => new AutoSizer({ ...FILES, minimum: 0, initial: 0 }), RangeError);
  });
});
