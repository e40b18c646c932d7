import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import type { SchedulerResult } from '../scheduling/scheduler.js';
import { formatClock } from './format-duration.js';

export interface JobResultReport {
  runId: string;
  status: 'Succeeded' | 'Failed' | 'Cancelled';
  startedAt: Date;
  result: SchedulerResult;
  job: ResolvedParallelJob;
  output: { path: string; rows: number } | undefined;
  /** What was split and how (plan-input's summary). */
  inputSummary: string;
  /** On a Redis compute: which agent served which node. */
  nodes?: ReadonlyMap<number, string> | undefined;
}

/**
 * `logs/job_result.txt`. The reason and the first root-cause error (with the script's
 * traceback) come first: the reference buries them behind `SystemExit: 42`, we do not.
 */
export function formatJobResult(report: JobResultReport): string {
  const { result, job } = report;
  const lines: string[] = [`Status: ${report.status}`];
  if (result.reason) lines.push(`Reason: ${result.reason}`);
  if (report.status !== 'Succeeded') lines.push(`Resumable: minibatch job resume ${report.runId} (committed mini-batches are kept; job rerun-failed re-runs failed ones)`);
  const first = result.firstError;
  if (first) {
    const where = [
      first.batchId !== undefined ? `mini-batch ${first.batchId}` : undefined,
      first.attempt !== undefined ? `try ${first.attempt} of ${job.maxRetries + 1}` : undefined,
      first.worker,
      first.kind,
    ].filter(Boolean);
    lines.push('', `First error (${where.join(', ')}):`);
    lines.push(indent(first.error?.stack ?? (first.error ? `${first.error.name}: ${first.error.message}` : first.message)));
    if (first.error && first.kind !== 'init' && first.message !== first.error.message) lines.push(indent(first.message));
  }
  const items = result.succeededItems + result.failedItems;
  lines.push(
    '',
    `Run: ${report.runId}`,
    `Started: ${report.startedAt.toISOString()}  Duration: ${formatClock(result.elapsedMs)}`,
    `Mini-batches: ${result.totalBatches} total, ${result.succeededBatches} succeeded, ${result.failedBatches} failed, ${result.totalBatches - result.finishedBatches} not finished; ${result.retries} retries`,
    `Items: ${items} finished, ${result.succeededItems} succeeded, ${result.failedItems} failed`,
    job.speculativeCopies ? `Speculative copies: ${result.speculativeCopies.started} started, ${result.speculativeCopies.won} won` : 'Speculative copies: off (speculative_copies: false)',
    report.output ? `Output: ${report.output.path} (${report.output.rows} rows)` : job.appendRow ? `Output: not written (the job did not succeed); committed rows are kept in state/` : 'Output: summary_only (the script writes its own outputs)',
    `Thresholds: error_threshold ${threshold(job.errorThreshold)}, mini_batch_error_threshold ${threshold(job.miniBatchErrorThreshold)}, allowed_failed_percent ${job.allowedFailedPercent}${job.allowedFailedPercent >= 100 ? ' (ignore)' : ''}`,
    `Input: ${report.inputSummary}`,
    `Settings: ${job.instanceCount} node(s) x ${job.processesPerInstance} process(es), max_retries ${job.maxRetries}, timeout ${job.timeoutMs / 1000}s`,
    `Compute: ${job.compute.name}${job.compute.kind === 'redis' ? ' (Redis, agents)' : ''}`,
  );
  if (report.nodes && report.nodes.size > 0) {
    lines.push(`Nodes: ${[...report.nodes].sort(([a], [b]) => a - b).map(([node, agent]) => `node-${node} = ${agent}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function threshold(value: number): string {
  return value < 0 ? `${value} (ignore)` : String(value);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
