import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidInputError } from '../../errors.js';
import { formatClock } from '../../logs/format-duration.js';
import { minibatchHome, RunDirectory } from '../../logs/run-directory.js';
import { describeRun, findRunDir, listRuns, type RunListing } from '../../store/run-catalog.js';
import { EXIT } from '../exit.js';
import { closestName } from '../../spec/suggest.js';

/*
 * `minibatch job list | show | cancel`: read-only views of the runs under the minibatch home,
 * and cancel, which asks a running driver to stop the way Ctrl-C does.
 */

function progress(run: RunListing): string {
  const done = run.succeeded + run.failed;
  return run.total !== undefined ? `${done}/${run.total}` : `${done}`;
}

function duration(run: RunListing): string {
  return formatClock((run.endedAt ?? new Date()).getTime() - run.startedAt.getTime());
}

export async function jobListCommand(options: { status?: string; json?: boolean }): Promise<number> {
  const statuses = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
  if (options.status !== undefined && !statuses.includes(options.status)) {
    throw new InvalidInputError('E_USAGE', `--status: expected one of ${statuses.join(', ')}, got "${options.status}"`);
  }
  const runs = listRuns(minibatchHome()).filter((run) => options.status === undefined || run.status === options.status);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(runs.map(({ driver: _driver, ...run }) => run), null, 2)}\n`);
    return EXIT.ok;
  }
  if (runs.length === 0) {
    process.stdout.write(`no runs under ${join(minibatchHome(), 'runs')}\n`);
    return EXIT.ok;
  }
  const rows = [['ID', 'NAME', 'KIND', 'STATUS', 'STARTED', 'DURATION', 'PROGRESS', 'FAILED']];
  for (const run of runs) {
    const unit = run.kind === 'pipeline' ? ' steps' : '';
    rows.push([run.runId, run.name ?? '-', run.kind, run.status, run.startedAt.toISOString().replace('T', ' ').slice(0, 19), duration(run), `${progress(run)}${unit}`, String(run.failed)]);
  }
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`);
  return EXIT.ok;
}

export async function jobShowCommand(idOrPath: string): Promise<number> {
  const runDir = findRunDir(idOrPath, minibatchHome());
  const run = describeRun(runDir);
  if (!run) throw new InvalidInputError('E_USAGE', `${runDir}: not a minibatch run (no state/journal.log)`);
  const directory = new RunDirectory(runDir, run.runId);
  if (run.kind === 'pipeline') {
    const result = join(directory.logs, 'pipeline_result.txt');
    const text = existsSync(result) ? readFileSync(result, 'utf8') : `Status: ${run.status}\n(steps so far: ${run.succeeded} succeeded, ${run.failed} failed of ${run.total})\n`;
    process.stdout.write(`Pipeline run: ${run.runId}${run.name ? ` (${run.name})` : ''}\n${text}Each step's run directory can be shown with: minibatch job show <step run directory>\n`);
    return EXIT.ok;
  }
  const out: string[] = [
    `Run: ${run.runId}${run.name ? ` (${run.name})` : ''}`,
    `Status: ${run.status}${run.reason ? ` — ${run.reason}` : ''}`,
    `Started: ${run.startedAt.toISOString()}  Duration: ${duration(run)}`,
    `Mini-batches: ${progress(run)} committed (${run.succeeded} succeeded, ${run.failed} failed)`,
    `Job file: ${run.jobFile}  (as run: ${directory.jobFile})`,
  ];
  if (run.driver) out.push(`Driver: pid ${run.driver.pid} on ${run.driver.host} since ${run.driver.startedAt}`);
  const perNode = nodeBreakdown(directory.processedBatches);
  if (perNode.length > 0) {
    const names = nodeNames(directory.jobResult);
    out.push('', 'Per node:');
    for (const node of perNode) {
      out.push(`  ${node.node}${names.get(node.node) ? ` = ${names.get(node.node)}` : ''}: ${node.batches} mini-batch(es), ${node.items} item(s), ${node.failed} failed, ${node.seconds.toFixed(1)}s of run()`);
    }
  }
  if (existsSync(directory.jobResult) && run.status !== 'running') out.push('', `--- ${directory.jobResult}`, readFileSync(directory.jobResult, 'utf8').trimEnd());
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}

/** Asks the run's driver to stop as Ctrl-C would (running mini-batches may commit), and waits for it. */
export async function jobCancelCommand(idOrPath: string, options: { wait?: string }): Promise<number> {
  const runDir = findRunDir(idOrPath, minibatchHome());
  const run = describeRun(runDir);
  if (!run) throw new InvalidInputError('E_USAGE', `${runDir}: not a minibatch run (no state/journal.log)`);
  if (run.status !== 'running' || !run.driver) {
    throw new InvalidInputError('E_USAGE', `run ${run.runId} is not running (status: ${run.status}); there is nothing to cancel`);
  }
  if (run.driver.host !== hostname()) {
    throw new InvalidInputError('E_USAGE', `run ${run.runId} is driven from ${run.driver.host} (pid ${run.driver.pid}); cancel it there`);
  }
  process.kill(run.driver.pid, 'SIGTERM');
  process.stdout.write(`asked the driver (pid ${run.driver.pid}) to stop run ${run.runId}; running mini-batches may commit first\n`);
  const waitMs = Number(options.wait ?? 60) * 1000;
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const now = describeRun(runDir);
    if (now && now.status !== 'running') {
      process.stdout.write(`run ${run.runId}: ${now.status}${now.reason ? ` — ${now.reason}` : ''}\n`);
      return EXIT.ok;
    }
    await sleep(100);
  }
  process.stderr.write(`minibatch: run ${run.runId} has not stopped within ${waitMs / 1000}s; it is still stopping\n`);
  return EXIT.jobFailed;
}

interface NodeShare {
  node: string;
  batches: number;
  items: number;
  failed: number;
  seconds: number;
}

/** processed_mini-batches.csv grouped by node (its `process` column reads `node-N/process-M`). */
function nodeBreakdown(csvPath: string): NodeShare[] {
  if (!existsSync(csvPath)) return [];
  const shares = new Map<string, NodeShare>();
  for (const line of readFileSync(csvPath, 'utf8').split('\n').slice(1)) {
    const [, , process, , total, , failed, seconds] = line.split(',');
    const node = process?.split('/')[0];
    if (!node) continue;
    const share = shares.get(node) ?? { node, batches: 0, items: 0, failed: 0, seconds: 0 };
    share.batches++;
    share.items += Number(total) || 0;
    share.failed += Number(failed) || 0;
    share.seconds += Number(seconds) || 0;
    shares.set(node, share);
  }
  return [...shares.values()].sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
}

/** `Nodes: node-0 = agent-a (host), …` from job_result.txt (Redis computes). */
function nodeNames(jobResult: string): Map<string, string> {
  const names = new Map<string, string>();
  if (!existsSync(jobResult)) return names;
  const line = readFileSync(jobResult, 'utf8').split('\n').find((one) => one.startsWith('Nodes: '));
  for (const part of line?.slice('Nodes: '.length).split(', ') ?? []) {
    const [node, agent] = part.split(' = ');
    if (node && agent) names.set(node, agent);
  }
  return names;
}

/**
 * `job logs <id> [--step s] [--follow]`: a run's engine log (a pipeline's step: its engine log,
 * or a command step's output). `--follow` keeps printing what is appended until the run ends.
 */
export async function jobLogsCommand(idOrPath: string, options: { step?: string; follow?: boolean }): Promise<number> {
  const runDir = findRunDir(idOrPath, minibatchHome());
  const run = describeRun(runDir);
  if (!run) throw new InvalidInputError('E_USAGE', `${runDir}: not a minibatch run (no state/journal.log)`);
  let logDir = runDir;
  if (run.kind === 'pipeline') {
    const steps = existsSync(join(runDir, 'steps')) ? readdirSync(join(runDir, 'steps')) : [];
    if (!options.step) throw new InvalidInputError('E_USAGE', `run ${run.runId} is a pipeline: say which step with --step (one of: ${steps.join(', ') || 'none has started'})`);
    if (!steps.includes(options.step)) {
      const near = closestName(options.step, steps);
      throw new InvalidInputError('E_USAGE', `--step ${options.step}: pipeline ${run.runId} has no started step of that name${near ? ` (did you mean ${near}?)` : `; started steps: ${steps.join(', ') || 'none'}`}`);
    }
    logDir = join(runDir, 'steps', options.step);
  } else if (options.step) {
    throw new InvalidInputError('E_USAGE', `--step: run ${run.runId} is a single job, not a pipeline`);
  }
  const directory = new RunDirectory(logDir, run.runId);
  const candidates = [directory.engineLog, join(directory.logs, 'user', 'std_log.txt')];
  const path = candidates.find((candidate) => existsSync(candidate)) ?? candidates[0] ?? '';
  let offset = 0;
  const printNew = () => {
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size <= offset) return;
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(size - offset);
      readSync(fd, buffer, 0, buffer.length, offset);
      process.stdout.write(buffer);
      offset = size;
    } finally {
      closeSync(fd);
    }
  };
  printNew();
  if (!options.follow) return EXIT.ok;
  while (describeRun(runDir)?.status === 'running') {
    await sleep(200);
    printNew();
  }
  printNew();
  return EXIT.ok;
}
