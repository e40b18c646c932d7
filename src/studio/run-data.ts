import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import Papa from 'papaparse';
import { parse } from 'yaml';
import { RunDirectory } from '../logs/run-directory.js';
import { describeRun, listRuns, type RunListing } from '../store/run-catalog.js';

/*
 * What the studio shows, read from the run directories under the minibatch home: the same
 * files `job list/show` read, never anything else on the machine. Every path a request names
 * is resolved inside a run directory or one of the run's declared outputs, or refused.
 */

const RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class StudioError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A run's directory from its id; a pipeline step is `<pipeline-run-id>.<step>`. */
export function runDirOf(home: string, id: string): string {
  if (!RUN_ID.test(id) || id.includes('..')) throw new StudioError(400, `not a run id: ${JSON.stringify(id)}`);
  const runs = join(home, 'runs');
  if (existsSync(join(runs, id))) return join(runs, id);
  const dot = id.lastIndexOf('.');
  if (dot > 0 && dot < id.length - 1) {
    const stepDir = join(runs, id.slice(0, dot), 'steps', id.slice(dot + 1));
    if (existsSync(stepDir)) return stepDir;
  }
  throw new StudioError(404, `no run ${id}`);
}

export function listStudioRuns(home: string, filter: { status?: string | null; q?: string | null }): RunListing[] {
  const q = filter.q?.toLowerCase();
  return listRuns(home).filter((run) => (!filter.status || run.status === filter.status) && (!q || run.runId.toLowerCase().includes(q) || (run.name ?? '').toLowerCase().includes(q)));
}

export interface SettingsGroup {
  title: string;
  fields: [string, string][];
}

/** The resolved job as the reference's "Parallel" panel groups it. */
export function settingsOf(jobYaml: Record<string, unknown>): SettingsGroup[] {
  const show = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  const task = (jobYaml.task ?? {}) as Record<string, unknown>;
  const retry = (jobYaml.retry_settings ?? {}) as Record<string, unknown>;
  const resources = (jobYaml.resources ?? {}) as Record<string, unknown>;
  const rows = (entries: [string, unknown][]): [string, string][] => entries.filter(([, value]) => value !== undefined).map(([key, value]) => [key, show(value)]);
  return [
    { title: 'Parallel', fields: rows([['input_data', jobYaml.input_data], ['mini_batch_size', jobYaml.mini_batch_size], ['partition_keys', jobYaml.partition_keys], ['instance_count', resources.instance_count], ['max_concurrency_per_instance', jobYaml.max_concurrency_per_instance], ['compute', jobYaml.compute]]) },
    { title: 'Error handling', fields: rows([['error_threshold', jobYaml.error_threshold], ['mini_batch_error_threshold', jobYaml.mini_batch_error_threshold], ['allowed_failed_percent', jobYaml.allowed_failed_percent], ['max_retries', retry.max_retries], ['timeout', retry.timeout]]) },
    { title: 'Timeouts and monitoring', fields: rows([['overhead_timeout', jobYaml.overhead_timeout], ['progress_update_timeout', jobYaml.progress_update_timeout], ['first_task_creation_timeout', jobYaml.first_task_creation_timeout], ['resource_monitor_interval', jobYaml.resource_monitor_interval], ['logging_level', jobYaml.logging_level]]) },
    { title: 'Task', fields: rows([['code', task.code], ['entry_script', task.entry_script], ['program_arguments', task.program_arguments], ['append_row_to', task.append_row_to ?? 'summary_only'], ['append_row_format', jobYaml.append_row_format], ['environment_variables', jobYaml.environment_variables], ['is_deterministic', jobYaml.is_deterministic]]) },
  ];
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readJson<T>(path: string): T | null {
  const text = readText(path);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

export interface PipelineGraph {
  steps: { name: string; id: string; type: string; status: string; dependsOn: string[]; reason?: string; reusedFrom?: string }[];
  edges: { from: string; to: string }[];
}

/** Everything the run page shows at once (the mini-batch table and files come separately). */
export function runDetails(home: string, id: string) {
  const runDir = runDirOf(home, id);
  const run = describeRun(runDir);
  if (!run) throw new StudioError(404, `no run ${id} (no journal)`);
  const directory = new RunDirectory(runDir, id);
  const jobYaml = readText(directory.jobFile);
  let settings: SettingsGroup[] = [];
  if (jobYaml) {
    try {
      settings = settingsOf((parse(jobYaml) ?? {}) as Record<string, unknown>);
    } catch {
      settings = [];
    }
  }
  let pipeline: PipelineGraph | null = null;
  const pipelineState = readJson<{ steps: Record<string, { type: string; status: string; dependsOn: string[]; reason?: string; reusedFrom?: string }> }>(join(runDir, 'state', 'pipeline.json'));
  if (pipelineState) {
    // A reused step did not run here: its page is the run it was reused from.
    const steps = Object.entries(pipelineState.steps).map(([name, step]) => ({ name, id: `${step.reusedFrom ?? run.runId}.${name}`, type: step.type, status: step.status, dependsOn: step.dependsOn, ...(step.reason ? { reason: step.reason } : {}), ...(step.reusedFrom ? { reusedFrom: step.reusedFrom } : {}) }));
    pipeline = { steps, edges: steps.flatMap((step) => step.dependsOn.map((from) => ({ from, to: step.name }))) };
  }
  return {
    run: { ...run, id, driver: run.driver ? { pid: run.driver.pid, host: run.driver.host } : null },
    progress: readJson<Record<string, unknown>>(join(runDir, 'state', 'progress.json')),
    jobResult: readText(directory.jobResult) ?? readText(join(directory.logs, 'pipeline_result.txt')),
    readme: readText(directory.readme),
    jobYaml,
    settings,
    pipeline,
    firstError: firstErrorOf(readText(directory.jobResult)),
  };
}

/** The "First error" block of job_result.txt: the root cause, shown on top. */
function firstErrorOf(jobResult: string | null): string | null {
  if (!jobResult) return null;
  const start = jobResult.indexOf('\nFirst error');
  if (start < 0) return null;
  const end = jobResult.indexOf('\n\n', start + 1);
  return jobResult.slice(start + 1, end < 0 ? undefined : end);
}

export interface BatchRow {
  id: number;
  tries: number;
  process: string;
  start: string;
  total: number;
  succeeded: number;
  failed: number;
  seconds: number;
  status: string;
  error: string;
}

/** The rows of processed_mini-batches.csv (errors may hold quoted commas and newlines), header dropped. */
function processedRows(path: string): string[][] {
  const text = readText(path);
  if (!text) return [];
  return Papa.parse<string[]>(text, { skipEmptyLines: true }).data.slice(1);
}

const SORTABLE = new Set(['id', 'tries', 'process', 'start', 'total', 'succeeded', 'failed', 'seconds', 'status']);

/** The per-mini-batch table, filtered, sorted and paginated on the server (10,000+ rows stay fast). */
export function batchesOf(home: string, id: string, query: URLSearchParams): { total: number; rows: BatchRow[] } {
  const directory = new RunDirectory(runDirOf(home, id), id);
  // The file logs every commit of every session, in commit order: a mini-batch that a resume or
  // rerun-failed ran again has a row per session, and its last one is its state now.
  const latest = new Map<number, BatchRow>();
  for (const fields of processedRows(directory.processedBatches)) {
    const [batchId, tries, process, start, total, succeeded, failed, seconds, status, ...error] = fields;
    const row = { id: Number(batchId), tries: Number(tries), process: process ?? '', start: start ?? '', total: Number(total), succeeded: Number(succeeded), failed: Number(failed), seconds: Number(seconds), status: status ?? '', error: error.join(',') };
    latest.delete(row.id);
    latest.set(row.id, row);
  }
  let rows: BatchRow[] = [...latest.values()];
  const status = query.get('status');
  if (status) rows = rows.filter((row) => row.status === status);
  const q = query.get('q')?.toLowerCase();
  if (q) rows = rows.filter((row) => row.error.toLowerCase().includes(q) || row.process.toLowerCase().includes(q) || String(row.id) === q);
  const sort = query.get('sort') ?? 'id';
  if (!SORTABLE.has(sort)) throw new StudioError(400, `sort: expected one of ${[...SORTABLE].join(', ')}`);
  const order = query.get('order') === 'desc' ? -1 : 1;
  const key = sort as keyof BatchRow;
  rows.sort((a, b) => (a[key] < b[key] ? -order : a[key] > b[key] ? order : a.id - b.id));
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const limit = Math.min(500, Math.max(1, Number(query.get('limit') ?? 100) || 100));
  return { total: rows.length, rows: rows.slice(offset, offset + limit) };
}

/** Node CPU/memory samples from logs/sys/perf, and throughput (mini-batches finished per interval). */
export function perfOf(home: string, id: string) {
  const runDir = runDirOf(home, id);
  const directory = new RunDirectory(runDir, id);
  const perfRoot = join(directory.sysLogs, 'perf');
  const nodes: Record<string, Record<string, number | string>[]> = {};
  for (const node of existsSync(perfRoot) ? readdirSync(perfRoot) : []) {
    const text = readText(join(perfRoot, node, 'node_resource_usage.csv'));
    if (!text) continue;
    const [header, ...lines] = text.trim().split('\n');
    const names = (header ?? '').split(',');
    nodes[node] = lines.filter((line) => line && !line.startsWith('time,')).map((line) => Object.fromEntries(line.split(',').map((value, index) => [names[index] ?? String(index), index === 0 ? value : Number(value)])));
  }
  const finishes = processedRows(directory.processedBatches)
    .map((fields) => Date.parse(fields[3] ?? '') + Number(fields[7] ?? 0) * 1000)
    .filter((time) => Number.isFinite(time))
    .sort((a, b) => a - b);
  const throughput: { t: string; batches: number }[] = [];
  if (finishes.length > 0) {
    const first = finishes[0] ?? 0;
    const span = Math.max(1, (finishes.at(-1) ?? first) - first);
    const bucket = Math.max(1000, Math.ceil(span / 60 / 1000) * 1000);
    const counts = new Map<number, number>();
    for (const time of finishes) {
      const slot = Math.floor((time - first) / bucket);
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
    const last = Math.floor(span / bucket);
    for (let slot = 0; slot <= last; slot++) throughput.push({ t: new Date(first + slot * bucket).toISOString(), batches: counts.get(slot) ?? 0 });
  }
  return { nodes, throughput };
}

/** A path inside `root` named by a request, or an error: `..`, absolute paths and symlinks out are refused. */
export function safeResolve(root: string, requested: string): string {
  if (requested.includes('\0')) throw new StudioError(400, 'bad path');
  if (isAbsolute(requested)) throw new StudioError(403, 'paths are relative to the run directory');
  const target = resolve(root, requested);
  const rel = relative(root, target);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new StudioError(403, `${requested} is outside the run directory`);
  if (!existsSync(target)) throw new StudioError(404, `no file ${requested}`);
  const real = realpathSync(target);
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new StudioError(403, `${requested} leads outside the run directory`);
  return target;
}

export interface FileEntry {
  path: string;
  size: number;
  kind: 'file' | 'folder';
}

/** Files under a folder (depth-limited), relative to it. */
export function listTree(root: string, maxEntries = 2_000): FileEntry[] {
  const out: FileEntry[] = [];
  if (!existsSync(root)) return out;
  const realRoot = realpathSync(root);
  // A symbolic link is listed (and walked) only when it stays inside root: safeResolve refuses the others.
  const inside = (path: string) => {
    try {
      const real = realpathSync(path);
      return real === realRoot || real.startsWith(realRoot + sep);
    } catch {
      return false;
    }
  };
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length >= maxEntries) return;
      const path = join(dir, name);
      if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() && !inside(path)) continue;
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      const rel = relative(root, path);
      if (stat.isDirectory()) {
        out.push({ path: rel, size: 0, kind: 'folder' });
        walk(path);
      } else out.push({ path: rel, size: stat.size, kind: 'file' });
    }
  };
  walk(root);
  return out;
}

/** The run's declared outputs (job.yml `outputs`, and the append_row file), by name. */
export function outputsOf(home: string, id: string): { name: string; path: string; kind: 'file' | 'folder' | 'missing' }[] {
  const runDir = runDirOf(home, id);
  const text = readText(join(runDir, 'job.yml'));
  const outputs: { name: string; path: string; kind: 'file' | 'folder' | 'missing' }[] = [];
  const add = (name: string, path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    outputs.push({ name, path, kind: !stat ? 'missing' : stat.isDirectory() ? 'folder' : 'file' });
  };
  if (text) {
    const job = (parse(text) ?? {}) as { outputs?: Record<string, { path?: string }>; task?: { append_row_to?: string } };
    for (const [name, output] of Object.entries(job.outputs ?? {})) if (output?.path) add(name, output.path);
    if (job.task?.append_row_to && !outputs.some((output) => output.path === job.task?.append_row_to)) add('append_row', job.task.append_row_to);
  }
  const pipelineState = readJson<{ steps: Record<string, { outputs: Record<string, string> }> }>(join(runDir, 'state', 'pipeline.json'));
  for (const [step, state] of Object.entries(pipelineState?.steps ?? {})) for (const [name, path] of Object.entries(state.outputs)) add(`${step}.${name}`, path);
  return outputs;
}
