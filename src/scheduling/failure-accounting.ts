/** The thresholds of DESIGN.md §5; -1 (or 100 %) means "ignore all failures". */
export interface ThresholdSettings {
  /** Allowed failed items in the whole job. */
  errorThreshold: number;
  /** Allowed failed mini-batches (mini_batch_error_threshold / allowed_failed_count). */
  miniBatchErrorThreshold: number;
  /** Allowed failed mini-batches in percent, checked once every mini-batch has been scheduled. */
  allowedFailedPercent: number;
}

export interface ThresholdBreach {
  setting: 'error_threshold' | 'mini_batch_error_threshold' | 'allowed_failed_percent';
  message: string;
}

/**
 * Counts final outcomes. Only a mini-batch's final attempt counts (a batch that fails once
 * and then succeeds is not a failure), which is DESIGN.md's rule.
 */
export class FailureAccounting {
  succeededBatches = 0;
  failedBatches = 0;
  succeededItems = 0;
  failedItems = 0;

  constructor(readonly settings: ThresholdSettings) {}

  get finishedBatches(): number {
    return this.succeededBatches + this.failedBatches;
  }

  /**
   * Records a final outcome: `items` inputs, `returned` elements from the final attempt, and
   * `unreadable` input rows that never reached the script (for a partition, which is one item,
   * any unreadable row makes that item failed).
   */
  record(items: number, returned: number, failed: boolean, unreadable = 0): void {
    const failedItems = Math.max(items - Math.min(items, returned), Math.min(items, unreadable));
    this.succeededItems += items - failedItems;
    this.failedItems += failedItems;
    if (failed) this.failedBatches++;
    else this.succeededBatches++;
  }

  /** Counts a mini-batch committed in an earlier session of the run (resume). */
  restore(batch: { status: 'succeeded' | 'failed'; items: number; failedItems: number }): void {
    this.succeededItems += batch.items - batch.failedItems;
    this.failedItems += batch.failedItems;
    if (batch.status === 'failed') this.failedBatches++;
    else this.succeededBatches++;
  }

  /**
   * The first threshold exceeded, if any. `totalBatches` is known only once every mini-batch
   * has been scheduled; until then the percentage is not checked (as in the reference).
   */
  check(totalBatches: number | undefined): ThresholdBreach | undefined {
    const { errorThreshold, miniBatchErrorThreshold, allowedFailedPercent } = this.settings;
    if (errorThreshold >= 0 && this.failedItems > errorThreshold) {
      return { setting: 'error_threshold', message: `error_threshold exceeded: ${this.failedItems} failed items > ${errorThreshold} allowed` };
    }
    if (miniBatchErrorThreshold >= 0 && this.failedBatches > miniBatchErrorThreshold) {
      return {
        setting: 'mini_batch_error_threshold',
        message: `mini_batch_error_threshold exceeded: ${this.failedBatches} failed mini-batches > ${miniBatchErrorThreshold} allowed`,
      };
    }
    if (totalBatches !== undefined && totalBatches > 0 && allowedFailedPercent < 100) {
      const percent = (this.failedBatches * 100) / totalBatches;
      if (percent > allowedFailedPercent) {
        return {
          setting: 'allowed_failed_percent',
          message: `allowed_failed_percent exceeded: ${this.failedBatches} of ${totalBatches} mini-batches failed (${round(percent)}%) > ${allowedFailedPercent}% allowed`,
        };
      }
    }
    return undefined;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
