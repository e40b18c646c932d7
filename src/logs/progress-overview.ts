import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProgressSnapshot } from '../scheduling/scheduler.js';
import { formatClock } from './format-duration.js';
import type { RunDirectory } from './run-directory.js';

/** One line of `job_progress_overview.<yyyymmddhh>.txt`, in the reference's words. */
export function overviewLine(snapshot: ProgressSnapshot): string {
  const finished = snapshot.succeededBatches + snapshot.failedBatches;
  const of = snapshot.totalBatches === undefined ? `${snapshot.scheduledBatches}+ (still listing the input)` : String(snapshot.totalBatches);
  const eta = snapshot.etaMs === undefined ? 'Estimated remaining time unknown.' : `Estimated remaining time ${formatClock(snapshot.etaMs)}.`;
  const failed = snapshot.failedBatches > 0 ? ` ${snapshot.failedBatches} failed.` : '';
  return `Processed ${finished} of ${of} mini batches in ${formatClock(snapshot.elapsedMs)}.${failed} ${eta}`;
}

export function appendProgressOverview(directory: RunDirectory, snapshot: ProgressSnapshot, at = new Date()): void {
  appendFileSync(directory.progressOverview(at), `${at.toISOString()} ${overviewLine(snapshot)}\n`);
}

/**
 * `state/progress.json`: the latest snapshot, for readers in other processes (the studio,
 * `job show`). Rewritten atomically, at most once a second, and once at the end.
 */
export class ProgressFile {
  #lastWrite = 0;
  constructor(readonly path: string) {}

  update(snapshot: ProgressSnapshot, force = false): void {
    const now = Date.now();
    if (!force && now - this.#lastWrite < 1_000) return;
    this.#lastWrite = now;
    writeFileSync(`${this.path}.tmp`, `${JSON.stringify({ at: new Date(now).toISOString(), ...snapshot })}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
}
