import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse } from 'yaml';
import { JOB_DEFAULTS } from '../spec/defaults.js';
import { prewarmNodeWorkers } from '../worker/worker-process.js';

/** More spares than this are not forked ahead: the pool forks the rest, as it would anyway. */
const MAX_SPARES = 16;
const NODE_SCRIPT = /\.(m|c)?(j|t)s$/;

/**
 * `minibatch run job.yml`, before the engine is even loaded: how many Node worker processes the
 * job will want on this machine, read from the raw YAML, and that many spares forked now so their
 * start-up overlaps the controller's. Only a hint: the job is validated later as always, a spare
 * the job does not use is discarded, and anything unclear (a pipeline, another compute, a Python
 * script, a file that does not parse) forks none.
 */
export function prewarmForJobFile(jobFile: string, options: { compute?: string | undefined }): void {
  // Also with 0: the worker bin/minibatch.js forked ahead, if any, is then killed.
  prewarmNodeWorkers(Math.min(MAX_SPARES, nodeWorkersWanted(jobFile, options), sparesBesideTheController()));
}

/** How many Node worker processes the job in `jobFile` will want here: 0 when unclear. */
function nodeWorkersWanted(jobFile: string, options: { compute?: string | undefined }): number {
  if ((options.compute ?? 'local') !== 'local') return 0;
  let job: unknown;
  try {
    job = parse(readFileSync(jobFile, 'utf8'));
  } catch {
    return 0;
  }
  if (!isRecord(job) || job.type !== 'parallel' || (job.compute ?? 'local') !== 'local') return 0;
  const task = job.task;
  if (!isRecord(task) || typeof task.entry_script !== 'string' || !NODE_SCRIPT.test(task.entry_script)) return 0;
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
