import { appendFileSync } from 'node:fs';
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
