import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(REPO, 'bin', 'minibatch.js');
export const FIXTURE_SCRIPTS = join(REPO, 'test', 'fixtures', 'scripts');
export const FIXTURE_PYTHON = join(REPO, 'test', 'fixtures', 'python');

/**
 * A Python interpreter that runs (and has pandas, when asked): Debian's /usr/bin/python3 first
 * (CI installs python3-pandas for it), then python3 on the PATH; undefined when there is none.
 */
export function findTestPython(requirePandas = false): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', requirePandas ? 'import pandas' : 'import sys'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/**
 * A folder holding `python3`: a shell script that notes each start, then runs `python` (a
 * version manager's shim, pyenv's or asdf's, does the same). `executable`: the file `python`
 * runs from, as it says itself (sys.executable).
 */
export function pythonShim(python: string): { folder: string; shim: string; executable: string; starts: () => number } {
  const folder = join(tempDir(), 'shims');
  mkdirSync(folder);
  const shim = join(folder, 'python3');
  const log = join(folder, 'starts.log');
  const executable = execFileSync(python, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  writeFileSync(shim, `#!/bin/sh\necho start >> '${log}'\nexec '${executable}' "$@"\n`);
  chmodSync(shim, 0o755);
  writeFileSync(log, '');
  return { folder, shim, executable, starts: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

/** Temp folders made by this test file's process, removed when it exits (a test run left ~800 before). */
const tempDirs: string[] = [];

/**
 * A new folder under the OS temp dir, removed when this test file's process exits, unless a test
 * of the file failed (the runner sets the exit code): then they are kept to look into.
 */
export function tempDir(prefix = 'mb-test-'): string {
  if (tempDirs.length === 0) process.once('exit', (code) => {
    if (code !== 0 || (process.exitCode ?? 0) !== 0) return;
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Writes `count` small files `data/f-0000.txt`… with their index as content; returns the folder. */
export function makeInputFolder(dir: string, count: number, name = (i: number) => `f-${String(i).padStart(4, '0')}.txt`): string {
  const folder = join(dir, 'data');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    const file = join(folder, name(i));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${i}\n`);
  }
  return folder;
}

export interface JobSpec {
  script: string;
  /** Folder the script is copied from (default: test/fixtures/scripts). */
  fixtures?: string;
  files?: number;
  size?: number | string;
  processes?: number;
  programArguments?: string;
  appendRow?: string | false;
  extra?: Record<string, unknown>;
  retry?: { max_retries?: number; timeout?: number };
}

/**
 * A job folder: input files, the fixture script copied into `src/`, and `job.yml` written
 * from `spec` (append_row to `out/result.txt` by default).
 */
export function makeJob(spec: JobSpec): { dir: string; jobFile: string; output: string; home: string } {
  const dir = tempDir();
  makeInputFolder(dir, spec.files ?? 6);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', spec.script), readFileSync(join(spec.fixtures ?? FIXTURE_SCRIPTS, spec.script)));
  const appendRow = spec.appendRow === undefined ? 'result.txt' : spec.appendRow;
  const job: Record<string, unknown> = {
    type: 'parallel',
    inputs: { data: { type: 'uri_folder', path: './data' } },
    outputs: appendRow ? { result: { type: 'uri_file', path: `./out/${appendRow}` } } : undefined,
    input_data: '${{inputs.data}}',
    mini_batch_size: String(spec.size ?? 2),
    max_concurrency_per_instance: spec.processes ?? 2,
    resource_monitor_interval: 0,
    retry_settings: { max_retries: 2, timeout: 30, ...spec.retry },
    task: {
      code: './src',
      entry_script: spec.script,
      program_arguments: `--state_dir ${join(dir, 'state')} ${spec.programArguments ?? ''}`.trim(),
      ...(appendRow ? { append_row_to: '${{outputs.result}}' } : {}),
    },
    ...spec.extra,
  };
  if (!appendRow) delete job.outputs;
  mkdirSync(join(dir, 'state'), { recursive: true });
  const jobFile = join(dir, 'job.yml');
  writeFileSync(jobFile, stringify(job));
  return { dir, jobFile, output: join(dir, 'out', appendRow || 'none'), home: join(dir, 'home') };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; home?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, MINIBATCH_HOME: options.home ?? join(tempDir(), 'home'), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The only run directory under a minibatch home. */
export function onlyRunDir(home: string): string {
  const runs = join(home, 'runs');
  const entries = existsSync(runs) ? readdirSync(runs) : [];
  if (entries.length !== 1) throw new Error(`expected one run under ${runs}, found ${entries.length}`);
  return join(runs, entries[0] ?? '');
}

export function readLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
}

/** Count of lines in a file that match a pattern (e.g. init calls recorded by a fixture). */
export function countMatching(path: string, pattern: RegExp): number {
  if (!existsSync(path)) return 0;
  return readLines(path).filter((line) => pattern.test(line)).length;
}
