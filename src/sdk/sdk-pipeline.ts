import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { InvalidInputError } from '../errors.js';
import { minibatchHome } from '../logs/run-directory.js';
import { runPipeline, type RunPipelineResult } from '../pipeline/run-pipeline.js';
import { runParallelJob, type RunJobResult } from '../run/run-parallel-job.js';
import type { InputOptions, OutputOptions } from '../spec/job-schema.js';
import { CommandJob, ParallelJob, PipelineRef, SdkStep, StepOutputRef, type Binding } from './sdk-jobs.js';

export interface PipelineBuilderOptions<J extends Record<string, SdkStep>> {
  name?: string;
  display_name?: string;
  description?: string;
  tags?: Record<string, unknown>;
  settings?: { default_compute?: string; force_rerun?: boolean; continue_on_step_failure?: boolean };
  inputs?: Record<string, InputOptions>;
  outputs?: Record<string, OutputOptions>;
  jobs: J;
}

/** `${{parent.inputs.<name>}}` for binding a step input to a pipeline input. */
export const pipelineInput = (name: string) => new PipelineRef('inputs', name);
/** `${{parent.outputs.<name>}}` for binding a step output to a pipeline output. */
export const pipelineOutput = (name: string) => new PipelineRef('outputs', name);

export class PipelineJob<J extends Record<string, SdkStep> = Record<string, SdkStep>> {
  readonly type = 'pipeline';
  readonly options: PipelineBuilderOptions<J>;
  constructor(options: PipelineBuilderOptions<J>) {
    this.options = options;
    this.toYamlObject(); // every binding is checked now, not at run time
  }

  /** The pipeline's steps' outputs, typed: `pipeline.jobs.score.outputs.scores`. */
  get jobs(): J {
    return this.options.jobs;
  }

  toYamlObject(): Record<string, unknown> {
    const names = new Map<SdkStep, string>();
    for (const [name, step] of Object.entries(this.options.jobs)) names.set(step, name);
    const bind = (value: Binding | string | number | boolean, where: string): unknown => {
      if (value instanceof StepOutputRef) {
        const from = names.get(value.step);
        if (!from) throw new InvalidInputError('E_JOB_INVALID', `${where}: bound to an output of a step that is not in this pipeline's jobs`);
        return `\${{parent.jobs.${from}.outputs.${value.output}}}`;
      }
      if (value instanceof PipelineRef) return value.toString();
      return value;
    };
    const jobs: Record<string, unknown> = {};
    for (const [name, step] of Object.entries(this.options.jobs)) {
      const document = step.toYamlObject();
      const inputs = { ...((document.inputs ?? {}) as Record<string, unknown>) };
      for (const [input, value] of Object.entries(step.bindings)) inputs[input] = bind(value, `jobs.${name}.inputs.${input}`);
      const outputs = { ...((document.outputs ?? {}) as Record<string, unknown>) };
      for (const [output, value] of Object.entries(step.outputBindings)) outputs[output] = value.toString();
      jobs[name] = { ...document, ...(Object.keys(inputs).length > 0 ? { inputs } : {}), ...(Object.keys(outputs).length > 0 ? { outputs } : {}) };
    }
    const { jobs: _jobs, ...rest } = this.options;
    return { type: 'pipeline', ...structuredClone(rest), jobs };
  }

  saveToYaml(path: string): void {
    writeFileSync(path, stringify(this.toYamlObject()));
  }

  /** Reads a pipeline file: its steps become ParallelJob / CommandJob objects with their bindings. */
  static loadYaml(path: string): PipelineJob {
    const data = parse(readFileSync(path, 'utf8')) as Record<string, unknown> & { jobs?: Record<string, Record<string, unknown>> };
    const { jobs = {}, type: _type, ...rest } = data;
    const steps: Record<string, SdkStep> = {};
    const pending: [SdkStep, Record<string, unknown>][] = [];
    for (const [name, step] of Object.entries(jobs)) {
      const { inputs = {}, outputs = {}, ...fields } = step as { inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; type?: string };
      const literalInputs = Object.fromEntries(Object.entries(inputs).filter(([, value]) => !isParentBinding(value)));
      const declaredOutputs = Object.fromEntries(Object.entries(outputs).filter(([, value]) => typeof value !== 'string'));
      const options = { ...fields, ...(Object.keys(literalInputs).length > 0 ? { inputs: literalInputs } : {}), ...(Object.keys(declaredOutputs).length > 0 ? { outputs: declaredOutputs } : {}) };
      const built = (fields.type ?? 'parallel') === 'command' ? new CommandJob(withoutType(options) as ConstructorParameters<typeof CommandJob>[0]) : new ParallelJob(options as unknown as ConstructorParameters<typeof ParallelJob>[0]);
      for (const [output, value] of Object.entries(outputs)) {
        const match = typeof value === 'string' ? /^\$\{\{\s*parent\.outputs\.([\w-]+)\s*\}\}$/.exec(value) : null;
        if (match) built.outputBindings[output] = pipelineOutput(match[1] ?? '');
      }
      steps[name] = built;
      pending.push([built, inputs]);
    }
    for (const [step, inputs] of pending) {
      for (const [input, value] of Object.entries(inputs)) {
        if (!isParentBinding(value)) continue;
        const text = String(value);
        const upstream = /^\$\{\{\s*parent\.jobs\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(text);
        const parentInput = /^\$\{\{\s*parent\.inputs\.([\w-]+)\s*\}\}$/.exec(text);
        const producer = upstream ? steps[upstream[1] ?? ''] : undefined;
        if (upstream && producer) step.bindings[input] = new StepOutputRef(producer, upstream[2] ?? '');
        else if (parentInput) step.bindings[input] = pipelineInput(parentInput[1] ?? '');
        else step.bindings[input] = text;
      }
    }
    return new PipelineJob({ ...(rest as Omit<PipelineBuilderOptions<Record<string, SdkStep>>, 'jobs'>), jobs: steps });
  }
}

function isParentBinding(value: unknown): boolean {
  return typeof value === 'string' && /^\$\{\{\s*parent\./.test(value);
}

function withoutType(options: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, ...rest } = options;
  return rest;
}

/** `pipeline({...})`: steps built in code, bound with `.bind()` and typed `step.outputs.<name>`. */
export function pipeline<const J extends Record<string, SdkStep>>(options: PipelineBuilderOptions<J>): PipelineJob<J> {
  return new PipelineJob(options);
}

export interface RunOptions {
  /** Relative paths in the job resolve against this folder (default: the current folder). */
  baseDir?: string;
  home?: string;
  python?: string;
  forceRerun?: boolean;
  signal?: AbortSignal;
}

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A submitted job: its status as it goes, and its result and outputs when it ends. */
export class JobHandle {
  status: JobStatus = 'running';
  /** The job file written for this run (kept, so `minibatch job resume` works on it). */
  readonly jobFile: string;
  readonly #done: Promise<RunJobResult | RunPipelineResult>;
  constructor(jobFile: string, done: Promise<RunJobResult | RunPipelineResult>) {
    this.jobFile = jobFile;
    this.#done = done.then((result) => {
      this.status = result.status;
      return result;
    });
    this.#done.catch(() => {
      this.status = 'failed';
    });
  }

  /** Waits for the end. Invalid input rejects (as the CLI exits 2); a job that fails resolves with status failed. */
  async wait(): Promise<{ runId: string; runDir: string; status: JobStatus; exitCode: number; outputs: Record<string, string>; result: RunJobResult | RunPipelineResult }> {
    const result = await this.#done;
    const outputs: Record<string, string> = {};
    if ('steps' in result) {
      for (const [step, state] of Object.entries(result.steps)) for (const [name, path] of Object.entries(state.outputs)) outputs[`${step}.${name}`] = path;
    } else if (result.output) outputs.append_row = result.output.path;
    return { runId: result.runId, runDir: result.runDir, status: result.status, exitCode: result.exitCode, outputs, result };
  }
}

/** Starts a job or pipeline built with the SDK; returns at once with a handle. */
export function submit(job: SdkStep | PipelineJob, options: RunOptions = {}): JobHandle {
  const home = options.home ?? minibatchHome();
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const document = absolutize(job.toYamlObject(), baseDir, job instanceof PipelineJob);
  const name = String(document.name ?? job.type).replace(/[^\w-]+/g, '-');
  const folder = join(home, 'sdk');
  mkdirSync(folder, { recursive: true });
  const jobFile = join(folder, `${name}-${Date.now()}-${randomBytes(3).toString('hex')}.yml`);
  writeFileSync(jobFile, `# Written by the minibatch SDK; relative paths were made absolute from ${baseDir}.\n${stringify(document)}`);
  const done =
    job instanceof PipelineJob
      ? runPipeline({ file: jobFile, home, python: options.python, forceRerun: options.forceRerun, signal: options.signal })
      : job instanceof CommandJob
        ? Promise.reject(new InvalidInputError('E_USAGE', 'a command step runs inside a pipeline: pipeline({ jobs: { step } })'))
        : runParallelJob({ jobFile, home, python: options.python, signal: options.signal });
  return new JobHandle(jobFile, done);
}

/** Submits and waits. */
export async function run(job: SdkStep | PipelineJob, options: RunOptions = {}) {
  return submit(job, options).wait();
}

/** Relative paths of a job (or of every step of a pipeline) made absolute from `baseDir`. */
function absolutize(document: Record<string, unknown>, baseDir: string, isPipeline: boolean): Record<string, unknown> {
  const fix = (path: unknown) => (typeof path === 'string' && !isAbsolute(path) && !path.startsWith('${{') && !path.startsWith('azureml:') ? resolve(baseDir, path) : path);
  const fixJob = (job: Record<string, unknown>) => {
    for (const group of ['inputs', 'outputs'] as const) {
      for (const value of Object.values((job[group] ?? {}) as Record<string, unknown>)) {
        if (value && typeof value === 'object' && 'path' in value) (value as { path: unknown }).path = fix((value as { path: unknown }).path);
      }
    }
    const task = job.task as Record<string, unknown> | undefined;
    if (task) task.code = fix(task.code);
    if (typeof job.code === 'string') job.code = fix(job.code);
    if (typeof job.component === 'string') job.component = fix(job.component);
  };
  const copy = structuredClone(document);
  fixJob(copy);
  if (isPipeline) for (const step of Object.values((copy.jobs ?? {}) as Record<string, Record<string, unknown>>)) fixJob(step);
  return copy;
}
