import { lookupCompute, type ComputeConfig, type ComputeTarget } from './compute-config.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { bindExpressions, parseReference, soleExpression, type BindingScope } from './bindings.js';
import { JOB_DEFAULTS } from './defaults.js';
import { readEngineArguments, splitProgramArguments, type EngineArguments } from './engine-arguments.js';
import {
  APPEND_ROW_FORMATS,
  INPUT_MODES,
  INPUT_TYPES,
  OUTPUT_MODES,
  OUTPUT_TYPES,
  knownFieldsAt,
  parallelJobSchema,
  type AssetInputOptions,
  type ParallelJobOptions,
} from './job-schema.js';
import { parseMiniBatchSize } from './mini-batch-size.js';
import { formatIssues } from './schema-errors.js';
import type { FieldPath, YamlSource } from './yaml-source.js';

export type InputType = (typeof INPUT_TYPES)[number];
export type InputMode = (typeof INPUT_MODES)[number];
export type OutputType = (typeof OUTPUT_TYPES)[number];
export type OutputMode = (typeof OUTPUT_MODES)[number];
export type AppendRowFormat = (typeof APPEND_ROW_FORMATS)[number];
export type LoggingLevel = 'DEBUG' | 'INFO' | 'WARNING';

export interface ResolvedLiteralInput {
  kind: 'literal';
  name: string;
  value: string | number | boolean;
}
export interface ResolvedAssetInput {
  kind: 'asset';
  name: string;
  type: InputType;
  mode: InputMode;
  /** Where the script reads it: the source path, or a copy in the run directory for `download`. */
  path: string;
  /** The path as given, resolved against the job file's folder. */
  sourcePath: string;
  /** `read_delimited` / `read_json_lines` / `read_parquet` on a uri_file/uri_folder: read it as a table. */
  readHint: ReadHint | undefined;
}

export interface ReadHint {
  format: 'delimited' | 'json_lines' | 'parquet';
  delimiter?: string | undefined;
  encoding?: string | undefined;
  header?: 'all_files_same_headers' | 'no_header' | 'from_first_file' | undefined;
  includePathColumn?: boolean | undefined;
  emptyAsString?: boolean | undefined;
}

/**
 * `mini_batch_size` as resolved: a file count for file lists (`files`), approximate bytes
 * for tabular input (`bytes`; digits alone are bytes there). Which applies is known once the
 * input has been looked at (an MLTable without a read transformation is a file list).
 */
export interface ResolvedMiniBatchSize {
  /** Undefined when a byte size ("10kb") was given: an error for a file list. */
  files: number | undefined;
  bytes: number;
  /** As written, for messages. */
  written: string | undefined;
  /**
   * `mini_batch_size: auto`: sizes follow measured run() time; `files` / `bytes` then hold the
   * size of the first mini-batches. Undefined for a fixed size.
   */
  auto: { targetSeconds: number } | undefined;
}
export type ResolvedInput = ResolvedLiteralInput | ResolvedAssetInput;

export interface ResolvedOutput {
  name: string;
  type: OutputType;
  mode: OutputMode;
  path: string;
}

export interface ResolvedAppendRow {
  /** The aggregated file, written once at the end under a temporary name and renamed. */
  path: string;
  format: AppendRowFormat;
  header: boolean;
}

/** A parallel job after validation, defaults, bindings and path resolution: inner code trusts it. */
export interface ResolvedParallelJob {
  readonly jobFile: string;
  readonly jobDir: string;
  readonly name: string | undefined;
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  readonly tags: Readonly<Record<string, unknown>>;
  /** Where the job runs: here, or a named compute of minibatch.config.yml. */
  readonly compute: ComputeTarget;
  readonly inputs: Readonly<Record<string, ResolvedInput>>;
  readonly outputs: Readonly<Record<string, ResolvedOutput>>;
  readonly inputData: ResolvedAssetInput;
  readonly miniBatchSize: ResolvedMiniBatchSize;
  /** Same key value → same mini-batch; wins over mini_batch_size. */
  readonly partitionKeys: readonly string[] | undefined;
  readonly instanceCount: number;
  readonly processesPerInstance: number;
  readonly errorThreshold: number;
  readonly miniBatchErrorThreshold: number;
  readonly allowedFailedPercent: number;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly overheadTimeoutMs: number;
  readonly progressUpdateTimeoutMs: number;
  readonly firstTaskCreationTimeoutMs: number;
  /** 0 = off. */
  readonly resourceMonitorIntervalMs: number;
  readonly loggingLevel: LoggingLevel;
  /** Resident memory past which a worker is replaced between mini-batches; undefined = no limit. */
  readonly maxWorkerMemoryBytes: number | undefined;
  readonly environmentVariables: Readonly<Record<string, string>>;
  readonly isDeterministic: boolean;
  /** Speculative copies of stragglers at the end of the job (speculative_copies). */
  readonly speculativeCopies: boolean;
  readonly copyLogsToParent: boolean;
  readonly code: string;
  readonly entryScript: string;
  /** Bound argv for the script, engine arguments included (as the reference passes them). */
  readonly programArguments: readonly string[];
  readonly appendRow: ResolvedAppendRow | undefined;
  /** `task.environment.python`, if the job names an interpreter or virtual environment. */
  readonly pythonEnvironment: string | undefined;
  /** `task.environment.conda_file` resolved, when given as a path. */
  readonly condaFile: string | undefined;
  /** Fields accepted for compatibility that have no local effect: one notice each. */
  readonly notices: readonly string[];
  /** Likely mistakes that are not errors (near-miss engine arguments). */
  readonly warnings: readonly string[];
  /** The validated job as written (after --set), for `job.yml` in the run directory. */
  readonly options: ParallelJobOptions;
  /** `job.yml:line:col` of a field, for errors found after resolution (when the input is planned). */
  readonly locate: (path: FieldPath) => string;
}

export interface ResolveOptions {
  /** The run directory: default output paths and `download` copies go under it. */
  runDir: string;
  /** `--compute local` forces local execution whatever the job names. */
  computeOverride?: string | undefined;
  /** Reads the named computes (minibatch.config.yml), only when the job names one; none by default. */
  computes?: (() => ComputeConfig) | undefined;
  /** Cores on this machine; defaults to the machine's. Tests pin it. */
  processesPerInstance?: number | undefined;
}

const NO_COMPUTES: ComputeConfig = { file: undefined, computes: new Map() };

const SCRIPT_EXTENSIONS = new Set(['.py', '.mjs', '.js', '.cjs', '.ts', '.mts', '.cts']);

/** Validates the document against the schema; every problem is reported at once, with its position. */
export function validateParallelJob(source: YamlSource): ParallelJobOptions {
  const data = source.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidInputError('E_JOB_INVALID', `${source.file}: expected a job (a YAML mapping with type: parallel)`);
  }
  const type = (data as { type?: unknown }).type;
  if (type === 'pipeline' || type === 'command') {
    throw new InvalidInputError(
      'E_JOB_INVALID',
      `${source.locate(['type'])}: type: "${type}" jobs are not supported by this version of minibatch yet; expected type: parallel`,
    );
  }
  const result = parallelJobSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    throw invalid(source, formatIssues(result.error.issues, source, knownFieldsAt));
  }
  return result.data;
}

function invalid(source: YamlSource, problems: string[]): InvalidInputError {
  const message = problems.length === 1 ? (problems[0] ?? '') : `${source.file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`;
  return new InvalidInputError('E_JOB_INVALID', message);
}

/**
 * Validates and resolves a job: applies defaults (from `defaults.ts` only), reads engine
 * arguments from program_arguments, binds `${{ }}` expressions, resolves and checks paths.
 */
export function resolveParallelJob(source: YamlSource, jobFile: string, options: ResolveOptions): ResolvedParallelJob {
  const job = validateParallelJob(source);
  const problems: string[] = [];
  const notices: string[] = [];
  const warnings: string[] = [];
  const at = (path: FieldPath) => source.locate(path);
  const problem = (path: FieldPath, message: string) => problems.push(`${at(path)}: ${path.join('.')}: ${message}`);
  const jobDir = dirname(resolve(jobFile));
  const fromJobDir = (path: string) => (isAbsolute(path) ? path : resolve(jobDir, path));

  // Inputs: literals pass through; assets resolve against the job's folder and must exist.
  const inputs: Record<string, ResolvedInput> = {};
  for (const [name, input] of Object.entries(job.inputs ?? {})) {
    if (typeof input !== 'object') {
      inputs[name] = { kind: 'literal', name, value: input };
      continue;
    }
    const type = input.type ?? 'uri_folder';
    const mode = input.mode ?? (type === 'mltable' ? 'direct' : 'ro_mount');
    if (input.path.trim() === '') problem(['inputs', name, 'path'], 'expected a path, got an empty string');
    const sourcePath = fromJobDir(input.path);
    const path = mode === 'download' || mode === 'eval_download' ? join(options.runDir, 'inputs', name) : sourcePath;
    inputs[name] = { kind: 'asset', name, type, mode, path, sourcePath, readHint: readHintOf(input) };
    if ([input.read_delimited, input.read_json_lines, input.read_parquet].filter((hint) => hint !== undefined).length > 1) {
      problem(['inputs', name], 'expected at most one of read_delimited, read_json_lines, read_parquet');
    }
    if (type === 'mltable' && readHintOf(input)) problem(['inputs', name], 'an mltable input says how to read it in its MLTable file; read_* hints are for uri_file and uri_folder inputs');
    const stat = statIfExists(sourcePath);
    if (!stat) {
      if (!input.optional) problem(['inputs', name, 'path'], `input path does not exist: ${sourcePath}`);
    } else if (type === 'uri_file' && !stat.isFile()) {
      problem(['inputs', name, 'path'], `expected a file for a uri_file input, but ${sourcePath} is a folder`);
    } else if (type === 'uri_folder' && !stat.isDirectory()) {
      problem(['inputs', name, 'path'], `expected a folder for a uri_folder input, but ${sourcePath} is a file (use type: uri_file)`);
    }
  }

  // Outputs: a folder under the run directory unless a path is given.
  const outputs: Record<string, ResolvedOutput> = {};
  for (const [name, output] of Object.entries(job.outputs ?? {})) {
    const type = output.type ?? 'uri_folder';
    const path = output.path !== undefined ? fromJobDir(output.path) : join(options.runDir, 'outputs', name);
    outputs[name] = { name, type, mode: output.mode ?? 'rw_mount', path };
    const blocked = output.path !== undefined && output.path.trim() !== '' ? unwritablePath(path, type === 'uri_file' ? 'file' : 'folder') : undefined;
    if (blocked) problem(['outputs', name, 'path'], blocked);
  }

  const scope: BindingScope = {
    inputs: Object.fromEntries(Object.values(inputs).map((input) => [input.name, input.kind === 'literal' ? String(input.value) : input.path])),
    outputs: Object.fromEntries(Object.values(outputs).map((output) => [output.name, output.path])),
  };

  // input_data must name one asset input.
  let inputData: ResolvedAssetInput | undefined;
  const inputExpression = soleExpression(job.input_data);
  if (inputExpression === undefined) {
    problem(['input_data'], `expected \${{inputs.<name>}}, got ${JSON.stringify(job.input_data)}`);
  } else {
    const reference = parseReference(inputExpression, scope);
    if (typeof reference === 'string') problem(['input_data'], reference);
    else if (reference.group !== 'inputs') problem(['input_data'], `expected \${{inputs.<name>}}, got an output binding`);
    else {
      const input = inputs[reference.name];
      if (input?.kind !== 'asset') problem(['input_data'], `input "${reference.name}" is a literal; the split input must be a uri_folder or uri_file`);
      else {
        inputData = input;
        // optional: true lets an input the script may do without be missing; the split input it cannot.
        const stat = statIfExists(input.sourcePath);
        const declared = job.inputs?.[input.name];
        if (!stat && typeof declared === 'object' && declared.optional) {
          problem(['inputs', input.name, 'path'], `input path does not exist: ${input.sourcePath}`);
        } else if (stat?.isDirectory()) {
          const denied = unreadableFolder(input.sourcePath);
          if (denied) problem(['inputs', input.name, 'path'], `cannot read the input folder ${input.sourcePath}: ${denied}`);
        }
      }
    }
  }

  // Engine arguments come from program_arguments; typed YAML fields win over them.
  const rawArguments = splitProgramArguments(tightenExpressions(job.task.program_arguments));
  const programArguments: string[] = [];
  for (const token of rawArguments) {
    const bound = bindExpressions(token, scope);
    if ('error' in bound) problem(['task', 'program_arguments'], bound.error);
    else programArguments.push(bound.value);
  }
  const engine = readEngineArguments(programArguments);
  for (const error of engine.errors) problem(['task', 'program_arguments'], `${error.argument}: ${error.message}`);
  warnings.push(...engine.warnings);
  const fromArgs: Partial<EngineArguments> = engine.values;

  const miniBatchSize: ResolvedMiniBatchSize = { files: JOB_DEFAULTS.filesPerMiniBatch, bytes: JOB_DEFAULTS.tabularBytesPerMiniBatch, written: undefined, auto: undefined };
  if (job.mini_batch_size !== undefined) {
    const size = parseMiniBatchSize(job.mini_batch_size);
    if (typeof size !== 'string') {
      miniBatchSize.written = String(job.mini_batch_size);
      if (size.kind === 'auto') {
        miniBatchSize.written = 'auto';
        miniBatchSize.files = JOB_DEFAULTS.autoInitialFiles;
        miniBatchSize.bytes = JOB_DEFAULTS.autoInitialBytes;
        miniBatchSize.auto = { targetSeconds: job.target_mini_batch_seconds ?? JOB_DEFAULTS.targetMiniBatchSeconds };
      } else if (size.kind === 'bytes') {
        miniBatchSize.files = undefined;
        miniBatchSize.bytes = size.bytes;
      } else {
        miniBatchSize.files = size.count;
        miniBatchSize.bytes = size.count;
      }
    }
  }
  const partitionKeys = job.partition_keys;
  if (partitionKeys !== undefined) {
    if (partitionKeys.length === 0) problem(['partition_keys'], 'expected at least one key');
    if (new Set(partitionKeys).size !== partitionKeys.length) problem(['partition_keys'], 'a key is listed twice');
    if (job.mini_batch_size !== undefined) warnings.push('partition_keys and mini_batch_size are both set: partition_keys wins (one mini-batch per key value), mini_batch_size is ignored');
  }
  // Not an error: a job may switch auto off with --set mini_batch_size=10 and keep its target.
  if (job.target_mini_batch_seconds !== undefined && !miniBatchSize.auto) {
    warnings.push(`${at(['target_mini_batch_seconds'])}: target_mini_batch_seconds applies to mini_batch_size: auto only; mini_batch_size is ${miniBatchSize.written ?? 'the default'} here, so it has no effect`);
  } else if (job.target_mini_batch_seconds !== undefined && partitionKeys !== undefined) {
    warnings.push(`${at(['target_mini_batch_seconds'])}: target_mini_batch_seconds has no effect with partition_keys (one mini-batch per key value)`);
  }

  if (job.mini_batch_error_threshold !== undefined && job.allowed_failed_count !== undefined && job.mini_batch_error_threshold !== job.allowed_failed_count) {
    problem(['allowed_failed_count'], `allowed_failed_count is another name for mini_batch_error_threshold; they disagree (${job.allowed_failed_count} vs ${job.mini_batch_error_threshold}): set one`);
  }

  const timeoutSeconds = job.retry_settings?.timeout ?? fromArgs.run_invocation_timeout ?? JOB_DEFAULTS.timeoutSeconds;
  const maxRetries = job.retry_settings?.max_retries ?? (fromArgs.run_max_try !== undefined ? fromArgs.run_max_try - 1 : JOB_DEFAULTS.maxRetries);
  const overheadSeconds = job.overhead_timeout ?? fromArgs.task_overhead_timeout ?? JOB_DEFAULTS.overheadTimeoutSeconds;
  const progressSeconds =
    job.progress_update_timeout ?? fromArgs.progress_update_timeout ?? JOB_DEFAULTS.progressUpdateTimeoutSeconds(timeoutSeconds, overheadSeconds);

  // Code and entry script.
  const code = fromJobDir(job.task.code);
  const entryScript = resolve(code, job.task.entry_script);
  const codeStat = statIfExists(code);
  if (!codeStat?.isDirectory()) {
    problem(['task', 'code'], `expected the folder holding the entry script, but ${code} ${codeStat ? 'is a file' : 'does not exist'}`);
  } else if (!statIfExists(entryScript)?.isFile()) {
    problem(['task', 'entry_script'], `entry script not found: ${entryScript}`);
  } else {
    const extension = extname(entryScript);
    if (!SCRIPT_EXTENSIONS.has(extension)) {
      problem(['task', 'entry_script'], `expected a .py, .mjs, .js, .cjs or .ts script, got "${extension || 'no extension'}"`);
    }
  }

  // append_row_to: an output binding or a path; a folder gets parallel_run_step.txt.
  let appendRow: ResolvedAppendRow | undefined;
  if (job.task.append_row_to !== undefined) {
    const bound = bindExpressions(job.task.append_row_to, scope);
    if ('error' in bound) problem(['task', 'append_row_to'], bound.error);
    else {
      const expression = soleExpression(job.task.append_row_to);
      if (expression?.startsWith('inputs.')) problem(['task', 'append_row_to'], `expected \${{outputs.<name>}} or a path, got an input binding (\${{${expression}}}): inputs are read, not written`);
      const output = expression?.startsWith('outputs.') ? outputs[expression.slice('outputs.'.length)] : undefined;
      const target = output ? output.path : fromJobDir(bound.value);
      const isFolder = output ? output.type !== 'uri_file' : /[\\/]$/.test(bound.value) || statIfExists(target)?.isDirectory() === true;
      const path = isFolder ? join(target, JOB_DEFAULTS.appendRowFileName) : target;
      // An output binding was checked with its output; a path written here is checked here.
      const blocked = output ? undefined : unwritablePath(path, 'file');
      if (blocked) problem(['task', 'append_row_to'], blocked);
      const format = job.append_row_format ?? formatFromExtension(path);
      const header = job.append_row_dataframe_header ?? fromArgs.append_row_dataframe_header ?? JOB_DEFAULTS.appendRowDataframeHeader;
      appendRow = { path, format, header };
      // Writing into the folder being split would make the output one of the inputs.
      if (inputData && inputData.type !== 'uri_file' && isInside(path, inputData.sourcePath)) {
        problem(['task', 'append_row_to'], `the output ${path} is inside the input folder ${inputData.sourcePath}; expected a path outside it`);
      }
    }
  }

  // Compute: local, or a name looked up in minibatch.config.yml (`azureml:` prefix allowed).
  const requested = options.computeOverride ?? job.compute;
  let compute: ComputeTarget = { kind: 'local', name: 'local' };
  try {
    const found = lookupCompute(requested, options.computes ?? (() => NO_COMPUTES));
    compute = found.target;
    if (found.notice) notices.push(found.notice);
  } catch (error) {
    if (options.computeOverride !== undefined) throw error;
    problem(['compute'], (error as Error).message);
  }
  if (options.computeOverride === 'local' && job.compute && job.compute !== 'local') {
    notices.push(`--compute local: running locally instead of "${job.compute}"`);
  }
  collectCloudOnlyNotices(job, notices, fromArgs);

  // A process environment is C strings: a NUL byte cannot be passed (spawning would throw).
  for (const [key, value] of Object.entries(job.environment_variables ?? {})) {
    if (key.includes('\0') || key.includes('=')) problem(['environment_variables', key], `expected a variable name without "=" or a NUL byte, got ${JSON.stringify(key)}`);
    else if (String(value).includes('\0')) problem(['environment_variables', key], `expected a value without a NUL byte (\\0): an environment variable cannot hold one, got ${JSON.stringify(String(value))}`);
  }

  if (problems.length > 0 || !inputData) throw invalid(source, problems);

  const environmentVariables = Object.fromEntries(
    Object.entries(job.environment_variables ?? {}).map(([key, value]) => [key, String(value)]),
  );
  return {
    jobFile: resolve(jobFile),
    jobDir,
    name: job.name,
    displayName: job.display_name,
    description: job.description,
    tags: job.tags ?? {},
    compute,
    inputs,
    outputs,
    inputData,
    miniBatchSize,
    partitionKeys,
    instanceCount: job.resources?.instance_count ?? JOB_DEFAULTS.instanceCount,
    processesPerInstance: job.max_concurrency_per_instance ?? options.processesPerInstance ?? JOB_DEFAULTS.processesPerInstance(),
    errorThreshold: job.error_threshold ?? fromArgs.error_threshold ?? JOB_DEFAULTS.errorThreshold,
    miniBatchErrorThreshold:
      job.mini_batch_error_threshold ?? job.allowed_failed_count ?? fromArgs.allowed_failed_count ?? JOB_DEFAULTS.miniBatchErrorThreshold,
    allowedFailedPercent: job.allowed_failed_percent ?? fromArgs.allowed_failed_percent ?? JOB_DEFAULTS.allowedFailedPercent,
    maxRetries,
    timeoutMs: timeoutSeconds * 1000,
    overheadTimeoutMs: overheadSeconds * 1000,
    progressUpdateTimeoutMs: progressSeconds * 1000,
    firstTaskCreationTimeoutMs: (job.first_task_creation_timeout ?? fromArgs.first_task_creation_timeout ?? JOB_DEFAULTS.firstTaskCreationTimeoutSeconds) * 1000,
    resourceMonitorIntervalMs: (job.resource_monitor_interval ?? fromArgs.resource_monitor_interval ?? JOB_DEFAULTS.resourceMonitorIntervalSeconds) * 1000,
    loggingLevel: job.logging_level ?? JOB_DEFAULTS.loggingLevel,
    maxWorkerMemoryBytes: memoryBytes(job.max_worker_memory),
    environmentVariables,
    isDeterministic: job.is_deterministic ?? JOB_DEFAULTS.isDeterministic,
    speculativeCopies: job.speculative_copies ?? JOB_DEFAULTS.speculativeCopies,
    copyLogsToParent: job.copy_logs_to_parent ?? fromArgs.copy_logs_to_parent ?? JOB_DEFAULTS.copyLogsToParent,
    code,
    entryScript,
    programArguments,
    appendRow,
    pythonEnvironment: typeof job.task.environment === 'object' && job.task.environment.python ? fromJobDir(job.task.environment.python) : undefined,
    condaFile: typeof job.task.environment === 'object' && typeof job.task.environment.conda_file === 'string' ? fromJobDir(job.task.environment.conda_file) : undefined,
    notices,
    warnings,
    options: job,
    locate: (path) => source.locate(path),
  };
}

/**
 * `${{ inputs.x }}` → `${{inputs.x}}`, so splitting program_arguments on white space keeps each
 * expression in one argument; binding happens after the split, so bound paths may hold spaces.
 */
function tightenExpressions<T>(value: T): T {
  if (typeof value !== 'string') return value;
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => `\${{${expression}}}`) as T;
}

function isInside(path: string, folder: string): boolean {
  const relativePath = relative(folder, path);
  return relativePath !== '' && !relativePath.startsWith('..') && !isAbsolute(relativePath);
}

function memoryBytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseMiniBatchSize(value);
  return typeof parsed === 'string' || parsed.kind !== 'bytes' ? undefined : parsed.bytes;
}

function readHintOf(input: AssetInputOptions): ReadHint | undefined {
  if (input.read_delimited !== undefined) {
    const options = input.read_delimited;
    return {
      format: 'delimited',
      delimiter: options.delimiter,
      encoding: options.encoding,
      header: options.header,
      includePathColumn: options.include_path_column,
      emptyAsString: options.empty_as_string,
    };
  }
  if (input.read_json_lines !== undefined) return { format: 'json_lines', encoding: input.read_json_lines?.encoding, includePathColumn: input.read_json_lines?.include_path_column };
  if (input.read_parquet !== undefined) return { format: 'parquet', includePathColumn: input.read_parquet?.include_path_column };
  return undefined;
}

function formatFromExtension(path: string): ResolvedAppendRow['format'] {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.json' || extension === '.ndjson') return 'jsonl';
  if (extension === '.parquet' || extension === '.pq') return 'parquet';
  return 'text';
}

/** Why the folder cannot be listed (EACCES and the like), or undefined when it can. */
function unreadableFolder(folder: string): string | undefined {
  try {
    accessSync(folder, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? `permission denied (${code}); expected a folder this user can list` : (error as Error).message;
  }
}

/**
 * Why `path` cannot be written as a file or folder: it is the wrong kind, or a parent on the
 * way to it is a file. Undefined when it can be (missing folders are created).
 */
function unwritablePath(path: string, kind: 'file' | 'folder'): string | undefined {
  const stat = statIfExists(path);
  if (stat) {
    if (kind === 'file' && stat.isDirectory()) return `expected a file path for the output, but ${path} is a folder`;
    if (kind === 'folder' && !stat.isDirectory()) return `expected a folder for the output, but ${path} is a file`;
    return undefined;
  }
  for (let parent = dirname(path); ; parent = dirname(parent)) {
    const parentStat = statIfExists(parent);
    if (parentStat) return parentStat.isDirectory() ? undefined : `cannot write ${path}: ${parent} is a file, not a folder`;
    if (dirname(parent) === parent) return undefined;
  }
}

function statIfExists(path: string) {
  try {
    return existsSync(path) ? statSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Fields that only mean something on a cloud: accepted so job files run unchanged, said once. */
function collectCloudOnlyNotices(job: ParallelJobOptions, notices: string[], fromArgs: Partial<EngineArguments>): void {
  const noLocalEffect: string[] = [];
  if (job.experiment_name !== undefined) noLocalEffect.push('experiment_name');
  if (job.identity !== undefined) noLocalEffect.push('identity');
  if (job.properties !== undefined) noLocalEffect.push('properties');
  for (const field of ['instance_type', 'shm_size', 'docker_args', 'properties', 'locations'] as const) {
    if (job.resources?.[field] !== undefined) noLocalEffect.push(`resources.${field}`);
  }
  const environment = job.task.environment;
  if (typeof environment === 'string') noLocalEffect.push(`task.environment (${environment})`);
  else if (environment) {
    for (const field of ['image', 'conda_file', 'build'] as const) {
      if (environment[field] !== undefined) noLocalEffect.push(`task.environment.${field}`);
    }
  }
  if (noLocalEffect.length > 0) {
    notices.push(`no local effect, accepted for compatibility: ${noLocalEffect.join(', ')} (nothing is provisioned: the script runs with this machine's Node.js or Python)`);
  }
  if (job.copy_logs_to_parent ?? fromArgs.copy_logs_to_parent) {
    notices.push('copy_logs_to_parent: a standalone job has no parent pipeline; logs stay in this run directory');
  }
  if (job.is_deterministic !== undefined) {
    notices.push('is_deterministic: reuse of results applies to pipeline steps; a standalone run always runs');
  }
}
