import { findRunDir } from '../../store/run-catalog.js';
import { minibatchHome } from '../../logs/run-directory.js';
import { runParallelJob, type RunJobResult } from '../../run/run-parallel-job.js';
import { formatClock } from '../../logs/format-duration.js';
import { EXIT, ignoreFirstSignalWhileExiting } from '../exit.js';
import { ProgressDisplay } from '../progress-display.js';
import { discardSpares } from '../../worker/spare-processes.js';
import { isPipelineSource } from '../../pipeline/pipeline-file.js';
import { YamlSource } from '../../spec/yaml-source.js';

export interface RunCommandOptions {
  set: string[];
  compute?: string;
  python?: string;
  json?: boolean;
  /** `job resume <run-id>`: the run to go on with. */
  resume?: string;
  allowChanges?: boolean;
  /** With `resume`: failed mini-batches run again too. */
  failedOnly?: boolean;
  /** Pipelines: run every step, reuse nothing. */
  forceRerun?: boolean;
}

/** `minibatch run <job.yml>` and `minibatch job create --file <job.yml>`: run a job and wait. */
export async function runCommand(jobFile: string, options: RunCommandOptions): Promise<number> {
  // Read once: a pipeline loads its own modules (only then), a job goes on with this reading.
  const source = options.resume ? undefined : YamlSource.read(jobFile);
  if (source && isPipelineSource(source)) return (await import('./pipeline.js')).runPipelineCommand(jobFile, options);
  const display = new ProgressDisplay(process.stderr);
  const cancel = new AbortController();
  let interrupts = 0;
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    stoppedBy ??= signal;
    if (interrupts > 1) process.exit(signal === 'SIGINT' ? EXIT.sigint : 143);
    display.message(`minibatch: ${signal}: stopping: no new mini-batch starts, running ones may finish (again to quit at once)`);
    cancel.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: RunJobResult;
  try {
    result = await runParallelJob({
      jobFile,
      source,
      sets: options.set,
      computeOverride: options.compute,
      python: options.python,
      resume: options.resume ? { runDir: runDirectoryOf(options.resume), allowChanges: options.allowChanges === true, failedOnly: options.failedOnly === true } : undefined,
      signal: cancel.signal,
      onEvent: (event) => {
        switch (event.type) {
          case 'notice':
            display.message(`notice: ${event.message}`);
            break;
          case 'warning':
            display.message(`warning: ${event.message}`);
            break;
          case 'started':
            display.message(`run ${event.runId}: ${event.processes} worker process(es); logs in ${event.runDir}/logs`);
            break;
          case 'progress':
            display.update(event.snapshot);
            break;
          case 'log':
            if (event.level === 'WARNING') display.message(`warning: ${event.message}`);
            break;
        }
      },
    });
  } finally {
    discardSpares();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ignoreFirstSignalWhileExiting();
  }
  const { result: outcome } = result;
  display.stop({
    elapsedMs: outcome.elapsedMs,
    totalBatches: outcome.totalBatches,
    scheduledBatches: outcome.totalBatches,
    running: 0,
    retrying: 0,
    succeededBatches: outcome.succeededBatches,
    failedBatches: outcome.failedBatches,
    succeededItems: outcome.succeededItems,
    failedItems: outcome.failedItems,
    batchesPerSecond: outcome.elapsedMs > 0 ? (outcome.finishedBatches * 1000) / outcome.elapsedMs : 0,
    etaMs: 0,
  });

  if (options.json) {
    process.stdout.write(`${JSON.stringify(jsonSummary(result), null, 2)}\n`);
  } else {
    const lines: string[] = [];
    const verb = result.status === 'succeeded' ? 'Succeeded' : result.status === 'cancelled' ? 'Cancelled' : 'Failed';
    lines.push(
      `${verb}: ${outcome.succeededBatches} of ${outcome.totalBatches} mini-batches succeeded, ${outcome.failedBatches} failed; ` +
        `${outcome.succeededItems} items succeeded, ${outcome.failedItems} failed; ${outcome.retries} retries; in ${formatClock(outcome.elapsedMs)}`,
    );
    if (outcome.reason) lines.push(`Reason: ${outcome.reason}`);
    if (outcome.firstError && result.status !== 'succeeded') {
      const first = outcome.firstError;
      const where = first.batchId !== undefined ? ` (mini-batch ${first.batchId}, try ${first.attempt}, ${first.worker})` : '';
      lines.push(`First error${where}: ${first.message}`);
      // The engine's own frames say nothing about a script that cannot load: only script tracebacks are shown.
      const trace = first.kind === 'invalid-script' ? undefined : first.error?.stack?.split('\n').slice(0, 6).join('\n');
      if (trace) lines.push(trace.replace(/^/gm, '    '));
    } else if (outcome.firstError) {
      lines.push(`First failure (mini-batch ${outcome.firstError.batchId}): ${outcome.firstError.message}`);
    }
    if (result.output) lines.push(`Output: ${result.output.path} (${result.output.rows} rows)`);
    if (result.status !== 'succeeded') lines.push(`Resumable: minibatch job resume ${result.runId} (committed mini-batches are kept)`);
    lines.push(`Details: ${result.jobResultPath}`);
    const stream = result.status === 'succeeded' ? process.stdout : process.stderr;
    stream.write(`${lines.join('\n')}\n`);
  }
  // A run stopped by a signal exits as shells expect: 128 + the signal's number.
  if (result.status === 'cancelled' && stoppedBy === 'SIGTERM') return 143;
  return result.exitCode;
}

function jsonSummary(result: RunJobResult) {
  const { result: outcome } = result;
  return {
    runId: result.runId,
    runDir: result.runDir,
    status: result.status,
    compute: result.compute,
    exitCode: result.exitCode,
    reason: outcome.reason ?? null,
    miniBatches: { total: outcome.totalBatches, succeeded: outcome.succeededBatches, failed: outcome.failedBatches, retries: outcome.retries },
    items: { succeeded: outcome.succeededItems, failed: outcome.failedItems },
    speculativeCopies: outcome.speculativeCopies,
    elapsedSeconds: Math.round(outcome.elapsedMs) / 1000,
    firstError: outcome.firstError ?? null,
    output: result.output ?? null,
    jobResult: result.jobResultPath,
  };
}

/** A run id under the minibatch home, or a run directory's path. */
function runDirectoryOf(idOrPath: string): string {
  return findRunDir(idOrPath, minibatchHome());
}
