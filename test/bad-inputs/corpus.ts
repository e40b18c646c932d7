import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { FIXTURE_PYTHON, FIXTURE_SCRIPTS } from '../helpers.js';

/*
 * The bad-input corpus: one case per way a user (or a user's script or data) can go wrong.
 * Each case is a folder of files plus a job.yml, run through the real CLI by corpus.test.ts,
 * which asserts the exit code, a message fragment and that nothing is half-written.
 *
 * Paths in `files` are relative to the case folder; jobs refer to ./data (input), ./src (the
 * entry script) and ./out (outputs). The run's MINIBATCH_HOME is <case>/home.
 */

/**
 * A file's content, a symlink, an empty folder, or a mode: `{content, mode}` is a file written
 * then chmod-ed; `{mode}` alone is applied to a folder the other entries created (last of all).
 */
export type CaseFile = string | Buffer | { symlink: string } | { dir: true } | { content?: string | Buffer; mode: number };

export interface BadInputCase {
  name: string;
  files: Record<string, CaseFile>;
  /** Text of job.yml (written only when not undefined). */
  job: string | undefined;
  /** Arguments after `run job.yml` (ignored when `argv` is given). */
  args?: string[];
  /** The whole command line after the binary, for CLI usage cases. */
  argv?: string[];
  expectExit: 0 | 1 | 2;
  expectStderr?: RegExp;
  expectStdout?: RegExp;
  /** What is under out/ afterwards: no file at all, or the output file (the only file under out/) with this many lines. */
  output?: 'absent' | { rows: number };
  /**
   * For exit 2: whether the problem is found only once the run has started (a run directory
   * may then exist, and its job_result.txt says Failed). Default false: validation fails and
   * no run directory is created.
   */
  started?: boolean;
  /** The case needs a Python interpreter: `--python <it>` is added; skipped when there is none. */
  python?: boolean;
  /** Extra environment for the CLI. */
  env?: Record<string, string>;
  /** Skip with this reason (decided when the corpus loads). */
  skip?: string | false;
  /**
   * A known bug in src (see the report): the case states the correct behaviour and runs as a
   * `todo`, so it is reported without failing the suite until the bug is fixed.
   */
  bug?: string;
  /** Extra set-up once the files are written (for what `files` cannot express). */
  setup?: (dir: string) => void;
  /** Extra checks once the run is over. */
  check?: (ctx: { dir: string; home: string; stdout: string; stderr: string }) => void;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Writes a case's files (symlinks and modes last) and its job.yml into `dir`. */
export function writeCase(dir: string, testCase: BadInputCase): void {
  const entries = Object.entries(testCase.files) as [string, CaseFile][];
  const modes: [string, number][] = [];
  const links: [string, string][] = [];
  for (const [path, content] of entries) {
    const target = join(dir, path);
    if (typeof content === 'string' || Buffer.isBuffer(content)) {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    } else if ('symlink' in content) {
      links.push([target, content.symlink]);
    } else if ('dir' in content) {
      mkdirSync(target, { recursive: true });
    } else {
      if (content.content !== undefined) {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content.content);
      }
      modes.push([target, content.mode]);
    }
  }
  for (const [target, to] of links) {
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(to, target);
  }
  if (testCase.job !== undefined) writeFileSync(join(dir, 'job.yml'), testCase.job);
  testCase.setup?.(dir);
  for (const [target, mode] of modes) chmodSync(target, mode);
}

/** Python with the standard library (the bridge needs nothing else), or undefined. */
export const PYTHON: string | undefined = (() => {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 8)'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
})();

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** `count` input files data/f-0000.txt… holding their index. */
export function inputFiles(count: number, folder = 'data'): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`${folder}/f-${String(i).padStart(4, '0')}.txt`] = `${i}\n`;
  return files;
}

/** A fixture script from test/fixtures/scripts (or python), as src/<name>. */
export function fixture(name: string): Record<string, string> {
  const folder = name.endsWith('.py') ? FIXTURE_PYTHON : FIXTURE_SCRIPTS;
  return { [`src/${name}`]: readFileSync(join(folder, name), 'utf8') };
}

/** An inline entry script as src/s.mjs (or src/<name>). */
export function script(code: string, name = 's.mjs'): Record<string, string> {
  return { [`src/${name}`]: code };
}

/** The well-behaved script: one row per file, its base name. */
export const ECHO = `import { basename } from 'node:path';
export function run(miniBatch) {
  return miniBatch.map((file) => basename(file));
}
`;

export interface JobParts {
  /** Line 3: the data input. */
  inputs?: string;
  /** Line 5: the output. */
  outputs?: string;
  /** Line 6. */
  inputData?: string;
  /** Line 7 (null = no mini_batch_size line). */
  size?: string | null;
  /** Line 10. */
  retry?: string;
  /** Top-level lines inserted after line 10 (line 11 on). */
  top?: string;
  entryScript?: string;
  code?: string;
  appendRowTo?: string | null;
  /** Lines added at the end of task:. */
  task?: string;
  processes?: number | string;
}

/**
 * A JS file-list job, laid out so line numbers are stable:
 *
 *  1 type: parallel            6 input_data: ${{inputs.data}}          11 task: (or `top` lines first)
 *  2 inputs:                   7 mini_batch_size: "2"                  12   code: ./src
 *  3   data: {…}               8 max_concurrency_per_instance: 1       13   entry_script: s.mjs
 *  4 outputs:                  9 resource_monitor_interval: 0          14   append_row_to: ${{outputs.rows}}
 *  5   rows: {…rows.txt}      10 retry_settings: {max_retries: 0, timeout: 10}
 */
export function jsJob(parts: JobParts = {}): string {
  const lines = [
    'type: parallel',
    'inputs:',
    parts.inputs ?? '  data: {type: uri_folder, path: ./data}',
    'outputs:',
    parts.outputs ?? '  rows: {type: uri_file, path: ./out/rows.txt}',
    `input_data: ${parts.inputData ?? '${{inputs.data}}'}`,
    ...(parts.size === null ? [] : [`mini_batch_size: ${parts.size ?? '"2"'}`]),
    `max_concurrency_per_instance: ${parts.processes ?? 1}`,
    'resource_monitor_interval: 0',
    `retry_settings: ${parts.retry ?? '{max_retries: 0, timeout: 10}'}`,
    ...(parts.top !== undefined ? [parts.top] : []),
    'task:',
    `  code: ${parts.code ?? './src'}`,
    `  entry_script: ${parts.entryScript ?? 's.mjs'}`,
    ...(parts.appendRowTo === null ? [] : [`  append_row_to: ${parts.appendRowTo ?? '${{outputs.rows}}'}`]),
    ...(parts.task !== undefined ? [parts.task] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The same job with a Python entry script (src/s.py). */
export function pyJob(parts: JobParts = {}): string {
  return jsJob({ entryScript: 's.py', ...parts });
}

/**
 * A tabular job: data/MLTable (when `mltable` is given) read by the tabular echo script
 * (tabular_echo_rows.mjs), rows to out/rows.jsonl.
 */
export function tableJob(parts: JobParts = {}): string {
  return jsJob({
    inputs: '  table: {type: mltable, path: ./data}',
    outputs: '  rows: {type: uri_file, path: ./out/rows.jsonl}',
    inputData: '${{inputs.table}}',
    size: '"1kb"',
    entryScript: 'tabular_echo_rows.mjs',
    ...parts,
  });
}

export const TABLE_SCRIPT = fixture('tabular_echo_rows.mjs');
const READ_CSV = 'transformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n';

/** data/<file> plus an MLTable reading it as CSV. */
export function csvTable(file: string, content: string | Buffer, transformations = READ_CSV): Record<string, CaseFile> {
  return { [`data/${file}`]: content, 'data/MLTable': `paths:\n  - file: ./${file}\n${transformations}`, ...TABLE_SCRIPT };
}

function tinyParquet(): Buffer {
  return Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }] }));
}

const FILES3 = inputFiles(3);
const ECHO_JOB = { ...FILES3, ...script(ECHO) };
/** The README's job.yml:L:C: field: message format. */
const at = (line: number, column: number, rest: string) => new RegExp(`^minibatch: job\\.yml:${line}:${column}: ${rest}`, 'm');
const py = (file: string) => ({ 'src/s.py': readFileSync(join(FIXTURE_PYTHON, file), 'utf8') });
const noPython = PYTHON ? false : 'no python3 (3.8+) found';

// ---------------------------------------------------------------------------------------------
// The corpus

export const corpus: BadInputCase[] = [];
const add = (...cases: BadInputCase[]) => corpus.push(...cases);

// --- The job file itself: missing, a folder, not YAML, malformed YAML -----------------------
add(
  {
    name: 'cli: a job file that does not exist',
    files: ECHO_JOB,
    job: undefined,
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: cannot read the job file: no such file$/m,
  },
  {
    name: 'cli: a directory given as the job file',
    files: { ...ECHO_JOB, 'job.yml': { dir: true } },
    job: undefined,
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: cannot read the job file: EISDIR: illegal operation on a directory, read$/m,
  },
  {
    name: 'cli: a job file that is a symlink loop',
    files: { ...ECHO_JOB, 'job.yml': { symlink: 'job.yml' } },
    job: undefined,
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: cannot read the job file: ELOOP: too many symbolic links encountered, open 'job\.yml'$/m,
  },
  {
    name: 'cli: an empty job file',
    files: ECHO_JOB,
    job: '',
    expectExit: 2,
    expectStderr: /job\.yml: expected a job \(a YAML mapping with type: parallel\)/,
  },
  {
    name: 'cli: a job file of binary garbage',
    files: { ...ECHO_JOB, 'job.yml': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff, 0xfe, 0x0a, 0x3a, 0x3a, 0x0a]) },
    job: undefined,
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:1:1: malformed YAML: Implicit keys need to be on a single line$/m,
  },
  {
    name: 'yaml: a flow mapping never closed',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./data' }),
    expectExit: 2,
    expectStderr: at(4, 1, 'malformed YAML: '),
  },
  {
    name: 'yaml: a quoted string never closed',
    files: ECHO_JOB,
    job: jsJob({ size: '"2' }),
    expectExit: 2,
    // The yaml parser places this error at the end of the file, not at the quote on line 7.
    expectStderr: /^minibatch: job\.yml:15:1: malformed YAML: Missing closing "quote$/m,
  },
  {
    name: 'yaml: bad indentation',
    files: ECHO_JOB,
    job: jsJob().replace('  entry_script: s.mjs', '    entry_script: s.mjs'),
    expectExit: 2,
    // Over-indented, the line continues the plain scalar of line 12 (code: ./src entry_script: …).
    expectStderr: /^minibatch: job\.yml:12:9: malformed YAML: Nested mappings are not allowed in compact mappings$/m,
  },
  {
    name: 'yaml: a tab used for indentation',
    files: ECHO_JOB,
    job: jsJob().replace('  entry_script: s.mjs', '\tentry_script: s.mjs'),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:13:\d+: malformed YAML: /m,
  },
  {
    name: 'yaml: a duplicate key',
    files: ECHO_JOB,
    job: jsJob({ top: 'mini_batch_size: "3"' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:11:1: malformed YAML: Map keys must be unique$/m,
  },
  {
    name: 'yaml: an alias to an anchor that does not exist',
    files: ECHO_JOB,
    job: jsJob({ size: '*size' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: malformed YAML: Unresolved alias .*: size$/m,
  },
  {
    name: 'yaml: the job is a list, not a mapping',
    files: ECHO_JOB,
    job: '- type: parallel\n- input_data: x\n',
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: expected a job \(a YAML mapping with type: parallel\)$/m,
  },
  {
    name: 'yaml: the job is a scalar',
    files: ECHO_JOB,
    job: 'parallel\n',
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: expected a job \(a YAML mapping with type: parallel\)$/m,
  },
  {
    name: 'yaml: two documents in one job file',
    files: ECHO_JOB,
    job: `${jsJob()}---\ntype: parallel\n`,
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:15:1: malformed YAML: expected one YAML document, found several \(separated by ---\)$/m,
  },
);

// --- Unknown and misspelled fields, at every level -------------------------------------------
add(
  {
    name: 'field: misspelled top-level field gets a suggestion',
    files: ECHO_JOB,
    job: jsJob({ top: 'mini_batch_sise: "2"' }),
    expectExit: 2,
    expectStderr: at(11, 1, 'mini_batch_sise: unknown field \\(did you mean "mini_batch_size"\\?\\)$'),
  },
  {
    name: 'field: an unknown top-level field with no near name',
    files: ECHO_JOB,
    job: jsJob({ top: 'frobnication: 3' }),
    expectExit: 2,
    expectStderr: at(11, 1, 'frobnication: unknown field$'),
  },
  {
    name: 'field: misspelled retry_settings.max_retry',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retry: 1, timeout: 10}' }),
    expectExit: 2,
    expectStderr: at(10, 18, 'retry_settings\\.max_retry: unknown field \\(did you mean "max_retries"\\?\\)$'),
  },
  {
    name: 'field: misspelled task.entry_scirpt',
    files: ECHO_JOB,
    job: jsJob({ task: '  entry_scirpt: s.mjs' }),
    expectExit: 2,
    expectStderr: at(15, 3, 'task\\.entry_scirpt: unknown field \\(did you mean "entry_script"\\?\\)$'),
  },
  {
    name: 'field: misspelled inputs.data.pth',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, pth: ./data}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml: 2 problems:\n {2}job\.yml:3:3: inputs\.data\.path: required field is missing \(expected a path\)\n {2}job\.yml:3:28: inputs\.data\.pth: unknown field \(did you mean "path"\?\)$/m,
  },
  {
    name: 'field: misspelled outputs.rows.paht',
    files: ECHO_JOB,
    job: jsJob({ outputs: '  rows: {type: uri_file, paht: ./out/rows.txt}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:5:26: outputs\.rows\.paht: unknown field \(did you mean "path"\?\)$/m,
  },
  {
    name: 'field: misspelled resources.instance_cout',
    files: ECHO_JOB,
    job: jsJob({ top: 'resources: {instance_cout: 2}' }),
    expectExit: 2,
    expectStderr: at(11, 13, 'resources\\.instance_cout: unknown field \\(did you mean "instance_count"\\?\\)$'),
  },
  {
    name: 'field: type misspelled as paralel',
    files: ECHO_JOB,
    job: jsJob().replace('type: parallel', 'type: paralel'),
    expectExit: 2,
    expectStderr: at(1, 1, 'type: expected parallel, got "paralel"$'),
  },
  {
    name: 'field: type: command is not supported',
    files: ECHO_JOB,
    job: jsJob().replace('type: parallel', 'type: command'),
    expectExit: 2,
    expectStderr: /job\.yml:1:\d+: type: "command" jobs are not supported by this version of minibatch yet; expected type: parallel/,
  },
  {
    name: 'field: no type at all',
    files: ECHO_JOB,
    job: jsJob().replace('type: parallel\n', ''),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:1:1: type: expected parallel$/m,
  },
  {
    name: 'field: no task',
    files: ECHO_JOB,
    job: jsJob().replace(/task:[\s\S]*$/, ''),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:1:1: task: required field is missing(?! \(Invalid input)/m,
  },
  {
    name: 'field: several problems are reported at once',
    files: ECHO_JOB,
    job: jsJob({ top: 'error_threshold: many\nlogging_level: LOUD' }),
    expectExit: 2,
    expectStderr: /job\.yml: 2 problems:\n {2}job\.yml:11:\d+: error_threshold: .*\n {2}job\.yml:12:\d+: logging_level: /,
  },
);

// --- Wrong types for every numeric and boolean field -----------------------------------------
const wrongType = (name: string, top: string, line: number, message: string): BadInputCase => ({
  name: `type: ${name}`,
  files: ECHO_JOB,
  job: jsJob({ top }),
  expectExit: 2,
  expectStderr: new RegExp(`^minibatch: job\\.yml:${line}:\\d+: ${message}$`, 'm'),
});
add(
  {
    name: 'type: max_concurrency_per_instance "two"',
    files: ECHO_JOB,
    job: jsJob({ processes: 'two' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:8:1: max_concurrency_per_instance: expected an integer >= 1, got "two"$/m,
  },
  {
    name: 'type: max_concurrency_per_instance 0',
    files: ECHO_JOB,
    job: jsJob({ processes: 0 }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:8:\d+: max_concurrency_per_instance: expected an integer >= 1, got 0$/m,
  },
  {
    name: 'type: max_concurrency_per_instance 1.5',
    files: ECHO_JOB,
    job: jsJob({ processes: 1.5 }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:8:\d+: max_concurrency_per_instance: expected an integer >= 1, got 1\.5$/m,
  },
  wrongType('resources.instance_count 0', 'resources: {instance_count: 0}', 11, 'resources\\.instance_count: expected an integer >= 1, got 0'),
  wrongType('resources.instance_count "many"', 'resources: {instance_count: many}', 11, 'resources\\.instance_count: expected an integer >= 1, got "many"'),
  wrongType('error_threshold a string', 'error_threshold: "ten"', 11, 'error_threshold: expected an integer >= -1, got "ten"'),
  wrongType('error_threshold a fraction', 'error_threshold: 2.5', 11, 'error_threshold: expected an integer >= -1, got 2\\.5'),
  wrongType('error_threshold true', 'error_threshold: true', 11, 'error_threshold: expected an integer >= -1, got true'),
  wrongType('overhead_timeout a string', 'overhead_timeout: soon', 11, 'overhead_timeout: expected a number of seconds > 0 and <= 259200, got "soon"'),
  wrongType('progress_update_timeout negative', 'progress_update_timeout: -5', 11, 'progress_update_timeout: expected a number of seconds > 0 and <= 259200, got -5'),
  wrongType('first_task_creation_timeout 0', 'first_task_creation_timeout: 0', 11, 'first_task_creation_timeout: expected a number of seconds > 0 and <= 259200, got 0'),
  {
    name: 'type: resource_monitor_interval negative',
    files: ECHO_JOB,
    job: jsJob().replace('resource_monitor_interval: 0', 'resource_monitor_interval: -1'),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:9:1: resource_monitor_interval: expected a number of seconds >= 0, got -1$/m,
  },
  wrongType('append_row_dataframe_header "yes"', 'append_row_dataframe_header: "yes"', 11, 'append_row_dataframe_header: expected true or false, got "yes"'),
  wrongType('copy_logs_to_parent 1', 'copy_logs_to_parent: 1', 11, 'copy_logs_to_parent: expected true or false, got 1'),
  wrongType('speculative_copies "off"', 'speculative_copies: "off"', 11, 'speculative_copies: expected true or false, got "off"'),
  wrongType('target_mini_batch_seconds 0', 'target_mini_batch_seconds: 0', 11, 'target_mini_batch_seconds: expected a number of seconds > 0 and <= 259200, got 0'),
  wrongType('is_deterministic "true" (a string)', 'is_deterministic: "true"', 11, 'is_deterministic: expected true or false, got "true"'),
  wrongType('logging_level VERBOSE', 'logging_level: VERBOSE', 11, 'logging_level: expected one of DEBUG, INFO, WARNING, got "VERBOSE"'),
  wrongType('append_row_format xml', 'append_row_format: xml', 11, 'append_row_format: expected one of text, csv, jsonl, parquet, got "xml"'),
  wrongType('max_worker_memory "lots"', 'max_worker_memory: lots', 11, 'max_worker_memory: expected a memory size like "2GB" or "512MB", got "lots"'),
  wrongType('max_worker_memory without a unit', 'max_worker_memory: 512', 11, 'max_worker_memory: expected a memory size like "2GB" or "512MB", got 512'),
  wrongType('environment_variables with a list value', 'environment_variables: {A: [1, 2]}', 11, 'environment_variables\\.A: expected a string, number or boolean, got an array of 2'),
  {
    ...wrongType('environment_variables a list', 'environment_variables: [A=1]', 11, 'environment_variables: expected .*, got an array of 1'),
  },
  {
    ...wrongType('partition_keys a string', 'partition_keys: region', 11, 'partition_keys: expected a list, got "region"'),
  },
  {
    name: 'type: task.program_arguments a mapping',
    files: ECHO_JOB,
    job: jsJob({ task: '  program_arguments: {model: m}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:15:\d+: task\.program_arguments: expected a string \(or a list of strings\), got an object$/m,
  },
  {
    name: 'type: task.type command',
    files: ECHO_JOB,
    job: jsJob({ task: '  type: command' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:15:\d+: task\.type: expected run_function, got "command"$/m,
  },
  {
    name: 'type: inputs.data.type uri_files',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_files, path: ./data}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.type: expected one of uri_folder, uri_file, mltable, got "uri_files"/,
  },
  {
    name: 'type: inputs.data.mode rw_mount (an output mode)',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./data, mode: rw_mount}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.mode: expected one of ro_mount, download, direct, eval_mount, eval_download, got "rw_mount"/,
  },
  {
    name: 'type: an input that is a list',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: [./data]' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data: expected a literal \(string, number, true\/false\) or an object with type and path/,
  },
  {
    name: 'type: input_data a number',
    files: ECHO_JOB,
    job: jsJob({ inputData: '5' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: expected \\$\\{\\{inputs\\.<name>\\}\\}, got 5$'),
  },
  {
    name: 'type: task.code a number',
    files: ECHO_JOB,
    job: jsJob({ code: '5' }),
    expectExit: 2,
    expectStderr: /job\.yml:12:\d+: task\.code: expected a folder path, got 5/,
  },
);

// --- mini_batch_size -----------------------------------------------------------------------------
const sizeCase = (written: string, message: string): BadInputCase => ({
  name: `mini_batch_size: ${written}`,
  files: ECHO_JOB,
  job: jsJob({ size: written }),
  expectExit: 2,
  expectStderr: new RegExp(`^minibatch: job\\.yml:7:\\d+: mini_batch_size: ${message}$`, 'm'),
});
const SIZE_EXPECTED = 'expected a file count like "10" or a size like "10kb", "1MB"';
add(
  sizeCase('"10xb"', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got "10xb"`),
  sizeCase('"0"', 'expected a size greater than 0, got "0"'),
  sizeCase('0', 'expected a size greater than 0, got 0'),
  sizeCase('"-1"', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got "-1"`),
  sizeCase('-1', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got -1`),
  sizeCase('"1.5mb"', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got "1\\.5mb"`),
  sizeCase('2.5', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got 2\\.5`),
  sizeCase('""', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got ""`),
  { ...sizeCase('true', `${SIZE_EXPECTED}.*, got true`) },
  sizeCase('"10 kb"', `${SIZE_EXPECTED} \\(digits, then optionally kb, mb or gb\\), got "10 kb"`),
  { ...sizeCase('[2]', `${SIZE_EXPECTED}.*, got an array of 1`) },
  sizeCase('atuo', 'expected a file count like "10", a size like "10kb", or auto, got "atuo"'),
  {
    name: 'mini_batch_size: a byte size on a file-list input',
    files: ECHO_JOB,
    job: jsJob({ size: '"1mb"' }),
    expectExit: 2,
    expectStderr: /job\.yml:7:1: mini_batch_size: expected a file count for a file input like "10", got "1mb" \(a byte size splits a table\)/,
  },
  {
    name: 'mini_batch_size: larger than the input (one mini-batch, succeeds)',
    files: ECHO_JOB,
    job: jsJob({ size: '"100000"' }),
    expectExit: 0,
    expectStdout: /^Succeeded: 1 of 1 mini-batches succeeded/m,
    output: { rows: 3 },
  },
);

// --- Thresholds and retry_settings out of range ----------------------------------------------------
add(
  wrongType('error_threshold -5', 'error_threshold: -5', 11, 'error_threshold: expected an integer >= -1, got -5'),
  wrongType('mini_batch_error_threshold -2', 'mini_batch_error_threshold: -2', 11, 'mini_batch_error_threshold: expected an integer >= -1, got -2'),
  wrongType('allowed_failed_count -3', 'allowed_failed_count: -3', 11, 'allowed_failed_count: expected an integer >= -1, got -3'),
  wrongType('allowed_failed_percent 150', 'allowed_failed_percent: 150', 11, 'allowed_failed_percent: expected a number from 0 to 100, got 150'),
  wrongType('allowed_failed_percent -1', 'allowed_failed_percent: -1', 11, 'allowed_failed_percent: expected a number from 0 to 100, got -1'),
  wrongType('allowed_failed_percent "10%"', 'allowed_failed_percent: 10%', 11, 'allowed_failed_percent: expected a number from 0 to 100, got "10%"'),
  {
    name: 'threshold: allowed_failed_count and mini_batch_error_threshold disagree',
    files: ECHO_JOB,
    job: jsJob({ top: 'mini_batch_error_threshold: 1\nallowed_failed_count: 2' }),
    expectExit: 2,
    expectStderr: at(12, 1, 'allowed_failed_count: allowed_failed_count is another name for mini_batch_error_threshold; they disagree \\(2 vs 1\\): set one$'),
  },
  {
    name: 'threshold: --allowed_failed_percent in program_arguments out of range',
    files: ECHO_JOB,
    job: jsJob({ task: '  program_arguments: --allowed_failed_percent 101' }),
    expectExit: 2,
    expectStderr: /task\.program_arguments: --allowed_failed_percent: expected a number >= 0 and <= 100, got "101"/,
  },
  {
    name: 'retry: max_retries -1',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retries: -1, timeout: 10}' }),
    expectExit: 2,
    // Nested fields point at their key (column 18), as in the README's example.
    expectStderr: at(10, 18, 'retry_settings\\.max_retries: expected an integer >= 0, got -1$'),
  },
  {
    name: 'retry: max_retries 1.5',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retries: 1.5, timeout: 10}' }),
    expectExit: 2,
    expectStderr: /job\.yml:10:\d+: retry_settings\.max_retries: expected an integer >= 0, got 1\.5$/m,
  },
  {
    name: 'retry: timeout 0',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retries: 0, timeout: 0}' }),
    expectExit: 2,
    expectStderr: /job\.yml:10:\d+: retry_settings\.timeout: expected a number of seconds > 0 and <= 259200, got 0$/m,
  },
  {
    name: 'retry: timeout past 3 days',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retries: 0, timeout: 259201}' }),
    expectExit: 2,
    expectStderr: /job\.yml:10:\d+: retry_settings\.timeout: expected a number of seconds > 0 and <= 259200, got 259201$/m,
  },
  {
    name: 'retry: timeout "1m" (a duration string)',
    files: ECHO_JOB,
    job: jsJob({ retry: '{max_retries: 0, timeout: 1m}' }),
    expectExit: 2,
    expectStderr: /job\.yml:10:\d+: retry_settings\.timeout: expected a number of seconds > 0 and <= 259200, got "1m"$/m,
  },
  {
    name: 'retry: retry_settings a number',
    files: ECHO_JOB,
    job: jsJob({ retry: '3' }),
    expectExit: 2,
    expectStderr: at(10, 1, 'retry_settings: expected .*, got 3$'),
  },
  {
    name: 'retry: --run_max_try 0 in program_arguments',
    files: ECHO_JOB,
    job: jsJob({ retry: '{timeout: 10}', task: '  program_arguments: --run_max_try 0' }),
    expectExit: 2,
    expectStderr: /task\.program_arguments: --run_max_try: expected an integer >= 1, got "0"/,
  },
);

// --- Bindings -------------------------------------------------------------------------------------
add(
  {
    name: 'binding: input_data names an undeclared input',
    files: ECHO_JOB,
    job: jsJob({ inputData: '${{inputs.nope}}' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: \\$\\{\\{inputs\\.nope\\}\\} names no declared input'),
  },
  {
    name: 'binding: input_data bound to an output',
    files: ECHO_JOB,
    job: jsJob({ inputData: '${{outputs.rows}}' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: expected \\$\\{\\{inputs\\.<name>\\}\\}, got an output binding$'),
  },
  {
    name: 'binding: input_data with a closing brace missing',
    files: ECHO_JOB,
    job: jsJob({ inputData: '"${{inputs.data}"' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: '),
  },
  {
    name: 'binding: input_data an empty ${{}}',
    files: ECHO_JOB,
    job: jsJob({ inputData: '"${{}}"' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: '),
  },
  {
    name: 'binding: input_data a plain path instead of a binding',
    files: ECHO_JOB,
    job: jsJob({ inputData: './data' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: expected \\$\\{\\{inputs\\.<name>\\}\\}, got "\\./data"$'),
  },
  {
    name: 'binding: input_data bound to a literal input',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./data}\n  n: 5', inputData: '${{inputs.n}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:7:1: input_data: input "n" is a literal; the split input must be a uri_folder or uri_file/,
  },
  {
    name: 'binding: input_data with an unknown group',
    files: ECHO_JOB,
    job: jsJob({ inputData: '${{parent.inputs.data}}' }),
    expectExit: 2,
    expectStderr: at(6, 1, 'input_data: '),
  },
  {
    name: 'binding: program_arguments names an undeclared input',
    files: ECHO_JOB,
    job: jsJob({ task: '  program_arguments: --model ${{inputs.model}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:15:\d+: task\.program_arguments: \$\{\{inputs\.model\}\} names no declared input/,
  },
  {
    name: 'binding: append_row_to names an undeclared output',
    files: ECHO_JOB,
    job: jsJob({ appendRowTo: '${{outputs.scores}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:14:\d+: task\.append_row_to: \$\{\{outputs\.scores\}\} names no declared output/,
  },
  {
    name: 'binding: append_row_to bound to an input',
    files: ECHO_JOB,
    job: jsJob({ appendRowTo: '${{inputs.data}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:14:\d+: task\.append_row_to: .*input/,
  },
);

// --- Paths: missing, empty, unreadable, file vs folder ---------------------------------------
add(
  {
    name: 'path: the input folder does not exist',
    files: script(ECHO),
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: input path does not exist: \/.*\/data$/m,
  },
  {
    name: 'path: an empty input path',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ""}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: /,
  },
  {
    name: 'path: a uri_file input that is a folder',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_file, path: ./data}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: expected a file for a uri_file input, but \/.*\/data is a folder$/m,
  },
  {
    name: 'path: a uri_folder input that is a file',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./data/f-0000.txt}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: expected a folder for a uri_folder input, but \/.*\/data\/f-0000\.txt is a file \(use type: uri_file\)$/m,
  },
  {
    name: 'path: the code folder does not exist',
    files: FILES3,
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:12:\d+: task\.code: expected the folder holding the entry script, but \/.*\/src does not exist$/m,
  },
  {
    name: 'path: the code folder is a file',
    files: { ...FILES3, src: ECHO },
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:12:\d+: task\.code: expected the folder holding the entry script, but \/.*\/src is a file$/m,
  },
  {
    name: 'path: the entry script does not exist',
    files: { ...FILES3, ...script(ECHO, 'other.mjs') },
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:13:\d+: task\.entry_script: entry script not found: \/.*\/src\/s\.mjs$/m,
  },
  {
    name: 'path: the entry script is a folder',
    files: { ...FILES3, 'src/s.mjs': { dir: true } },
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:13:\d+: task\.entry_script: entry script not found: \/.*\/src\/s\.mjs$/m,
  },
  {
    name: 'path: an entry script with an unknown extension',
    files: { ...FILES3, ...script(ECHO, 's.txt') },
    job: jsJob({ entryScript: 's.txt' }),
    expectExit: 2,
    expectStderr: /job\.yml:13:\d+: task\.entry_script: expected a \.py, \.mjs, \.js, \.cjs or \.ts script, got "\.txt"$/m,
  },
  {
    name: 'path: an empty entry script (no run)',
    files: { ...FILES3, ...script('') },
    job: jsJob(),
    expectExit: 2,
    started: true,
    expectStderr: /entry script \/.*\/src\/s\.mjs does not export a run function/,
  },
  {
    name: 'path: an empty input folder succeeds with 0 mini-batches',
    files: { data: { dir: true }, ...script(ECHO) },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 0 of 0 mini-batches succeeded/m,
    output: { rows: 0 },
  },
  {
    name: 'path: an input folder of hidden files only (skipped) succeeds with 0 mini-batches',
    files: { 'data/.hidden': 'x\n', 'data/.git/config': 'x\n', ...script(ECHO) },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 0 of 0 mini-batches succeeded/m,
    output: { rows: 0 },
  },
  {
    name: 'path: an empty input file (uri_file) is one item',
    files: { 'data/empty.txt': '', ...script(ECHO) },
    job: jsJob({ inputs: '  data: {type: uri_file, path: ./data/empty.txt}' }),
    expectExit: 0,
    expectStdout: /^Succeeded: 1 of 1 mini-batches succeeded/m,
    output: { rows: 1 },
  },
  IS_ROOT
    ? {
        name: 'path: an unreadable input folder (chmod 000; root still reads it, so the job runs)',
        files: { ...ECHO_JOB, data: { mode: 0o000 } },
        job: jsJob(),
        expectExit: 0,
        expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded/m,
        output: { rows: 3 },
      }
    : {
        // Runs only as non-root; checked by hand as nobody (setpriv): refused at validation, exit 2, no run directory.
        name: 'path: an unreadable input folder (chmod 000)',
        files: { ...ECHO_JOB, data: { mode: 0o000 } },
        job: jsJob(),
        expectExit: 2,
        expectStderr: /job\.yml:3:\d+: inputs\.data\.path: .*\/data/,
      },
  IS_ROOT
    ? {
        name: 'path: an unreadable input file (chmod 000; root still reads it, so the job runs)',
        files: { ...ECHO_JOB, 'data/f-0001.txt': { content: '1\n', mode: 0o000 } },
        job: jsJob(),
        expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
        output: { rows: 3 },
      }
    : {
        // Checked by hand as nobody (setpriv): only existence is checked before run(), and this script does not read it.
        name: 'path: an unreadable input file (chmod 000; the script does not read it, so the job runs)',
        files: { ...ECHO_JOB, 'data/f-0001.txt': { content: '1\n', mode: 0o000 } },
        job: jsJob(),
        expectExit: 0,
        output: { rows: 3 },
      },
  {
    name: 'path: a dangling symlink in the input folder',
    files: { ...ECHO_JOB, 'data/gone.txt': { symlink: 'nowhere.txt' } },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'path: a symlink loop (a folder linking to itself) in the input folder does not hang',
    files: { ...ECHO_JOB, 'data/loop': { symlink: '.' } },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'path: two symlinks pointing at each other in the input folder do not hang',
    files: { ...ECHO_JOB, 'data/a': { symlink: 'b' }, 'data/b': { symlink: 'a' } },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'path: the input folder is itself a symlink loop',
    files: { ...script(ECHO), data: { symlink: 'data' } },
    job: jsJob(),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: /,
  },
  {
    name: 'path: the output goes under a path whose parent is a file',
    files: { ...ECHO_JOB, out: 'not a folder\n' },
    job: jsJob(),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:5:\d+: outputs\.rows\.path: .*out/m,
    output: 'absent',
  },
  {
    name: 'path: a file vanishes mid-run (deleted by an earlier mini-batch)',
    files: { ...inputFiles(6), ...fixture('fixture_delete_later_file.mjs') },
    job: jsJob({ entryScript: 'fixture_delete_later_file.mjs', top: 'error_threshold: -1' }),
    expectExit: 0,
    // The whole mini-batch (f-0004 and f-0005) fails: run() cannot read f-0005, named as the cause; not retried with max_retries 0.
    expectStderr: /warning: mini-batch 2 failed after 1 try \(error\): input file \/.*\/data\/f-0005\.txt cannot be read: it no longer exists/,
    expectStdout: /^Succeeded: 2 of 3 mini-batches succeeded, 1 failed; 4 items succeeded, 2 failed/m,
    output: { rows: 4 },
  },
  {
    name: 'path: a file vanishes mid-run with error_threshold 0 fails the job',
    files: { ...inputFiles(6), ...fixture('fixture_delete_later_file.mjs') },
    job: jsJob({ entryScript: 'fixture_delete_later_file.mjs', top: 'error_threshold: 0' }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 2, try 1, node-0\/process-0\): input file \/.*\/data\/f-0005\.txt cannot be read: it no longer exists/,
  },
);

// --- Entry scripts that misbehave (JavaScript) -------------------------------------------------
const FAIL_FAST = 'mini_batch_error_threshold: 0';
add(
  {
    name: 'script: a syntax error',
    files: { ...FILES3, ...fixture('fixture_syntax_error.mjs') },
    job: jsJob({ entryScript: 'fixture_syntax_error.mjs' }),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/fixture_syntax_error\.mjs failed to load: missing \) after argument list/,
  },
  {
    name: 'script: no run export',
    files: { ...FILES3, ...fixture('fixture_no_run.mjs') },
    job: jsJob({ entryScript: 'fixture_no_run.mjs' }),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/fixture_no_run\.mjs does not export a run function; expected `export async function run\(miniBatch, ctx\)` \(it exports: init, score\)/,
  },
  {
    name: 'script: a script that cannot load is reported without engine stack frames',
    files: { ...FILES3, ...fixture('fixture_no_run.mjs') },
    job: jsJob({ entryScript: 'fixture_no_run.mjs' }),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/fixture_no_run\.mjs does not export a run function/,
  },
  {
    name: 'script: run is not a function',
    files: { ...FILES3, ...script('export const run = 5;\n') },
    job: jsJob(),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/s\.mjs does not export a run function/,
  },
  {
    name: 'script: throws at import (top level)',
    files: { ...FILES3, ...script("throw new Error('top-level boom');\nexport function run(m) { return m; }\n") },
    job: jsJob(),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/s\.mjs failed to load: top-level boom/,
  },
  {
    name: 'script: imports a module that is not installed',
    files: { ...FILES3, ...script("import 'definitely-not-installed-pkg';\nexport function run(m) { return m; }\n") },
    job: jsJob(),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/s\.mjs failed to load: .*definitely-not-installed-pkg/,
  },
  {
    name: 'script: a CommonJS script exporting nothing',
    files: { ...FILES3, ...script('module.exports = {};\n', 's.cjs') },
    job: jsJob({ entryScript: 's.cjs' }),
    expectExit: 2,
    started: true,
    expectStderr: /Reason: entry script \/.*\/s\.cjs does not export a run function/,
  },
  {
    name: 'script: throws in init',
    files: { ...FILES3, ...fixture('fixture_init_throws.mjs') },
    job: jsJob({ entryScript: 'fixture_init_throws.mjs' }),
    expectExit: 1,
    expectStderr: /Reason: no worker could initialise: init\(\) failed \d+ times on node-0; the node stops\. Last error: cannot load the model: weights file missing/,
  },
  {
    name: 'script: process.exit(0) in init',
    files: { ...FILES3, ...script(`${ECHO}export function init() { process.exit(0); }\n`) },
    job: jsJob(),
    expectExit: 1,
    expectStderr: /Reason: no worker could initialise/,
  },
  {
    name: 'script: throws in run (job fails at mini_batch_error_threshold 0)',
    files: { ...FILES3, ...script("export function run() { throw new Error('model exploded'); }\n") },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): model exploded/,
  },
  {
    name: 'script: throws in run with thresholds off (succeeds with failures)',
    files: { ...FILES3, ...script("export function run() { throw new Error('model exploded'); }\n") },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 0 of 2 mini-batches succeeded, 2 failed; 0 items succeeded, 3 failed/m,
    output: { rows: 0 },
  },
  {
    name: 'script: throws a string, not an Error',
    files: { ...FILES3, ...script("export function run() { throw 'plain string'; }\n") },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*plain string/,
  },
  {
    name: 'script: returns a rejected promise',
    files: { ...FILES3, ...script("export async function run() { await new Promise((r) => setTimeout(r, 5)); throw new TypeError('async boom'); }\n") },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): async boom/,
  },
  {
    name: 'script: stack overflow in run',
    files: { ...FILES3, ...script('const f = (n) => f(n + 1) + 1;\nexport function run() { return [f(0)]; }\n') },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: Maximum call stack size exceeded/,
  },
  {
    name: 'script: an unhandled rejection in the background',
    files: { ...FILES3, ...script(`${ECHO}export function init() { Promise.reject(new Error('forgotten promise')); }\n`) },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /forgotten promise/,
  },
  {
    name: 'script: hangs in a synchronous loop (timeout 1)',
    files: { ...FILES3, ...script('export function run() { for (;;) {} }\n') },
    job: jsJob({ retry: '{max_retries: 0, timeout: 1}', top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*tim/i,
  },
  {
    name: 'script: never settles its promise (timeout 1)',
    files: { ...FILES3, ...script('export function run() { return new Promise(() => {}); }\n') },
    job: jsJob({ retry: '{max_retries: 0, timeout: 1}', top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*tim/i,
  },
  {
    name: 'script: hangs once, the retry succeeds (timeout 1, max_retries 1)',
    files: {
      ...FILES3,
      ...script(`import { basename } from 'node:path';
export function run(miniBatch, ctx) {
  if (ctx.miniBatchId === 0 && ctx.attempt === 1) for (;;) {}
  return miniBatch.map((file) => basename(file));
}
`),
    },
    job: jsJob({ retry: '{max_retries: 1, timeout: 1}', top: FAIL_FAST }),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed; 1 retries/m,
    output: { rows: 3 },
  },
  {
    name: 'script: hangs in init (first_task_creation_timeout 2)',
    files: { ...FILES3, ...script(`${ECHO}export function init() { for (;;) {} }\n`) },
    job: jsJob({ retry: '{max_retries: 0, timeout: 1}', top: 'first_task_creation_timeout: 2' }),
    expectExit: 1,
    expectStderr: /^Reason: first_task_creation_timeout exceeded: no mini-batch was scheduled within 2s of the start$/m,
  },
  {
    name: 'script: process.exit in run (a crash)',
    files: { ...inputFiles(6), ...fixture('fixture_exit_mid_batch.mjs') },
    job: jsJob({ entryScript: 'fixture_exit_mid_batch.mjs', top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 2, try 1, node-0\/process-0\): .*exit/i,
  },
  {
    name: 'script: process.exit in run, retried and succeeds',
    files: { ...inputFiles(6), ...fixture('fixture_exit_mid_batch.mjs') },
    job: jsJob({ entryScript: 'fixture_exit_mid_batch.mjs', retry: '{max_retries: 1, timeout: 10}' }),
    expectExit: 0,
    expectStdout: /^Succeeded: 3 of 3 mini-batches succeeded, 0 failed; 6 items succeeded, 0 failed; 1 retries/m,
    output: { rows: 6 },
  },
  {
    name: 'script: process.exit(0) in run (a clean exit is still a crash)',
    files: { ...FILES3, ...script('export function run() { process.exit(0); }\n') },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*exit/i,
  },
  {
    name: 'script: returns undefined',
    files: { ...FILES3, ...fixture('fixture_return_undefined.mjs') },
    job: jsJob({ entryScript: 'fixture_return_undefined.mjs', top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): run\(\) returned undefined; expected an array with one element per successful item \(return \[\] when nothing succeeded\)/,
  },
  {
    name: 'script: returns null',
    files: { ...FILES3, ...script('export function run() { return null; }\n') },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned null; expected an array with one element per successful item/,
  },
  {
    name: 'script: returns a string',
    files: { ...FILES3, ...script("export function run() { return 'done'; }\n") },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned a string; expected an array with one element per successful item$/m,
  },
  {
    name: 'script: returns a number',
    files: { ...FILES3, ...script('export function run() { return 42; }\n') },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned a number; expected an array with one element per successful item$/m,
  },
  {
    name: 'script: returns a plain object',
    files: { ...FILES3, ...script('export function run() { return { ok: true }; }\n') },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned an object; expected an array with one element per successful item$/m,
  },
  {
    name: 'script: returns fewer elements (failed items, the job succeeds)',
    files: { ...FILES3, ...script('export function run(miniBatch) { return miniBatch.slice(1).map(() => "x"); }\n') },
    job: jsJob(),
    expectExit: 0,
    // A mini-batch that returned fewer elements counts as failed (its missing items are failed items).
    expectStdout: /^Succeeded: 0 of 2 mini-batches succeeded, 2 failed; 1 items succeeded, 2 failed[\s\S]*First failure \(mini-batch 0\): run\(\) returned 1 elements for 2 items; the missing 1 count as failed items/m,
    output: { rows: 1 },
  },
  {
    name: 'script: returns fewer elements with error_threshold 0',
    files: { ...FILES3, ...script('export function run(miniBatch) { return miniBatch.slice(1).map(() => "x"); }\n') },
    job: jsJob({ top: 'error_threshold: 0' }),
    expectExit: 1,
    expectStderr: /Reason: .*error_threshold/,
  },
  {
    name: 'script: returns more elements than inputs',
    files: { ...FILES3, ...script('export function run(miniBatch) { return [...miniBatch, ...miniBatch].map(() => "x"); }\n') },
    job: jsJob(),
    expectExit: 0,
    // Extra elements are written as rows; succeeded items are capped at the inputs.
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed[\s\S]*\(6 rows\)/m,
    output: { rows: 6 },
  },
  {
    name: 'script: returns BigInt values (written as strings)',
    files: { ...FILES3, ...script('export function run(miniBatch) { return miniBatch.map(() => ({ n: 10n })); }\n') },
    job: jsJob({ top: FAIL_FAST, outputs: '  rows: {type: uri_file, path: ./out/rows.jsonl}' }),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
    check: ({ dir }) => {
      const text = readFileSync(join(dir, 'out', 'rows.jsonl'), 'utf8');
      if (text !== '{"n":"10"}\n'.repeat(3)) throw new Error(`unexpected rows: ${text}`);
    },
  },
  {
    name: 'script: returns a row with a circular reference',
    files: { ...FILES3, ...script('export function run(miniBatch) { return miniBatch.map(() => { const o = {}; o.self = o; return o; }); }\n') },
    job: jsJob({ top: FAIL_FAST, outputs: '  rows: {type: uri_file, path: ./out/rows.jsonl}' }),
    expectExit: 1,
    expectStderr: /circular/i,
  },
  {
    name: 'script: prints binary garbage to stdout (the job still succeeds)',
    files: {
      ...FILES3,
      ...script(`import { basename } from 'node:path';
export function run(miniBatch) {
  process.stdout.write(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0xc3, 0x28, 10]));
  return miniBatch.map((file) => basename(file));
}
`),
    },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded/m,
    output: { rows: 3 },
  },
  {
    name: 'script: writes ~20 MB to stdout (the job succeeds, the stdout log holds it)',
    files: {
      ...FILES3,
      ...script(`import { basename } from 'node:path';
import { writeSync } from 'node:fs';
export function run(miniBatch, ctx) {
  if (ctx.miniBatchId === 0) {
    const chunk = 'x'.repeat(1023) + '\\n';
    for (let i = 0; i < 20 * 1024; i++) writeSync(1, chunk);
  }
  return miniBatch.map((file) => basename(file));
}
`),
    },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded/m,
    output: { rows: 3 },
    check: ({ home }) => checkStdoutLog(home, 20 * 1024 * 1024),
  },
  {
    name: 'script: writes binary garbage to stderr and throws',
    files: { ...FILES3, ...script("export function run() { process.stderr.write(Buffer.from([0xff, 0, 0xfe, 10])); throw new Error('after garbage'); }\n") },
    job: jsJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: after garbage/,
  },
  {
    name: 'script: throws in shutdown (the rows are kept)',
    files: { ...FILES3, ...script(`${ECHO}export function shutdown() { throw new Error('shutdown boom'); }\n`) },
    job: jsJob(),
    expectExit: 0,
    expectStderr: /^warning: node-0\/process-0: shutdown\(\) failed: shutdown boom$/m,
    output: { rows: 3 },
  },
);

// --- Tabular input --------------------------------------------------------------------------
const utf8Bad = Buffer.concat([Buffer.from('id,name\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n3,fine\n')]);
add(
  {
    name: 'table: bytes that are not UTF-8',
    files: csvTable('latin.csv', utf8Bad),
    job: tableJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /\/data\/latin\.csv:3: bytes that are not valid UTF-8 \(encoding: utf8\); set read_delimited\.encoding to the file's encoding/,
  },
  {
    name: 'table: bytes that are not UTF-8 read as latin1 succeed',
    files: csvTable('latin.csv', utf8Bad, 'transformations:\n  - read_delimited: {encoding: latin1}\n'),
    job: tableJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 1 of 1 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'table: an unknown encoding',
    files: csvTable('a.csv', 'id\n1\n', 'transformations:\n  - read_delimited: {encoding: klingon}\n'),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /MLTable:\d+:\d+: .*encoding.*klingon/,
  },
  {
    name: 'table: a ragged row is a failed item (the job succeeds)',
    files: csvTable('ragged.csv', 'a,b\n1,2\noops\n3,4\n'),
    job: tableJob(),
    expectExit: 0,
    expectStderr: /\/data\/ragged\.csv:3: expected 2 fields, got 1/,
    output: { rows: 2 },
  },
  {
    name: 'table: a row with too many fields and error_threshold 0',
    files: csvTable('ragged.csv', 'a,b\n1,2\n3,4,5\n'),
    job: tableJob({ top: 'error_threshold: 0' }),
    expectExit: 1,
    expectStderr: /\/data\/ragged\.csv:3: expected 2 fields, got 3/,
  },
  {
    name: 'table: an unclosed quote',
    files: csvTable('quote.csv', 'a,b\n1,"open\n2,3\n'),
    job: tableJob({ top: 'error_threshold: 0' }),
    expectExit: 1,
    expectStderr: /\/data\/quote\.csv:2: /,
  },
  {
    name: 'table: a CSV with only a header succeeds with 0 mini-batches',
    files: csvTable('header.csv', 'id,region,v\n'),
    job: tableJob(),
    expectExit: 0,
    expectStderr: /warning: \/.*\/data\/header\.csv: no data rows \(only a header\)/,
    expectStdout: /^Succeeded: 0 of 0 mini-batches succeeded/m,
    output: { rows: 0 },
  },
  {
    name: 'table: an empty CSV',
    files: csvTable('empty.csv', ''),
    job: tableJob(),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/empty\.csv: expected a header row, but the file is empty/,
  },
  {
    name: 'table: a CSV holding one empty line',
    files: csvTable('blank.csv', '\n'),
    job: tableJob(),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/blank\.csv: /,
  },
  {
    name: 'table: a .parquet file that is not Parquet',
    files: { 'data/x.parquet': 'id,v\n1,2\n3,4\n5,6\n', 'data/MLTable': 'paths:\n  - file: ./x.parquet\ntransformations:\n  - read_parquet:\n', ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/x\.parquet: not a valid Parquet file: it does not start with "PAR1"/,
  },
  {
    name: 'table: a truncated Parquet file',
    files: { 'data/cut.parquet': tinyParquet().subarray(0, 40), ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/cut.parquet}' }),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/cut\.parquet: not a valid Parquet file: it does not end with "PAR1" \(truncated, or not Parquet\)/,
  },
  {
    name: 'table: an empty .parquet file',
    files: { 'data/empty.parquet': '', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/empty.parquet}' }),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/empty\.parquet: /,
  },
  {
    name: 'table: a Parquet file with a corrupt footer length',
    files: { 'data/bad.parquet': corruptFooter(tinyParquet()), ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/bad.parquet}' }),
    expectExit: 2,
    started: true,
    expectStderr: /\/data\/bad\.parquet: /,
  },
  {
    name: 'table: a JSON line that is not an object',
    files: { 'data/rows.jsonl': '{"a":1}\n[1,2]\n{"a":3}\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/rows.jsonl}', top: 'error_threshold: 0' }),
    expectExit: 1,
    expectStderr: /\/data\/rows\.jsonl:2: /,
  },
  {
    name: 'table: a JSON line that is not JSON',
    files: { 'data/rows.jsonl': '{"a":1}\n{"a":\n{"a":3}\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/rows.jsonl}' }),
    expectExit: 0,
    expectStderr: /\/data\/rows\.jsonl:2: /,
    output: { rows: 2 },
  },
  {
    name: 'mltable: malformed YAML',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': 'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: {header: all_files_same_headers\n', ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: \/.*\/data\/MLTable:5:1: malformed YAML: /m,
  },
  {
    name: 'mltable: an unknown transformation gets a suggestion',
    files: csvTable('a.csv', 'id\n1\n', 'transformations:\n  - read_delimted: {delimiter: ","}\n'),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: \/.*\/data\/MLTable:4:5: transformations\[0\]\.read_delimted: unknown transformation \(did you mean "read_delimited"\?\)$/m,
  },
  {
    name: 'mltable: a bad read_delimited option value',
    files: csvTable('a.csv', 'id\n1\n', 'transformations:\n  - read_delimited:\n      header: sometimes\n'),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: \/.*\/data\/MLTable:5:7: transformations\[0\]\.read_delimited\.header: expected one of all_files_same_headers, no_header, from_first_file, got "sometimes"$/m,
  },
  {
    name: 'mltable: an unknown read_delimited option',
    files: csvTable('a.csv', 'id\n1\n', 'transformations:\n  - read_delimited:\n      delimeter: ";"\n'),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable:5:7: transformations\[0\]\.read_delimited\.delimeter: unknown .*delimiter/,
  },
  {
    name: 'mltable: a path that does not exist',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': `paths:\n  - file: ./nope.csv\n${READ_CSV}`, ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable:2:5: paths\[0\]\.file: file not found: \/.*\/data\/nope\.csv$/m,
  },
  {
    name: 'mltable: no paths at all',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': READ_CSV, ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable:\d+:\d+: paths/,
  },
  {
    name: 'mltable: a pattern that matches nothing',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': `paths:\n  - pattern: ./*.tsv\n${READ_CSV}`, ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 0,
    // No warning that nothing matched (see the report).
    expectStdout: /^Succeeded: 0 of 0 mini-batches succeeded/m,
    output: { rows: 0 },
  },
  {
    name: 'mltable: the folder has no MLTable file',
    files: { 'data/a.csv': 'id\n1\n', ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: .*data: no MLTable file found \(expected .*\/data\/MLTable\)$/m,
  },
  {
    name: 'mltable: MLTable is a folder',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': { dir: true }, ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /MLTable/,
  },
  {
    name: 'mltable: MLTable is binary garbage',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 0x7b, 0x7b]), ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable/,
  },
  {
    name: 'mltable: a negative take',
    files: csvTable('a.csv', 'id\n1\n', `${READ_CSV}  - take: -2\n`),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable:7:5: transformations\[1\]\.take: expected an integer >= 0, got -2$/m,
  },
  {
    name: 'mltable: a table transformation without a read transformation',
    files: csvTable('a.csv', 'id\n1\n', 'transformations:\n  - drop_columns: [v]\n'),
    job: tableJob(),
    expectExit: 2,
    expectStderr: /\/data\/MLTable:4:5: transformations\[0\]\.drop_columns: drop_columns needs a read transformation/,
  },
  {
    name: 'mltable: read hints on an mltable input',
    files: csvTable('a.csv', 'id\n1\n'),
    job: tableJob({ inputs: '  table: {type: mltable, path: ./data, read_parquet: {}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.table: an mltable input says how to read it in its MLTable file/,
  },
  {
    name: 'table: two read hints on one input',
    files: { 'data/a.csv': 'id\n1\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/a.csv, read_delimited: {}, read_parquet: {}}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.table: expected at most one of read_delimited, read_json_lines, read_parquet/,
  },
  {
    name: 'table: a partition key that is not a column',
    files: csvTable('a.csv', 'id,region\n1,north\n'),
    job: tableJob({ size: null, top: 'partition_keys: [regoin]' }),
    expectExit: 2,
    started: true,
    // Found when the table is planned; the message has no job.yml:line:col (see the report).
    expectStderr: /^Reason: partition_keys: "regoin" is not a column of the table; did you mean "region"\? \(columns: id, region\)$/m,
  },
  {
    name: 'table: partition_keys empty',
    files: csvTable('a.csv', 'id,region\n1,north\n'),
    job: tableJob({ size: null, top: 'partition_keys: []' }),
    expectExit: 2,
    expectStderr: at(10, 1, 'partition_keys: expected at least one key$'),
  },
  {
    name: 'table: a partition key listed twice',
    files: csvTable('a.csv', 'id,region\n1,north\n'),
    job: tableJob({ size: null, top: 'partition_keys: [region, region]' }),
    expectExit: 2,
    expectStderr: at(10, 1, 'partition_keys: a key is listed twice$'),
  },
);

// --- Python entry scripts -----------------------------------------------------------------------
const pyCase = (c: Omit<BadInputCase, 'python' | 'skip'>): BadInputCase => ({ ...c, python: true, skip: noPython });
add(
  pyCase({
    name: 'python: a syntax error, with file and line',
    files: { ...FILES3, ...py('fixture_syntax_error.py') },
    job: pyJob(),
    expectExit: 2,
    started: true,
    expectStderr: /has a syntax error at .*s\.py:2:/,
  }),
  pyCase({
    name: 'python: no run function',
    files: { ...FILES3, ...py('fixture_no_run.py') },
    job: pyJob(),
    expectExit: 2,
    started: true,
    expectStderr: /does not define a run function; expected def run\(mini_batch\) or def run\(mini_batch, mini_batch_context\) \(it defines: init, score\)/,
  }),
  pyCase({
    name: 'python: run with the wrong arity',
    files: { ...FILES3, ...py('fixture_wrong_arity.py') },
    job: pyJob(),
    expectExit: 2,
    started: true,
    expectStderr: /run takes 3 parameters; expected run\(mini_batch\) or run\(mini_batch, mini_batch_context\)/,
  }),
  pyCase({
    name: 'python: an import of a missing module',
    files: { ...FILES3, ...py('fixture_missing_module.py') },
    job: pyJob(),
    expectExit: 2,
    started: true,
    expectStderr: /failed to import: No module named 'definitely_not_an_installed_module' \(interpreter: .*python/,
  }),
  pyCase({
    name: 'python: run returns None',
    files: { ...FILES3, ...py('fixture_returns_none.py') },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned None; expected a list, tuple or DataFrame with one element per successful item/,
  }),
  pyCase({
    name: 'python: run raises',
    files: { ...FILES3, ...py('fixture_raises.py') },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): cannot score f-0000\.txt/,
  }),
  pyCase({
    name: 'python: run returns a string',
    files: { ...FILES3, 'src/s.py': 'def run(mini_batch):\n    return "done"\n' },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error .*: run\(\) returned /,
  }),
  pyCase({
    name: 'python: run returns fewer elements',
    files: { ...FILES3, 'src/s.py': 'def run(mini_batch):\n    return mini_batch[1:]\n' },
    job: pyJob(),
    expectExit: 0,
    expectStdout: /1 items succeeded, 2 failed/,
    output: { rows: 1 },
  }),
  pyCase({
    name: 'python: init raises',
    files: { ...FILES3, 'src/s.py': 'def init():\n    raise RuntimeError("no weights")\n\ndef run(mini_batch):\n    return mini_batch\n' },
    job: pyJob(),
    expectExit: 1,
    expectStderr: /Reason: no worker could initialise: .*no weights/,
  }),
  pyCase({
    name: 'python: sys.exit in run',
    files: { ...FILES3, 'src/s.py': 'import sys\n\ndef run(mini_batch):\n    sys.exit(3)\n' },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): /,
  }),
  pyCase({
    name: 'python: os._exit in run (a hard crash)',
    files: { ...FILES3, 'src/s.py': 'import os\n\ndef run(mini_batch):\n    os._exit(7)\n' },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*exit/i,
  }),
  pyCase({
    name: 'python: hangs in a loop (timeout 1)',
    files: { ...FILES3, 'src/s.py': 'def run(mini_batch):\n    while True:\n        pass\n' },
    job: pyJob({ retry: '{max_retries: 0, timeout: 1}', top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /First error \(mini-batch 0, try 1, node-0\/process-0\): .*tim/i,
  }),
  pyCase({
    name: 'python: prints binary garbage to stdout (the job succeeds)',
    files: {
      ...FILES3,
      'src/s.py': 'import os, sys\n\ndef run(mini_batch):\n    sys.stdout.buffer.write(bytes([0, 1, 255, 254, 27, 10]))\n    sys.stdout.flush()\n    os.write(1, bytes([0xc3, 0x28, 10]))\n    return [os.path.basename(p) for p in mini_batch]\n',
    },
    job: pyJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  }),
  pyCase({
    name: 'python: garbage written to fd 4 (the bridge channel to the controller)',
    files: {
      ...FILES3,
      'src/s.py': 'import os\n\ndef run(mini_batch):\n    os.write(4, b"not json at all\\n")\n    return [os.path.basename(p) for p in mini_batch]\n',
    },
    job: pyJob({ top: FAIL_FAST }),
    expectExit: 1,
    expectStderr: /^First error \(mini-batch 0, try 1, node-0\/process-0\): .*not json at all/m,
  }),
  {
    name: 'python: an interpreter that does not exist',
    files: { ...FILES3, ...py('fixture_returns_none.py') },
    job: pyJob(),
    args: ['--python', '/nonexistent/python9'],
    expectExit: 2,
    expectStderr: /^minibatch: Python interpreter \/nonexistent\/python9 \(from --python\): not found; a \.py entry script needs Python 3\.8 or newer/m,
  },
  {
    name: 'python: an "interpreter" that is not Python',
    files: { ...FILES3, ...py('fixture_returns_none.py') },
    job: pyJob(),
    args: ['--python', '/bin/false'],
    expectExit: 2,
    expectStderr: /^minibatch: Python interpreter \/bin\/false \(from --python\)/m,
  },
  {
    name: 'python: task.environment.python that does not exist',
    files: { ...FILES3, ...py('fixture_returns_none.py') },
    job: pyJob({ task: '  environment: {python: ./venv-missing}' }),
    env: { MINIBATCH_PYTHON: '' },
    expectExit: 2,
    expectStderr: /venv-missing/,
  },
);

// --- CLI usage and --set --------------------------------------------------------------------------
add(
  {
    name: 'cli: an unknown command',
    files: ECHO_JOB,
    job: jsJob(),
    argv: ['frobnicate'],
    expectExit: 2,
    expectStderr: /unknown command 'frobnicate'/,
  },
  {
    name: 'cli: an unknown option',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--frobnicate'],
    expectExit: 2,
    expectStderr: /unknown option '--frobnicate'/,
  },
  {
    name: 'cli: a misspelled option gets a suggestion',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--jsn'],
    expectExit: 2,
    expectStderr: /unknown option '--jsn'\n\(Did you mean --json\?\)/,
  },
  {
    name: 'cli: run without a job file',
    files: ECHO_JOB,
    job: jsJob(),
    argv: ['run'],
    expectExit: 2,
    expectStderr: /missing required argument 'job\.yml'/,
  },
  {
    name: 'cli: job create without --file',
    files: ECHO_JOB,
    job: jsJob(),
    argv: ['job', 'create'],
    expectExit: 2,
    expectStderr: /required option '-f, --file <job\.yml>' not specified/,
  },
  {
    name: 'cli: job resume of a run that does not exist',
    files: ECHO_JOB,
    job: jsJob(),
    argv: ['job', 'resume', 'job-19700101-000000-000000'],
    expectExit: 2,
    expectStderr: /^minibatch: no run job-19700101-000000-000000 under \/.*\/runs \(set MINIBATCH_HOME, or give the run directory\)$/m,
  },
  {
    name: 'cli: --set without =',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'mini_batch_size'],
    expectExit: 2,
    expectStderr: /^minibatch: --set mini_batch_size: expected key\.path=value$/m,
  },
  {
    name: 'cli: --set with an empty key part',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'retry_settings..timeout=3'],
    expectExit: 2,
    expectStderr: /^minibatch: --set retry_settings\.\.timeout=3: the key path has an empty part$/m,
  },
  {
    name: 'cli: --set a wrong type',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'retry_settings.timeout=soon'],
    expectExit: 2,
    expectStderr: /^minibatch: --set retry_settings\.timeout=soon: retry_settings\.timeout: expected a number of seconds > 0 and <= 259200, got "soon"$/m,
  },
  {
    name: 'cli: --set mini_batch_size=0',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'mini_batch_size=0'],
    expectExit: 2,
    expectStderr: /^minibatch: --set mini_batch_size=0: mini_batch_size: expected a size greater than 0, got 0$/m,
  },
  {
    name: 'cli: --set an unknown field',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'retry_setings.max_retries=1'],
    expectExit: 2,
    expectStderr: /--set retry_setings\.max_retries=1: retry_setings: unknown field \(did you mean "retry_settings"\?\)/,
  },
  {
    name: 'cli: --set under a scalar',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'type.kind=x'],
    expectExit: 2,
    expectStderr: /--set type\.kind=x: /,
  },
  {
    name: 'cli: --set a malformed YAML value is taken as a string',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'max_concurrency_per_instance=[1'],
    expectExit: 2,
    expectStderr: /--set max_concurrency_per_instance=\[1: max_concurrency_per_instance: expected an integer >= 1, got "\[1"/,
  },
  {
    name: 'cli: validate reports the same problem as run, and creates nothing',
    files: ECHO_JOB,
    job: jsJob({ size: '"10xb"' }),
    argv: ['validate', 'job.yml'],
    expectExit: 2,
    expectStderr: /job\.yml:7:1: mini_batch_size: expected a file count/,
  },
  {
    name: 'cli: --compute with an unknown name runs locally with a notice',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--compute', 'gpu-cluster'],
    expectExit: 0,
    expectStderr: /notice: compute "gpu-cluster" is not configured on this machine/,
    output: { rows: 3 },
  },
);

// --- More paths, data and CLI cases found while building the corpus -----------------------------
add(
  {
    name: 'path: the output file lies inside the input folder',
    files: ECHO_JOB,
    job: jsJob({ outputs: '  rows: {type: uri_file, path: ./data/rows.txt}' }),
    expectExit: 2,
    expectStderr: /job\.yml:14:3: task\.append_row_to: the output .*\/data\/rows\.txt is inside the input folder .*\/data; expected a path outside it/,
  },
  {
    name: 'path: an optional input_data whose path does not exist',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./nope, optional: true}' }),
    expectExit: 2,
    expectStderr: /job\.yml:3:\d+: inputs\.data\.path: input path does not exist: \/.*\/nope$/m,
  },
  {
    name: 'path: a file name that is not UTF-8',
    files: { ...script(ECHO), 'data/ok.txt': 'x\n' },
    setup: (dir) => writeFileSync(Buffer.concat([Buffer.from(`${dir}/data/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), '1\n'),
    job: jsJob(),
    expectExit: 2,
    // The folder is listed as the run goes (the first mini-batch does not wait for a million
    // files), so a bad name is refused when the listing reaches it: the run has started.
    started: true,
    expectStderr: /caf.*\.txt.*not valid UTF-8/,
  },
  {
    name: 'path: an mltable input that points at a CSV file',
    files: { 'data/a.csv': 'id\n1\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: mltable, path: ./data/a.csv}' }),
    expectExit: 2,
    // The file is read as the MLTable itself.
    expectStderr: /^minibatch: \/.*\/data\/a\.csv: expected an MLTable \(a YAML mapping with paths and transformations\)$/m,
  },
  {
    name: 'mltable: a folder path that does not exist',
    files: { 'data/MLTable': 'paths:\n  - folder: ./nope\n', ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: \/.*\/data\/MLTable:2:5: paths\[0\]\.folder: folder not found: \/.*\/data\/nope$/m,
  },
  {
    name: 'table: a UTF-8 BOM does not end up in the first column name',
    files: csvTable('bom.csv', '\ufeffid,v\n1,2\n'),
    job: tableJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 1 of 1 mini-batches succeeded/m,
    output: { rows: 1 },
    check: ({ dir }) => {
      const text = readFileSync(join(dir, 'out', 'rows.jsonl'), 'utf8');
      if (text !== '{"id":1,"v":2}\n') throw new Error(`unexpected rows: ${JSON.stringify(text)}`);
    },
  },
  {
    name: 'table: a duplicate column name',
    files: csvTable('dup.csv', 'a,a\n1,2\n'),
    job: tableJob(),
    expectExit: 2,
    started: true,
    expectStderr: /dup\.csv.*"a".*(twice|duplicate)/i,
  },
  {
    name: 'table: a ragged row in a .tsv read by extension',
    files: { 'data/t.tsv': 'a\tb\n1\n2\t3\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/t.tsv}' }),
    expectExit: 0,
    expectStderr: /\/data\/t\.tsv:2: expected 2 fields, got 1/,
    output: { rows: 1 },
  },
  {
    name: 'script: a TypeScript entry script with a syntax error names file, line and column',
    files: { ...FILES3, 'src/s.ts': 'export function run(m: string[]) { return m.map((x) => x; }\n' },
    job: jsJob({ entryScript: 's.ts' }),
    expectExit: 2,
    started: true,
    expectStderr: /^Reason: entry script \/.*\/src\/s\.ts failed to load: Transform failed with 1 error:\n\/.*\/src\/s\.ts:1:56: ERROR: Expected "\)" but found ";"$/m,
  },
  {
    name: 'script: environment_variables with a NUL byte',
    files: ECHO_JOB,
    job: jsJob({ top: 'environment_variables: {A: "x\\0y"}' }),
    expectExit: 2,
    expectStderr: /job\.yml:11:\d+: environment_variables\.A: /,
  },
  {
    name: 'python: --python given a folder',
    files: { ...FILES3, ...py('fixture_returns_none.py') },
    job: pyJob(),
    args: ['--python', '/tmp'],
    expectExit: 2,
    expectStderr: /^minibatch: Python interpreter \/tmp \(from --python\): spawn \/tmp EACCES; a \.py entry script needs Python 3\.8 or newer/m,
  },
  {
    name: 'cli: validate a job file that does not exist',
    files: ECHO_JOB,
    job: undefined,
    argv: ['validate', 'nope.yml'],
    expectExit: 2,
    expectStderr: /^minibatch: nope\.yml: cannot read the job file: no such file$/m,
  },
  {
    name: 'cli: --set with an empty value',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'mini_batch_size='],
    expectExit: 2,
    expectStderr: /^minibatch: --set mini_batch_size=: mini_batch_size: expected a file count like "10" or a size like "10kb", "1MB".*, got null$/m,
  },
  {
    name: 'cli: --set task=null',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'task=null'],
    expectExit: 2,
    expectStderr: /^minibatch: --set task=null: task: expected .*, got null$/m,
  },
  {
    name: 'cli: --set an alias value is taken as a string',
    files: ECHO_JOB,
    job: jsJob(),
    args: ['--set', 'mini_batch_size=*x'],
    expectExit: 2,
    expectStderr: /^minibatch: --set mini_batch_size=\*x: mini_batch_size: .*, got "\*x"$/m,
  },
);

add(
  {
    name: 'script: process.send of a stray string (ignored by the controller)',
    files: { ...FILES3, ...script(`import { basename } from 'node:path';\nexport function run(m) { process.send?.('hello'); return m.map((f) => basename(f)); }\n`) },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'script: process.send of a forged result for another mini-batch (ignored)',
    files: {
      ...FILES3,
      ...script(`import { basename } from 'node:path';
export function run(m) {
  process.send?.({ t: 'results', results: [{ t: 'done', id: 999, attempt: 1, returned: 1, rows: 'forged\\n', runMs: 1 }] });
  return m.map((f) => basename(f));
}
`),
    },
    job: jsJob(),
    expectExit: 0,
    expectStdout: /^Succeeded: 2 of 2 mini-batches succeeded, 0 failed; 3 items succeeded, 0 failed/m,
    output: { rows: 3 },
  },
  {
    name: 'field: misspelled task.environment.imag',
    files: ECHO_JOB,
    job: jsJob({ task: '  environment: {imag: ubuntu}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:15:\d+: task\.environment\.imag: unknown field \(did you mean "image"\?\)$/m,
  },
  {
    name: 'mltable: a misspelt top-level key',
    files: { 'data/a.csv': 'id\n1\n', 'data/MLTable': 'paths:\n  - file: ./a.csv\ntransformation:\n  - read_delimited: {}\n', ...TABLE_SCRIPT },
    job: tableJob(),
    expectExit: 2,
    expectStderr: /^minibatch: \/.*\/data\/MLTable:3:1: transformation: unknown field \(did you mean "transformations"\?\)$/m,
  },
  wrongType('mini_batch_error_threshold "five"', 'mini_batch_error_threshold: five', 11, 'mini_batch_error_threshold: expected an integer >= -1, got "five"'),
  {
    name: 'type: inputs.data.optional "yes"',
    files: ECHO_JOB,
    job: jsJob({ inputs: '  data: {type: uri_folder, path: ./data, optional: "yes"}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:3:\d+: inputs\.data\.optional: expected true or false, got "yes"$/m,
  },
  {
    name: 'type: read_delimited.empty_as_string "no" on a uri_file input',
    files: { 'data/a.csv': 'id\n1\n', ...TABLE_SCRIPT },
    job: tableJob({ inputs: '  table: {type: uri_file, path: ./data/a.csv, read_delimited: {empty_as_string: "no"}}' }),
    expectExit: 2,
    expectStderr: /^minibatch: job\.yml:3:\d+: inputs\.table\.read_delimited\.empty_as_string: expected true or false, got "no"$/m,
  },
  {
    name: 'threshold: a near-miss engine argument is warned about, not ignored',
    files: ECHO_JOB,
    job: jsJob({ task: '  program_arguments: --resource_monitor_interva 20' }),
    expectExit: 0,
    expectStderr: /^warning: program argument --resource_monitor_interva is not an engine argument; did you mean --resource_monitor_interval\? It is passed to the script only\.$/m,
    output: { rows: 3 },
  },
  {
    name: 'threshold: the near-miss warning is printed once',
    files: ECHO_JOB,
    job: jsJob({ task: '  program_arguments: --resource_monitor_interva 20' }),
    expectExit: 0,
    expectStderr: /^warning: program argument --resource_monitor_interva is not an engine argument/m,
    output: { rows: 3 },
    check: ({ stderr }) => {
      const count = stderr.split('--resource_monitor_interva is not an engine argument').length - 1;
      if (count !== 1) throw new Error(`the warning is printed ${count} times`);
    },
  },
);

/** Sets the footer length (the 4 bytes before the final PAR1) to something absurd. */
function corruptFooter(buffer: Buffer): Buffer {
  const copy = Buffer.from(buffer);
  copy.writeUInt32LE(0x7fffffff, copy.length - 8);
  return copy;
}

/** The stdout logs of the only run hold at least `bytes`. */
function checkStdoutLog(home: string, bytes: number): void {
  const runs = join(home, 'runs');
  const [run] = readdirSync(runs);
  const folder = join(runs, run ?? '', 'logs', 'user', 'stdout', 'node-0');
  const total = readdirSync(folder).reduce((sum: number, name: string) => sum + statSync(join(folder, name)).size, 0);
  if (total < bytes) throw new Error(`the stdout logs hold ${total} bytes, expected at least ${bytes}`);
}
