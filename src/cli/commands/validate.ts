import { join } from 'node:path';
import { isPipelineFile } from '../../pipeline/pipeline-file.js';
import { loadParallelJob } from '../../run/run-parallel-job.js';
import { validatePipelineCommand } from './pipeline.js';

/** `minibatch validate <job.yml>`: every check a run would make before starting, nothing run. */
export async function validateCommand(jobFile: string, options: { set: string[]; compute?: string }): Promise<number> {
  if (isPipelineFile(jobFile)) return validatePipelineCommand(jobFile, options.set);
  const { job, plan } = await loadParallelJob(jobFile, options.set, join('<run-dir>'), options.compute);
  for (const notice of job.notices) process.stderr.write(`notice: ${notice}\n`);
  for (const warning of job.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(
    `${jobFile}: valid parallel job: ${job.instanceCount} node(s) x ${job.processesPerInstance} process(es), ` +
      `${plan.summary}, ` +
      `${job.appendRow ? `append_row to ${job.appendRow.path}` : 'summary_only'}\n`,
  );
  return 0;
}
