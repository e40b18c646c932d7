import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { InvalidInputError } from '../errors.js';
import type { ParallelJobOptions } from '../spec/job-schema.js';
import { ParallelJob } from './sdk-jobs.js';

/*
 * SDK v1 names: `ParallelRunConfig` + `ParallelRunStep`, mapped one to one onto the parallel
 * job (DESIGN.md §2), with the v1 validation rules and messages.
 */

export interface ParallelRunConfigOptions {
  entry_script: string;
  error_threshold: number;
  output_action: 'append_row' | 'summary_only';
  compute_target?: string;
  node_count: number;
  process_count_per_node?: number;
  mini_batch_size?: string | number;
  source_directory?: string;
  description?: string;
  logging_level?: 'DEBUG' | 'INFO' | 'WARNING';
  run_invocation_timeout?: number;
  run_max_try?: number;
  append_row_file_name?: string;
  allowed_failed_count?: number;
  allowed_failed_percent?: number;
  partition_keys?: string[];
  environment_variables?: Record<string, string>;
  /** An environment reference or definition (noticed, not provisioned, as in YAML jobs). */
  environment?: string | Record<string, unknown>;
}

const BAD_FILE_NAME = /[~"#%&*:<>?/\\{|}]/;

/** The v1 checks, with the v1 parameter names in the messages. */
function validateV1(config: ParallelRunConfigOptions): void {
  const problems: string[] = [];
  const integer = (value: unknown) => typeof value === 'number' && Number.isInteger(value);
  if (typeof config.entry_script !== 'string' || config.entry_script.trim() === '') problems.push('entry_script: expected the file name of the entry script');
  if (config.output_action !== 'append_row' && config.output_action !== 'summary_only') problems.push(`output_action: expected 'append_row' or 'summary_only', got ${JSON.stringify(config.output_action)}`);
  if (!integer(config.error_threshold) || config.error_threshold < -1) problems.push(`error_threshold: expected an integer >= -1, got ${JSON.stringify(config.error_threshold)}`);
  if (config.allowed_failed_count !== undefined && (!integer(config.allowed_failed_count) || config.allowed_failed_count < -1)) problems.push(`allowed_failed_count: expected an integer >= -1, got ${JSON.stringify(config.allowed_failed_count)}`);
  if (config.allowed_failed_percent !== undefined && (typeof config.allowed_failed_percent !== 'number' || config.allowed_failed_percent < 0 || config.allowed_failed_percent > 100)) problems.push(`allowed_failed_percent: expected a number from 0 to 100, got ${JSON.stringify(config.allowed_failed_percent)}`);
  if (!integer(config.node_count) || config.node_count < 1) problems.push(`node_count: expected an integer >= 1, got ${JSON.stringify(config.node_count)}`);
  if (config.process_count_per_node !== undefined && (!integer(config.process_count_per_node) || config.process_count_per_node < 1)) problems.push(`process_count_per_node: expected an integer >= 1, got ${JSON.stringify(config.process_count_per_node)}`);
  if (config.run_invocation_timeout !== undefined && (typeof config.run_invocation_timeout !== 'number' || config.run_invocation_timeout <= 0)) problems.push(`run_invocation_timeout: expected a number of seconds > 0, got ${JSON.stringify(config.run_invocation_timeout)}`);
  if (config.run_max_try !== undefined && (!integer(config.run_max_try) || config.run_max_try < 1)) problems.push(`run_max_try: expected an integer >= 1, got ${JSON.stringify(config.run_max_try)}`);
  if (config.append_row_file_name !== undefined && (config.append_row_file_name === '' || BAD_FILE_NAME.test(config.append_row_file_name))) problems.push(`append_row_file_name: expected a file name without any of ~"#%&*:<>?/\\{|}, got ${JSON.stringify(config.append_row_file_name)}`);
  if (config.append_row_file_name !== undefined && config.output_action !== 'append_row') problems.push("append_row_file_name: only meaningful with output_action 'append_row'");
  if (config.partition_keys !== undefined && config.mini_batch_size !== undefined) problems.push('partition_keys and mini_batch_size: set one; partition_keys decides the mini-batches itself');
  if (config.partition_keys !== undefined && (!Array.isArray(config.partition_keys) || config.partition_keys.length === 0)) problems.push('partition_keys: expected a non-empty list of column or path-format key names');
  if (problems.length > 0) throw new InvalidInputError('E_JOB_INVALID', problems.length === 1 ? `ParallelRunConfig: ${problems[0]}` : `ParallelRunConfig: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
}

export class ParallelRunConfig {
  readonly options: ParallelRunConfigOptions;

  constructor(options: ParallelRunConfigOptions) {
    validateV1(options);
    this.options = { ...options };
  }

  /** Writes the v1 configuration as YAML; `loadYaml` reads it back to an equal config. */
  saveToYaml(path: string): void {
    writeFileSync(path, stringify(this.options));
  }

  static loadYaml(path: string): ParallelRunConfig {
    return new ParallelRunConfig(parse(readFileSync(path, 'utf8')) as ParallelRunConfigOptions);
  }
}

export interface ParallelRunStepOptions {
  name: string;
  parallel_run_config: ParallelRunConfig;
  /** Input paths (a folder, file or MLTable); the first is the one split into mini-batches. */
  inputs: (string | { name: string; path: string; type?: 'uri_folder' | 'uri_file' | 'mltable' })[];
  /** Where the output goes (a folder); by default under the run directory. */
  output?: string | undefined;
  arguments?: string[];
  allow_reuse?: boolean;
  side_inputs?: (string | { name: string; path: string })[];
}

/** `ParallelRunStep(...)`: the v1 step, as the parallel job it means. */
export function ParallelRunStep(options: ParallelRunStepOptions): ParallelJob {
  const config = options.parallel_run_config.options;
  if (options.inputs.length === 0) throw new InvalidInputError('E_JOB_INVALID', `ParallelRunStep ${options.name}: inputs: expected at least one input`);
  const inputs: NonNullable<ParallelJobOptions['inputs']> = {};
  const all = [...options.inputs, ...(options.side_inputs ?? [])];
  all.forEach((input, index) => {
    const entry: { name: string; path: string; type?: 'uri_folder' | 'uri_file' | 'mltable' } = typeof input === 'string' ? { name: index === 0 ? 'input_data' : `side_input_${index}`, path: input } : input;
    inputs[entry.name] = { type: entry.type ?? (/\bMLTable$/.test(entry.path) ? 'mltable' : 'uri_folder'), path: entry.path };
  });
  const first = Object.keys(inputs)[0] ?? 'input_data';
  const appendRow = config.output_action === 'append_row';
  const job: ParallelJobOptions = {
    type: 'parallel',
    name: options.name,
    ...(config.description !== undefined ? { description: config.description } : {}),
    ...(config.compute_target !== undefined ? { compute: config.compute_target } : {}),
    inputs,
    ...(appendRow || options.output !== undefined ? { outputs: { output: { type: 'uri_folder', ...(options.output !== undefined ? { path: options.output } : {}) } } } : {}),
    input_data: `\${{inputs.${first}}}`,
    ...(config.partition_keys !== undefined ? { partition_keys: config.partition_keys } : { mini_batch_size: String(config.mini_batch_size ?? '10') }),
    resources: { instance_count: config.node_count },
    ...(config.process_count_per_node !== undefined ? { max_concurrency_per_instance: config.process_count_per_node } : {}),
    error_threshold: config.error_threshold,
    ...(config.allowed_failed_count !== undefined ? { mini_batch_error_threshold: config.allowed_failed_count } : {}),
    ...(config.allowed_failed_percent !== undefined ? { allowed_failed_percent: config.allowed_failed_percent } : {}),
    logging_level: config.logging_level ?? 'INFO',
    retry_settings: { timeout: config.run_invocation_timeout ?? 60, max_retries: (config.run_max_try ?? 3) - 1 },
    ...(config.environment_variables !== undefined ? { environment_variables: config.environment_variables } : {}),
    is_deterministic: options.allow_reuse ?? true,
    task: {
      type: 'run_function',
      code: config.source_directory ?? '.',
      entry_script: config.entry_script,
      ...(config.environment !== undefined ? { environment: config.environment as NonNullable<ParallelJobOptions['task']['environment']> } : {}),
      ...(options.arguments && options.arguments.length > 0 ? { program_arguments: options.arguments.map(quoteArgument).join(' ') } : {}),
      ...(appendRow ? { append_row_to: config.append_row_file_name ? `\${{outputs.output}}/${config.append_row_file_name}` : '${{outputs.output}}' } : {}),
    },
  } as ParallelJobOptions;
  return new ParallelJob(job);
}

function quoteArgument(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}
