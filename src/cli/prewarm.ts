import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse } from 'yaml';
import { JOB_DEFAULTS } from '../spec/defaults.js';
import { prewarmNodeWorkers, prewarmPythonWorker } from '../worker/worker-process.js';

/** More spares than this are not forked ahead: the pool forks the rest, as it would anyway. */
const MAX_SPARES = 16;
const NODE_SCRIPT = /\.(m|c)?(j|t)s$/;
const PYTHON_SCRIPT = /\.py$/;

/**
 * `minibatch run job.yml`, before the engine is even loaded: how many Node worker processes the
 * job will want on this machine, read from the raw YAML, and that many spares forked now so their
 * start-up overlaps the controller's; for a Python script, the bridge bin/minibatch.js started is
 * kept for the pool. Only a hint: the job is validated later as always, a spare the job does not
 * use is discarded, and anything unclear (a pipeline, another compute, a file that does not
 * parse) forks none.
 */
export function prewarmForJobFile(jobFile: string, options: { compute?: string | undefined }): void {
  const job = localParallelJob(jobFile, options);
  const script = job && isRecord(job.task) && typeof job.task.entry_script === 'string' ? job.task.entry_script : '';
  // Also with 0 or false: the process bin/minibatch.js started ahead, if any, is then killed.
  prewarmNodeWorkers(job && NODE_SCRIPT.test(script) ? Math.min(MAX_SPARES, processesWanted(job), sparesBesideTheController()) : 0);
  prewarmPythonWorker(job !== undefined && PYTHON_SCRIPT.test(script));
}

/** The job in `jobFile` when it is a parallel job that runs on this machine; undefined when unclear. */
function localParallelJob(jobFile: string, options: { compute?: string | undefined }): Record<string, unknown> | undefined {
  if ((options.compute ?? 'local') !== 'local') return undefined;
  let job: unknown;
  try {
    job = parse(readFileSync(jobFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(job) || job.type !== 'parallel' || (job.compute ?? 'local') !== 'local') return undefined;
  return job;
}

/** How many worker processes the job will want here. */
function processesWanted(job: Record<string, unknown>): number {
  const resources = isRecord(job.resources) ? job.resources : {};
  const instances = positiveInteger(resources.instance_count) ?? JOB_DEFAULTS.instanceCount;
  const processes = positiveInteger(job.max_concurrency_per_instance) ?? JOB_DEFAULTS.processesPerInstance();
  return instances * processes;
}

/**
 * As many spares as there are cores left beside the controller's (at least one): a spare's
 * start-up is ~100 ms of CPU, and more of them than free cores slow the controller, whose
 * start-up is what the first task waits for (on 2 cores, 2 spares made the first task ~60 ms
 * later than 1 did, measured). The pool forks the others when it starts, as it would anyway.
 */
function sparesBesideTheController(): number {
  return Math.max(1, availableParallelism() - 1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
