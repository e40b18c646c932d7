/*
 * The package's API: the SDK (jobs and pipelines built in TypeScript, the v1 names), and the
 * runners the CLI uses, for programs that embed minibatch.
 */
export { parallelRunFunction, command, ParallelJob, CommandJob, StepOutputRef, PipelineRef, toSnakeCase } from './sdk/sdk-jobs.js';
export type { ParallelRunFunctionOptions, RunFunctionOptions, CommandOptions, Binding } from './sdk/sdk-jobs.js';
export { pipeline, pipelineInput, pipelineOutput, PipelineJob, submit, run, JobHandle } from './sdk/sdk-pipeline.js';
export type { PipelineBuilderOptions, RunOptions, JobStatus } from './sdk/sdk-pipeline.js';
export { ParallelRunConfig, ParallelRunStep } from './sdk/v1.js';
export { MpiStep } from './sdk/mpi-step.js';
export type { MpiStepOptions } from './sdk/mpi-step.js';
export type { ParallelRunConfigOptions, ParallelRunStepOptions } from './sdk/v1.js';
export { runParallelJob } from './run/run-parallel-job.js';
export type { RunJobOptions, RunJobResult, RunEvent } from './run/run-parallel-job.js';
export { runPipeline } from './pipeline/run-pipeline.js';
export type { RunPipelineOptions, RunPipelineResult, PipelineEvent } from './pipeline/run-pipeline.js';
export { MinibatchError, InvalidInputError, JobFailedError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ParallelJobOptions } from './spec/job-schema.js';
