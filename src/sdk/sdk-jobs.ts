import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { InvalidInputError } from '../errors.js';
import { formatIssues } from '../spec/schema-errors.js';
import { knownFieldsAt, parallelJobSchema, type ParallelJobOptions } from '../spec/job-schema.js';
import { YamlSource } from '../spec/yaml-source.js';
import { commandStepSchema, type CommandStepOptions } from '../pipeline/pipeline-schema.js';

/*
 * The TypeScript SDK's job objects. Their options ARE the YAML fields (the zod schemas are the
 * one source of both), so a job built in code and the same job written as YAML cannot drift:
 * `saveToYaml` writes exactly what `loadYaml` reads back.
 */

/** `RunFunction(...)`: the task of a parallel job. */
export type RunFunctionOptions = ParallelJobOptions['task'];

/** `parallel_run_function(...)`'s keyword arguments: the parallel job's fields, with `instance_count`/`instance_type` as in the reference. */
export type ParallelRunFunctionOptions = Omit<ParallelJobOptions, 'type' | '$schema'> & {
  instance_count?: number;
  instance_type?: string;
};

export type CommandOptions = Omit<CommandStepOptions, 'type' | 'component'>;

/** `${{parent.jobs.<step>.outputs.<name>}}`, known once the step is placed in a pipeline. */
export class StepOutputRef {
  constructor(
    readonly step: SdkStep,
    readonly output: string,
  ) {}
}

/** `${{parent.inputs.<name>}}` / `${{parent.outputs.<name>}}` of the pipeline being built. */
export class PipelineRef {
  constructor(
    readonly group: 'inputs' | 'outputs',
    readonly name: string,
  ) {}
  toString(): string {
    return `\${{parent.${this.group}.${this.name}}}`;
  }
}

/** What a step's input or output may be bound to in a pipeline. */
export type Binding = StepOutputRef | PipelineRef;

function validate(data: Record<string, unknown>, schema: 'parallel' | 'command', what: string): void {
  const source = YamlSource.parse(stringify(data), what);
  const result = (schema === 'parallel' ? parallelJobSchema : commandStepSchema).safeParse(source.toJS(), { reportInput: true });
  if (!result.success) {
    const problems = formatIssues(result.error.issues, source, schema === 'parallel' ? knownFieldsAt : () => []);
    throw new InvalidInputError('E_JOB_INVALID', problems.length === 1 ? (problems[0] ?? what) : `${what}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

/** A job or step built in code. */
export abstract class SdkStep<OutputName extends string = string> {
  /** Bindings given with `.bind()` (pipeline use). */
  readonly bindings: Record<string, Binding | string | number | boolean> = {};
  readonly outputBindings: Record<string, PipelineRef> = {};
  abstract readonly type: 'parallel' | 'command';
  /** The step's outputs, to bind other steps' inputs to (typed by the names declared). */
  readonly outputs: Readonly<Record<OutputName, StepOutputRef>>;

  constructor(outputNames: readonly string[]) {
    this.outputs = Object.fromEntries(outputNames.map((name) => [name, new StepOutputRef(this, name)])) as Record<OutputName, StepOutputRef>;
  }

  /** The job as its YAML document (plain data). */
  abstract toYamlObject(): Record<string, unknown>;

  /** Binds inputs (and outputs to pipeline outputs) for use as a pipeline step; returns the step. */
  bind(inputs: Record<string, Binding | string | number | boolean>, outputs: Record<string, PipelineRef> = {}): this {
    Object.assign(this.bindings, inputs);
    Object.assign(this.outputBindings, outputs);
    return this;
  }

  /** Writes the job file; `loadYaml` reads it back to an equal job. */
  saveToYaml(path: string): void {
    writeFileSync(path, stringify(this.toYamlObject()));
  }
}

export class ParallelJob<OutputName extends string = string> extends SdkStep<OutputName> {
  readonly type = 'parallel';
  readonly options: ParallelJobOptions;

  constructor(options: ParallelJobOptions) {
    super(Object.keys(options.outputs ?? {}));
    validate(options as unknown as Record<string, unknown>, 'parallel', options.name ?? 'parallel job');
    this.options = options;
  }

  toYamlObject(): Record<string, unknown> {
    return structuredClone(this.options) as unknown as Record<string, unknown>;
  }

  /** Reads a `type: parallel` job file into a job object (validated as `minibatch validate` would). */
  static loadYaml(path: string): ParallelJob {
    const data = parse(readFileSync(path, 'utf8')) as ParallelJobOptions;
    return new ParallelJob(data);
  }
}

export class CommandJob<OutputName extends string = string> extends SdkStep<OutputName> {
  readonly type = 'command';
  readonly options: CommandOptions;

  constructor(options: CommandOptions) {
    super(Object.keys(options.outputs ?? {}));
    validate({ type: 'command', ...options }, 'command', options.name ?? 'command');
    this.options = options;
  }

  toYamlObject(): Record<string, unknown> {
    return { type: 'command', ...structuredClone(this.options) };
  }

  static loadYaml(path: string): CommandJob {
    const { type: _type, ...options } = parse(readFileSync(path, 'utf8')) as CommandStepOptions;
    return new CommandJob(options);
  }
}

/**
 * `parallel_run_function(...)`: a parallel job from the reference's keyword arguments (snake_case
 * as in Python, or camelCase). Usable alone (`.run()`) or as a pipeline step.
 */
export function parallelRunFunction<const O extends Record<string, unknown> = Record<string, never>>(options: ParallelRunFunctionOptions & { outputs?: O } & Record<string, unknown>): ParallelJob<Extract<keyof O, string>> {
  const snake = toSnakeCase(options) as ParallelRunFunctionOptions;
  const { instance_count, instance_type, ...rest } = snake;
  const job: ParallelJobOptions = { type: 'parallel', ...rest } as ParallelJobOptions;
  if (instance_count !== undefined || instance_type !== undefined) {
    job.resources = { ...job.resources, ...(instance_count !== undefined ? { instance_count } : {}), ...(instance_type !== undefined ? { instance_type } : {}) } as ParallelJobOptions['resources'];
  }
  return new ParallelJob(job);
}

/** `command(...)`: a command step (a shell command line with `${{inputs.x}}` / `${{outputs.y}}`). */
export function command<const O extends Record<string, unknown> = Record<string, never>>(options: CommandOptions & { outputs?: O } & Record<string, unknown>): CommandJob<Extract<keyof O, string>> {
  return new CommandJob(toSnakeCase(options) as CommandOptions);
}

const NESTED = new Set(['task', 'retry_settings', 'resources', 'distribution', 'settings']);

/** camelCase keys → snake_case, at the top level and inside the known nested mappings; user-named maps (inputs, outputs, env) are left alone. */
export function toSnakeCase(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const snake = key.startsWith('$') ? key : key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    out[snake] = NESTED.has(snake) && value && typeof value === 'object' && !Array.isArray(value) ? toSnakeCase(value as Record<string, unknown>) : value;
  }
  return out;
}

/** A scratch folder for job files written to run SDK-built jobs. */
export function scratchFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'minibatch-sdk-')), name);
}

export function absoluteFrom(base: string, path: string): string {
  return resolve(dirname(base), path);
}
