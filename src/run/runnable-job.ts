import { stringify } from 'yaml';
import type { ResolvedParallelJob } from '../spec/resolve-job.js';

/**
 * The job as it was run, for `job.yml` in the run directory: what the user wrote, with every
 * default made explicit, bindings resolved and paths absolute, so it can be run again as is.
 */
export function toRunnableYaml(job: ResolvedParallelJob): string {
  const options = structuredClone(job.options) as Record<string, unknown> & typeof job.options;
  const inputs: Record<string, unknown> = {};
  for (const input of Object.values(job.inputs)) {
    inputs[input.name] = input.kind === 'literal' ? input.value : { type: input.type, path: input.sourcePath, mode: input.mode };
  }
  const outputs: Record<string, unknown> = {};
  for (const output of Object.values(job.outputs)) outputs[output.name] = { type: output.type, path: output.path, mode: output.mode };
  const runnable: Record<string, unknown> = {
    ...options,
    compute: job.compute.name,
    inputs,
    outputs,
    ...(job.partitionKeys ? { partition_keys: [...job.partitionKeys] } : { mini_batch_size: job.miniBatchSize.written ?? String(job.miniBatchSize.files ?? job.miniBatchSize.bytes) }),
    ...(job.miniBatchSize.auto && !job.partitionKeys ? { target_mini_batch_seconds: job.miniBatchSize.auto.targetSeconds } : {}),
    resources: { ...options.resources, instance_count: job.instanceCount },
    max_concurrency_per_instance: job.processesPerInstance,
    error_threshold: job.errorThreshold,
    mini_batch_error_threshold: job.miniBatchErrorThreshold,
    allowed_failed_percent: job.allowedFailedPercent,
    overhead_timeout: job.overheadTimeoutMs / 1000,
    progress_update_timeout: job.progressUpdateTimeoutMs / 1000,
    first_task_creation_timeout: job.firstTaskCreationTimeoutMs / 1000,
    resource_monitor_interval: job.resourceMonitorIntervalMs / 1000,
    logging_level: job.loggingLevel,
    retry_settings: { max_retries: job.maxRetries, timeout: job.timeoutMs / 1000 },
    is_deterministic: job.isDeterministic,
    task: {
      ...options.task,
      code: job.code,
      program_arguments: [...job.programArguments],
      ...(job.appendRow ? { append_row_to: job.appendRow.path } : {}),
    },
  };
  delete runnable.allowed_failed_count;
  if (job.appendRow) {
    runnable.append_row_format = job.appendRow.format;
    runnable.append_row_dataframe_header = job.appendRow.header;
  }
  return `# The job as run by minibatch: defaults explicit, bindings resolved, paths absolute.\n${stringify(runnable)}`;
}
