/**
 * A deadline for one task at a time, moved on task after task with one timer: the timer stays
 * armed between tasks and, when it fires before the current task's deadline, is set again for
 * the rest. A timer set and cleared per mini-batch was a tenth of a worker's time on trivial
 * ones, and a measurable share of the controller's (the worker's run() timeout and the pool's
 * kill both use this).
 */
export class Deadline {
  #timer: NodeJS.Timeout | undefined;
  #dueAt = 0;
  #onExpired: (() => void) | undefined;

  /** Calls `onExpired` in `ms` unless stop(), cancel() or another start() comes first. */
  start(ms: number, onExpired: () => void): void {
    this.#dueAt = performance.now() + ms;
    this.#onExpired = onExpired;
    if (!this.#timer) this.#arm(ms);
  }

  /** No deadline now; the timer may stay armed and fire into nothing. */
  stop(): void {
    this.#onExpired = undefined;
  }

  /** No deadline and no timer (the process it guards is gone). */
  cancel(): void {
    this.#onExpired = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#onExpired) return;
      const left = this.#dueAt - performance.now();
      if (left > 0) return this.#arm(left);
      const expired = this.#onExpired;
      this.#onExpired = undefined;
      expired();
    }, ms);
    this.#timer.unref();
  }
}
