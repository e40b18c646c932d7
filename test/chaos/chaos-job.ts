/*
 * Shared by the chaos suites: one job of a few thousand mini-batches (a CSV table cut into ~1 KB
 * mini-batches, a little deterministic CPU work per row), a clean run of it computed once per
 * suite, and the checks every round makes: the output byte for byte against the clean run's,
 * and its rows as a multiset against the rows expected (computed here without the engine), so
 * lost and duplicated rows are counted, not only detected.
 *
 * CHAOS_ROUNDS sets the rounds per scenario (3 by default, as in `npm test`; `npm run test:chaos`
 * uses 50).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { REPO, tempDir } from '../helpers.js';
import { mix } from './fixtures/chaos_work.mjs';

export const ROUNDS = Math.max(1, Number(process.env.CHAOS_ROUNDS ?? 3));
/** Runs per round at most: one that ended before the strike landed is checked, then run again. */
export const MAX_ATTEMPTS = 3;

/**
 * The CLI the chaos runs use: a private copy of the built engine (bin, dist, python,
 * package.json; node_modules linked), taken once per suite. A long chaos run must not pick up a
 * dist/ that someone is rebuilding meanwhile (a half-written dist/ fails at import, which is
 * no finding about the engine). CHAOS_CLI=repo runs the repository's bin/minibatch.js instead.
 */
const ENGINE = process.env.CHAOS_CLI === 'repo' ? REPO : snapshotEngine();
export const CHAOS_CLI = join(ENGINE, 'bin', 'minibatch.js');

function snapshotEngine(): string {
  const dir = tempDir('mb-chaos-engine-');
  for (const entry of ['bin', 'dist', 'python', 'package.json']) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Removes what a suite made: the engine copy and the input (round folders go as rounds pass). */
export function cleanUp(input: ChaosInput | undefined): void {
  if (ENGINE !== REPO) rmSync(ENGINE, { recursive: true, force: true });
  if (input) rmSync(dirname(input.table), { recursive: true, force: true });
}

const SCRIPT = 'chaos_work.mjs';
const SCRIPT_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', SCRIPT);
/** ~25 bytes a row: 100,000 rows (2.4 MB) cut at ~1 KB are 2,395 mini-batches. */
const ROWS = 100_000;
const MINI_BATCH_SIZE = '1kb';
const MIX_ROUNDS = 80;
/** A run that takes longer than this is hung: it is killed and the round fails. */
const RUN_DEADLINE_MS = Number(process.env.CHAOS_RUN_DEADLINE_MS ?? 180_000);

/** The input table, written once per suite, and the output lines a correct run writes, in order. */
export interface ChaosInput {
  table: string;
  expected: string[];
}

export function makeChaosInput(): ChaosInput {
  const dir = tempDir('mb-chaos-input-');
  let text = 'id,key\n';
  const expected: string[] = [];
  for (let id = 0; id < ROWS; id++) {
    const a = (Math.imul(id, 2654435761) >>> 0).toString(36).padStart(7, '0');
    const b = (Math.imul(id ^ 0x5bd1e995, 40503) >>> 0).toString(36).padStart(7, '0');
    const key = `${a}-${b}-${id % 97}`;
    text += `${id},${key}\n`;
    expected.push(`${id},${key},${mix(`${id}:${key}`, MIX_ROUNDS)}`);
  }
  const table = join(dir, 'rows.csv');
  writeFileSync(table, text);
  return { table, expected };
}

export interface ChaosJob {
  dir: string;
  jobFile: string;
  output: string;
  home: string;
}

/** A job folder over the shared input table: its own code folder, output folder and minibatch home. */
export function makeChaosJob(input: ChaosInput, options: { processes?: number; maxRetries?: number } = {}): ChaosJob {
  const dir = tempDir('mb-chaos-');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', SCRIPT), readFileSync(SCRIPT_SOURCE));
  const job = {
    type: 'parallel',
    inputs: { table: { type: 'uri_file', path: input.table } },
    outputs: { result: { type: 'uri_file', path: './out/result.csv' } },
    input_data: '${{inputs.table}}',
    mini_batch_size: MINI_BATCH_SIZE,
    max_concurrency_per_instance: options.processes ?? 2,
    resource_monitor_interval: 0,
    retry_settings: { max_retries: options.maxRetries ?? 5, timeout: 60 },
    task: { code: './src', entry_script: SCRIPT, program_arguments: `--rounds ${MIX_ROUNDS}`, append_row_to: '${{outputs.result}}' },
  };
  const jobFile = join(dir, 'job.yml');
  writeFileSync(jobFile, stringify(job));
  return { dir, jobFile, output: join(dir, 'out', 'result.csv'), home: join(dir, 'home') };
}

export interface RunningCli {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; hung: boolean }>;
  stdout: () => string;
  stderr: () => string;
}

/** Starts the CLI; a run still going after RUN_DEADLINE_MS is killed and reported as hung. */
export function startCli(args: string[], home: string): RunningCli {
  const child = spawn(process.execPath, [CHAOS_CLI, ...args], { env: { ...process.env, MINIBATCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  let hung = false;
  const deadline = setTimeout(() => {
    hung = true;
    for (const pid of childPids(child.pid ?? 0)) killQuietly(pid, 'SIGKILL');
    child.kill('SIGKILL');
  }, RUN_DEADLINE_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; hung: boolean }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, hung });
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Pids of the processes whose parent is `pid` (a controller's workers). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while `pid` is a live (not zombie) minibatch worker process. */
export function isLiveWorker(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker-main');
  } catch {
    return false;
  }
}

/** The one run directory under a home, once its journal exists; undefined until then. */
export function runDirOf(home: string): string | undefined {
  const runs = join(home, 'runs');
  if (!existsSync(runs)) return undefined;
  const id = readdirSync(runs).find((entry) => existsSync(join(runs, entry, 'state', 'journal.log')));
  return id === undefined ? undefined : join(runs, id);
}

/** Waits for the run's journal to exist (a loaded machine starts slowly); the run directory. */
export async function waitForRun(home: string, running: RunningCli, timeoutMs = 60_000): Promise<string | undefined> {
  for (let waited = 0; waited < timeoutMs && running.child.exitCode === null && running.child.signalCode === null; waited += 10) {
    const dir = runDirOf(home);
    if (dir) return dir;
    await sleep(10);
  }
  return runDirOf(home);
}

export interface JournalState {
  /** Mini-batch ids of the commit records, in journal order (a mini-batch twice means it was committed twice). */
  commits: number[];
  /** The status of the last `end` record, if any. */
  ended: string | undefined;
}

/** Reads the complete records of a run's journal (a torn last line, from a kill, is left out). */
export function readJournal(runDir: string): JournalState {
  const text = readFileSync(join(runDir, 'state', 'journal.log'), 'utf8');
  const lines = text.split('\n').slice(0, -1);
  const commits: number[] = [];
  let ended: string | undefined;
  for (const line of lines) {
    const tab = line.indexOf('\t');
    let record: { k?: string; r?: { id?: number }; status?: string };
    try {
      record = JSON.parse(line.slice(tab + 1)) as typeof record;
    } catch {
      continue;
    }
    if (record.k === 'commit' && typeof record.r?.id === 'number') commits.push(record.r.id);
    if (record.k === 'end') ended = record.status;
  }
  return { commits, ended };
}

export interface RowCheck {
  identical: boolean;
  lost: number;
  duplicated: number;
  /** Lines that are no expected row at all (mangled or foreign). */
  foreign: number;
  outOfOrder: boolean;
}

/** Compares an output (undefined: no file) with the clean run's bytes and the expected rows as a multiset. */
export function checkRows(actual: Buffer | undefined, clean: Buffer, expected: readonly string[]): RowCheck {
  if (actual === undefined) return { identical: false, lost: expected.length, duplicated: 0, foreign: 0, outOfOrder: false };
  const identical = actual.equals(clean);
  const text = actual.toString('utf8');
  const lines = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
  const counts = new Map<string, number>();
  for (const line of expected) counts.set(line, 0);
  let foreign = 0;
  for (const line of lines) {
    const seen = counts.get(line);
    if (seen === undefined) foreign++;
    else counts.set(line, seen + 1);
  }
  let lost = 0;
  let duplicated = 0;
  for (const seen of counts.values()) {
    if (seen === 0) lost++;
    else duplicated += seen - 1;
  }
  const outOfOrder = lost === 0 && duplicated === 0 && foreign === 0 && lines.some((line, index) => line !== expected[index]);
  return { identical, lost, duplicated, foreign, outOfOrder };
}

/**
 * When a round strikes. Early rounds (1, 6, 11…) strike at a random moment in the first tenth
 * of a clean run's duration after the run's journal appears (most land before the first
 * commit); the others once the journal has grown to a random fraction of the clean run's
 * journal: near the end (0.85–0.995) in rounds 2, 7, 12…, anywhere between in the rest.
 * Progress, not time, for those: a loaded machine runs slower or faster than the clean run did,
 * and a strike meant for "near the end" must not land after it. Where a strike really landed is
 * read from the journal afterwards (`strikePhase`).
 */
export type StrikePoint = { kind: 'time'; ms: number } | { kind: 'progress'; fraction: number };

export function strikePoint(round: number, clean: CleanRun): StrikePoint {
  if (round % 5 === 1) return { kind: 'time', ms: Math.random() * 0.1 * clean.runMs };
  if (round % 5 === 2) return { kind: 'progress', fraction: 0.85 + Math.random() * 0.145 };
  return { kind: 'progress', fraction: 0.02 + Math.random() * 0.83 };
}

/** Waits until `point` (time since `t0`, or journal growth) or until the run exits; false if it exited. */
export async function waitForStrike(point: StrikePoint, runDir: string, t0: number, running: RunningCli, clean: CleanRun): Promise<boolean> {
  const alive = () => running.child.exitCode === null && running.child.signalCode === null;
  if (point.kind === 'time') {
    await sleep(Math.max(0, point.ms - (performance.now() - t0)));
    return alive();
  }
  const journal = join(runDir, 'state', 'journal.log');
  const target = point.fraction * clean.journalBytes;
  while (alive()) {
    try {
      if (statSync(journal).size >= target) return true;
    } catch {
      // not there yet
    }
    await sleep(2);
  }
  return false;
}

/** Where a strike landed, from the commits durable in the journal right after it. */
export type StrikePhase = 'before the first commit' | 'mid-run' | 'after the last commit' | 'after the run ended (no strike)';

export function strikePhase(committed: number, total: number): StrikePhase {
  return committed === 0 ? 'before the first commit' : committed >= total ? 'after the last commit' : 'mid-run';
}

/** The running totals of a scenario, printed as one closing line. */
export class ChaosTally {
  rounds = 0;
  identical = 0;
  lost = 0;
  duplicated = 0;
  foreign = 0;
  committedTwice = 0;
  hung = 0;
  failed = 0;
  /** Runs that ended before the strike landed (checked, then run again). */
  unstruckRuns = 0;
  readonly phases = new Map<StrikePhase, number>();

  constructor(readonly scenario: string) {}

  /** A round starts (counted even if it fails before its output is checked). */
  begin(): void {
    this.rounds++;
  }

  add(check: RowCheck, phase: StrikePhase | undefined): void {
    if (check.identical) this.identical++;
    this.lost += check.lost;
    this.duplicated += check.duplicated;
    this.foreign += check.foreign;
    if (phase) this.phases.set(phase, (this.phases.get(phase) ?? 0) + 1);
  }

  /** A run that ended before its strike: its rows still count; the round runs again. */
  unstruck(check: RowCheck): void {
    this.unstruckRuns++;
    this.lost += check.lost;
    this.duplicated += check.duplicated;
    this.foreign += check.foreign;
  }

  summary(): string {
    const phases = [...this.phases].map(([phase, count]) => `${count} ${phase}`).join(', ');
    let line = `chaos ${this.scenario}: ${this.rounds} rounds, ${this.identical} identical, ${this.lost} rows lost, ${this.duplicated} rows duplicated`;
    if (this.foreign > 0) line += `, ${this.foreign} foreign rows`;
    line += `; ${this.committedTwice} mini-batches committed twice, ${this.hung} hung, ${this.failed} rounds failed`;
    if (phases) line += `; strikes: ${phases}`;
    if (this.unstruckRuns > 0) line += `; ${this.unstruckRuns} run(s) more ended before their strike landed (checked, then the round ran again)`;
    return line;
  }
}

export interface CleanRun {
  output: Buffer;
  /** From the journal appearing to the process's exit. */
  runMs: number;
  /** The journal's final size: progress is measured against it. */
  journalBytes: number;
  miniBatches: number;
}

/** Runs the job once without interference: the output every chaos round must reproduce. */
export async function cleanRun(input: ChaosInput): Promise<CleanRun> {
  const job = makeChaosJob(input);
  const running = startCli(['run', job.jobFile, '--json'], job.home);
  const runDir = await waitForRun(job.home, running);
  const started = performance.now();
  const { code, hung } = await running.exited;
  const runMs = performance.now() - started;
  if (code !== 0 || hung) throw new Error(`the clean run failed (exit ${code}${hung ? ', hung' : ''}): ${running.stderr()}`);
  const output = readFileSync(job.output);
  const check = checkRows(output, Buffer.from(`${input.expected.join('\n')}\n`), input.expected);
  if (!check.identical) throw new Error(`the clean run's output is not the expected rows: ${JSON.stringify(check)}`);
  const summary = JSON.parse(running.stdout()) as { miniBatches: { total: number } };
  const journalBytes = runDir ? statSync(join(runDir, 'state', 'journal.log')).size : 0;
  rmSync(job.dir, { recursive: true, force: true });
  return { output, runMs, journalBytes, miniBatches: summary.miniBatches.total };
}
