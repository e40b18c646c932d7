import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureAccounting, type ThresholdSettings } from './failure-accounting.js';

const IGNORE_ALL: ThresholdSettings = { errorThreshold: -1, miniBatchErrorThreshold: -1, allowedFailedPercent: 100 };

function accounting(settings: Partial<ThresholdSettings>): FailureAccounting {
  return new FailureAccounting({ ...IGNORE_ALL, ...settings });
}

describe('FailureAccounting.record', () => {
  it('counts a succeeded mini-batch and its items', () => {
    const counts = accounting({});
    counts.record(10, 10, false);
    assert.deepEqual(
      { sb: counts.succeededBatches, fb: counts.failedBatches, si: counts.succeededItems, fi: counts.failedItems, done: counts.finishedBatches },
      { sb: 1, fb: 0, si: 10, fi: 0, done: 1 },
    );
  });

  it('counts every item of a mini-batch that never returned as failed', () => {
    const counts = accounting({});
    counts.record(5, 0, true);
    assert.deepEqual(
      { sb: counts.succeededBatches, fb: counts.failedBatches, si: counts.succeededItems, fi: counts.failedItems, done: counts.finishedBatches },
      { sb: 0, fb: 1, si: 0, fi: 5, done: 1 },
    );
  });

  it('counts the items missing from a partial return as failed', () => {
    const counts = accounting({});
    counts.record(10, 7, true);
    assert.equal(counts.succeededItems, 7);
    assert.equal(counts.failedItems, 3);
    assert.equal(counts.failedBatches, 1);
  });

  it('counts no failed item when more elements than inputs are returned', () => {
    const counts = accounting({});
    counts.record(3, 5, false);
    assert.equal(counts.succeededItems, 3);
    assert.equal(counts.failedItems, 0);
    assert.equal(counts.succeededBatches, 1);
  });

  it('adds up over mini-batches', () => {
    const counts = accounting({});
    counts.record(10, 10, false);
    counts.record(10, 4, true);
    counts.record(10, 0, true);
    counts.record(2, 9, false);
    assert.equal(counts.succeededBatches, 2);
    assert.equal(counts.failedBatches, 2);
    assert.equal(counts.finishedBatches, 4);
    assert.equal(counts.succeededItems, 10 + 4 + 0 + 2);
    assert.equal(counts.failedItems, 0 + 6 + 10 + 0);
  });
});

describe('FailureAccounting.check', () => {
  it('reports nothing before anything failed', () => {
    const counts = accounting({ errorThreshold: 0, miniBatchErrorThreshold: 0, allowedFailedPercent: 0 });
    assert.equal(counts.check(undefined), undefined);
    counts.record(4, 4, false);
    assert.equal(counts.check(1), undefined);
  });

  describe('error_threshold (failed items)', () => {
    it('is not exceeded at the threshold, and is one item past it', () => {
      const counts = accounting({ errorThreshold: 5 });
      counts.record(10, 5, true); // 5 failed items
      assert.equal(counts.check(undefined), undefined, 'equal to the threshold is not exceeded');
      counts.record(10, 9, true); // 6
      assert.deepEqual(counts.check(undefined), {
        setting: 'error_threshold',
        message: 'error_threshold exceeded: 6 failed items > 5 allowed',
      });
    });

    it('counts items, not mini-batches', () => {
      const counts = accounting({ errorThreshold: 2 });
      counts.record(1, 0, true);
      counts.record(1, 0, true);
      assert.equal(counts.check(undefined), undefined, 'two failed batches of one item each are 2 items');
      const many = accounting({ errorThreshold: 2 });
      many.record(3, 0, true);
      assert.equal(many.check(undefined)?.setting, 'error_threshold', 'one failed batch of three items is 3 items');
    });

    it('0 allows no failed item', () => {
      const counts = accounting({ errorThreshold: 0 });
      counts.record(4, 3, true);
      assert.equal(counts.check(undefined)?.message, 'error_threshold exceeded: 1 failed items > 0 allowed');
    });

    it('-1 ignores every failure', () => {
      const counts = accounting({ errorThreshold: -1 });
      counts.record(1000, 0, true);
      assert.equal(counts.check(undefined), undefined);
    });
  });

  describe('mini_batch_error_threshold (failed mini-batches)', () => {
    it('is not exceeded at the threshold, and is one mini-batch past it', () => {
      const counts = accounting({ miniBatchErrorThreshold: 2 });
      counts.record(10, 0, true);
      counts.record(10, 0, true);
      assert.equal(counts.check(undefined), undefined);
      counts.record(10, 0, true);
      assert.deepEqual(counts.check(undefined), {
        setting: 'mini_batch_error_threshold',
        message: 'mini_batch_error_threshold exceeded: 3 failed mini-batches > 2 allowed',
      });
    });

    it('counts mini-batches, not items', () => {
      const counts = accounting({ miniBatchErrorThreshold: 1 });
      counts.record(100, 0, true);
      assert.equal(counts.check(undefined), undefined, 'one failed mini-batch of 100 items is 1 mini-batch');
    });

    it('does not count succeeded mini-batches, even with missing items', () => {
      const counts = accounting({ miniBatchErrorThreshold: 0 });
      counts.record(5, 5, false);
      counts.record(5, 9, false);
      assert.equal(counts.check(undefined), undefined);
    });

    it('-1 ignores every failure', () => {
      const counts = accounting({ miniBatchErrorThreshold: -1 });
      for (let i = 0; i < 50; i++) counts.record(1, 0, true);
      assert.equal(counts.check(10), undefined);
    });
  });

  describe('allowed_failed_percent', () => {
    it('is checked only once the total is known', () => {
      const counts = accounting({ allowedFailedPercent: 10 });
      counts.record(1, 0, true);
      assert.equal(counts.check(undefined), undefined, 'the total is not known yet');
      assert.deepEqual(counts.check(4), {
        setting: 'allowed_failed_percent',
        message: 'allowed_failed_percent exceeded: 1 of 4 mini-batches failed (25%) > 10% allowed',
      });
    });

    it('is not exceeded at the threshold', () => {
      const counts = accounting({ allowedFailedPercent: 25 });
      counts.record(1, 0, true);
      assert.equal(counts.check(4), undefined, '25% of failed mini-batches is allowed by 25');
      counts.record(1, 0, true);
      assert.equal(counts.check(4)?.message, 'allowed_failed_percent exceeded: 2 of 4 mini-batches failed (50%) > 25% allowed');
    });

    it('rounds the percentage in the message to two decimals', () => {
      const counts = accounting({ allowedFailedPercent: 30 });
      counts.record(1, 0, true);
      counts.record(1, 0, true);
      counts.record(1, 0, true);
      counts.record(1, 0, true);
      assert.equal(counts.check(12)?.message, 'allowed_failed_percent exceeded: 4 of 12 mini-batches failed (33.33%) > 30% allowed');
    });

    it('100 ignores every failure', () => {
      const counts = accounting({ allowedFailedPercent: 100 });
      counts.record(1, 0, true);
      counts.record(1, 0, true);
      assert.equal(counts.check(2), undefined);
    });

    it('0 allows no failed mini-batch', () => {
      const counts = accounting({ allowedFailedPercent: 0 });
      counts.record(1, 1, false);
      assert.equal(counts.check(1), undefined);
      counts.record(1, 0, true);
      assert.equal(counts.check(2)?.setting, 'allowed_failed_percent');
    });

    it('is not checked for an empty job', () => {
      assert.equal(accounting({ allowedFailedPercent: 0 }).check(0), undefined);
    });
  });

  describe('combined', () => {
    it('reports the first threshold exceeded, in the order items, mini-batches, percent', () => {
      const all = accounting({ errorThreshold: 0, miniBatchErrorThreshold: 0, allowedFailedPercent: 0 });
      all.record(2, 0, true);
      assert.equal(all.check(1)?.setting, 'error_threshold');

      const batchesAndPercent = accounting({ errorThreshold: 10, miniBatchErrorThreshold: 0, allowedFailedPercent: 0 });
      batchesAndPercent.record(2, 0, true);
      assert.equal(batchesAndPercent.check(1)?.setting, 'mini_batch_error_threshold');

      const percentOnly = accounting({ errorThreshold: 10, miniBatchErrorThreshold: 5, allowedFailedPercent: 0 });
      percentOnly.record(2, 0, true);
      assert.equal(percentOnly.check(1)?.setting, 'allowed_failed_percent');
    });

    it('reports a later threshold when an earlier one is set to ignore', () => {
      const counts = accounting({ errorThreshold: -1, miniBatchErrorThreshold: 1 });
      counts.record(100, 0, true);
      counts.record(100, 0, true);
      assert.deepEqual(counts.check(undefined), {
        setting: 'mini_batch_error_threshold',
        message: 'mini_batch_error_threshold exceeded: 2 failed mini-batches > 1 allowed',
      });
    });

    it('reports nothing while every threshold holds', () => {
      const counts = accounting({ errorThreshold: 3, miniBatchErrorThreshold: 1, allowedFailedPercent: 50 });
      counts.record(2, 1, true);
      counts.record(2, 2, false);
      assert.equal(counts.check(2), undefined);
    });
  });
});
