import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { RunStore } from './run-store.js';

/*
 * The runs under a minibatch home, read back from what each run leaves on disk: the journal
 * (state/journal.log), the summary written at the end (state/summary.json) and, while a driver
 * runs, state/driver.json naming its process. Another process (job list, show, cancel) reads
 * these while the run writes them; nothing here writes to a run but the driver marker.
 */

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface RunListing {
  /** A parallel job, or a pipeline (whose steps are runs inside its directory). */
  kind: 'job' | 'pipeline';
  runId: string;
  runDir: string;
  name: string | undefined;
  jobFile: string;
  status: RunStatus;
  /** Why it ended, when it did not succeed. */
  reason: string | undefined;
  startedAt: Date;
  /** The end of the last session, when it ended. */
  endedAt: Date | undefined;
  /** Mini-batches committed so far, by final status. */
  succeeded: number;
  failed: number;
  /** Known once a session ended (or the input was fully split). */
  total: number | undefined;
  /** The live driver, while one runs. */
  driver: DriverMarker | undefined;
}

export interface DriverMarker {
  pid: number;
  host: string;
  startedAt: string;
}

const MARKER = 'driver.json';

/** Written when a driver starts on a run (or resumes it), removed when it ends. */
export function markDriver(stateDir: string): void {
  const marker: DriverMarker = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  writeFileSync(join(stateDir, MARKER), `${JSON.stringify(marker)}\n`);
}

export function unmarkDriver(stateDir: string): void {
  rmSync(join(stateDir, MARKER), { force: true });
}

/** The marker of a driver that is still alive on this host (a dead one's marker means the run was interrupted). */
function liveDriver(stateDir: string): DriverMarker | undefined {
  const path = join(stateDir, MARKER);
  if (!existsSync(path)) return undefined;
  let marker: DriverMarker;
  try {
    marker = JSON.parse(readFileSync(path, 'utf8')) as DriverMarker;
  } catch {
    return undefined;
  }
  if (marker.host !== hostname()) return marker; // cannot check another machine: trust it
  try {
    process.kill(marker.pid, 0);
    return marker;
  } catch {
    return undefined;
  }
}

export function describeRun(runDir: string): RunListing | undefined {
  const stateDir = join(runDir, 'state');
  if (existsSync(join(stateDir, 'pipeline.json'))) return describePipeline(runDir);
  const records = RunStore.readRecords(stateDir);
  const firstRun = records.find((record) => record.k === 'run');
  if (!firstRun || firstRun.k !== 'run') return undefined;
  let lastRunIndex = -1;
  let lastEnd: Extract<(typeof records)[number], { k: 'end' }> | undefined;
  let lastEndIndex = -1;
  const finalStatus = new Map<number, string>();
  records.forEach((record, index) => {
    if (record.k === 'run') lastRunIndex = index;
    else if (record.k === 'end') {
      lastEnd = record;
      lastEndIndex = index;
    } else if (record.k === 'commit') finalStatus.set(record.r.id, record.r.status);
  });
  let succeeded = 0;
  for (const status of finalStatus.values()) if (status === 'succeeded') succeeded++;
  const summary = readSummary(stateDir);
  const driver = liveDriver(stateDir);
  const ended = lastEnd !== undefined && lastEndIndex > lastRunIndex;
  const status: RunStatus = ended ? (lastEnd?.status as RunStatus) : driver ? 'running' : 'interrupted';
  return {
    kind: 'job',
    runId: firstRun.runId,
    runDir,
    name: summary?.name ?? nameFromJobFile(runDir),
    jobFile: firstRun.jobFile,
    status,
    reason: ended ? lastEnd?.reason : status === 'interrupted' ? 'the driver stopped without ending the run (killed?); job resume goes on with it' : undefined,
    startedAt: new Date(firstRun.startedAt),
    endedAt: ended && lastEnd ? new Date(lastEnd.endedAt) : undefined,
    succeeded,
    failed: finalStatus.size - succeeded,
    total: ended ? summary?.result?.totalBatches : undefined,
    driver,
  };
}

interface StoredPipeline {
  runId: string;
  name?: string;
  pipelineFile: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  steps: Record<string, { status: string; reason?: string }>;
}

/** A pipeline run from its state/pipeline.json; counts are of steps, not mini-batches. */
function describePipeline(runDir: string): RunListing | undefined {
  let state: StoredPipeline;
  try {
    state = JSON.parse(readFileSync(join(runDir, 'state', 'pipeline.json'), 'utf8')) as StoredPipeline;
  } catch {
    return undefined;
  }
  const steps = Object.values(state.steps);
  const driver = liveDriver(join(runDir, 'state'));
  const status: RunStatus = state.status === 'running' && !driver ? 'interrupted' : state.status;
  const failedStep = Object.entries(state.steps).find(([, step]) => step.status === 'failed');
  return {
    kind: 'pipeline',
    runId: state.runId,
    runDir,
    name: state.name,
    jobFile: state.pipelineFile,
    status,
    reason: failedStep ? `step ${failedStep[0]} failed: ${(failedStep[1].reason ?? '').split('\n')[0]}` : status === 'interrupted' ? 'the driver stopped without ending the pipeline (killed?)' : undefined,
    startedAt: new Date(state.startedAt),
    endedAt: state.endedAt ? new Date(state.endedAt) : undefined,
    succeeded: steps.filter((step) => step.status === 'succeeded').length,
    failed: steps.filter((step) => step.status === 'failed').length,
    total: steps.length,
    driver,
  };
}

/** A running job has no summary yet: its name is in the job.yml the driver wrote at start. */
function nameFromJobFile(runDir: string): string | undefined {
  try {
    return /^name: (.+)$/m.exec(readFileSync(join(runDir, 'job.yml'), 'utf8'))?.[1]?.trim().replace(/^(["'])(.*)\1$/, '$2');
  } catch {
    return undefined;
  }
}

interface StoredSummary {
  name?: string;
  result?: { totalBatches?: number };
}

function readSummary(stateDir: string): StoredSummary | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'summary.json'), 'utf8')) as StoredSummary;
  } catch {
    return undefined;
  }
}

/** Every run under the home, newest first. */
export function listRuns(home: string): RunListing[] {
  const runs = join(home, 'runs');
  if (!existsSync(runs)) return [];
  const listings: RunListing[] = [];
  for (const entry of readdirSync(runs)) {
    const listing = describeRun(join(runs, entry));
    if (listing) listings.push(listing);
  }
  return listings.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}

/** A run id under the home, or a run directory's path; a clear error otherwise. */
export function findRunDir(idOrPath: string, home: string): string {
  if (existsSync(join(idOrPath, 'state', 'journal.log'))) return resolve(idOrPath);
  const underHome = join(home, 'runs', idOrPath);
  if (existsSync(underHome)) return underHome;
  const known = existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')).filter((name) => name.startsWith(basename(idOrPath))) : [];
  const hint = known.length === 1 ? ` (did you mean ${known[0]}?)` : '';
  throw new InvalidInputError('E_USAGE', `no run ${idOrPath} under ${join(home, 'runs')}${hint} (set MINIBATCH_HOME, or give the run directory)`);
}
