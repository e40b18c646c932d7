/*
 * The only file that runs inside a worker process. It loads the entry script through its
 * bridge, calls init() once, then run() for each mini-batch it is sent, one at a time (the
 * controller may send the next one early so no time is lost between batches).
 */
import { noteRunTime } from './tier-up.js'; // first: before the other modules' functions are first called
import { OverheadTimeoutError, loadMiniBatch, preloadReader, vanishedInputFile, type LoadedMiniBatch } from '../data/load-mini-batch.js';
import { serializeError } from '../errors.js';
import { createBaseContext, miniBatchContext, type EntryScriptContext, type MiniBatchSignal } from '../bridges/entry-script-context.js';
import { EntryScriptContractError, loadEntryScript, returnedElements, serializeElements, type EntryScriptModule } from '../bridges/js-bridge.js';
import { RowFormatter } from '../outputs/row-format.js';
import { Deadline } from './deadline.js';
import type { ControllerMessage, TaskMessage, TaskResult, WorkerMessage, WorkerSetup } from './protocol.js';

let setup: WorkerSetup | undefined;
let script: EntryScriptModule | undefined;
let baseContext: EntryScriptContext | undefined;
const lifetime = new AbortController();
const queue: TaskMessage[] = [];
let running = false;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

process.on('uncaughtException', (error) => {
  flushOutbox(); // finished work is reported before the process dies
  send({ t: 'fatal', error: serializeError(error) });
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, () => process.exit(70));
});
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
});
// A script calling process.exit() must not take finished results with it: the IPC write of a
// pipe is attempted at once, so this reaches the controller before the process ends.
process.on('exit', () => flushOutbox());
// The controller going away means this worker has nothing left to do.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: ControllerMessage) => {
  switch (message.t) {
    case 'adopt':
      process.chdir(message.cwd);
      Object.assign(process.env, message.env);
      break;
    case 'init':
      void initialise(message.setup);
      break;
    case 'run':
      queue.push(...message.tasks);
      if (!running) void drain();
      break;
    case 'shutdown':
      void shutdown();
      break;
  }
});

async function initialise(received: WorkerSetup): Promise<void> {
  setup = received;
  try {
    script = await loadEntryScript(received.entryScript);
  } catch (error) {
    send({ t: 'init-failed', error: serializeError(error), contract: error instanceof EntryScriptContractError });
    return;
  }
  baseContext = createBaseContext(received, lifetime.signal);
  try {
    await script.init?.(baseContext);
  } catch (error) {
    send({ t: 'init-failed', error: serializeError(error), contract: false });
    return;
  }
  send({ t: 'ready' });
  if (received.tableFormat) preloadReader(received.tableFormat);
}

/*
 * Results are sent in batches while more work is queued (one IPC write for many trivial
 * mini-batches), but never held back long: a slow run() is reported as soon as it ends.
 */
const outbox: TaskResult[] = [];
let lastFlush = performance.now();
const MAX_BATCH = 64;
const MAX_HOLD_MS = 2;

function deliver(result: TaskResult): void {
  outbox.push(result);
  if (queue.length === 0 || outbox.length >= MAX_BATCH || performance.now() - lastFlush > MAX_HOLD_MS) flushOutbox();
}

function flushOutbox(): void {
  if (outbox.length === 0) return;
  send({ t: 'results', results: outbox.splice(0) });
  lastFlush = performance.now();
}

async function drain(): Promise<void> {
  running = true;
  for (let task = queue.shift(); task; task = queue.shift()) await runOne(task);
  flushOutbox();
  running = false;
}

async function runOne(task: TaskMessage): Promise<void> {
  if (!script || !baseContext || !setup) throw new Error('run before init');
  const current: MiniBatchSignal = { abort: undefined, timedOut: undefined };
  runDeadline.start(setup.timeoutMs, () => {
    current.timedOut = new Error(`run() timed out after ${setup?.timeoutMs} ms`);
    current.abort?.abort(current.timedOut);
  });
  const partitionKeyValue = task.descriptor.kind === 'table' ? task.descriptor.partitionKeyValue : undefined;
  const ctx = miniBatchContext(baseContext, task.id, task.attempt, partitionKeyValue, current);
  const started = performance.now();
  let loaded: LoadedMiniBatch;
  try {
    loaded = await loadMiniBatch(task.descriptor, setup.overheadTimeoutMs);
  } catch (error) {
    runDeadline.stop();
    const reason = error instanceof OverheadTimeoutError ? 'overhead-timeout' : 'error';
    deliver({ t: 'failed', id: task.id, attempt: task.attempt, reason, error: serializeError(error), runMs: performance.now() - started });
    return;
  }
  try {
    const returned = await script.run(loaded.data, ctx);
    const runMs = performance.now() - started;
    noteRunTime(runMs);
    if (current.timedOut) {
      deliver({ t: 'failed', id: task.id, attempt: task.attempt, reason: 'timeout', error: serializeError(current.timedOut), runMs });
      return;
    }
    const elements = returnedElements(returned);
    const output = typeof elements === 'string' ? elements : formatRows(elements);
    if (typeof output === 'string') {
      deliver({ t: 'failed', id: task.id, attempt: task.attempt, reason: 'bad-return', error: { name: 'TypeError', message: output }, runMs });
    } else {
      const unread = loaded.problems.length;
      const problems = unread > 0 ? { unreadable: unread, problems: loaded.problems.slice(0, 5).map((problem) => `${problem.file}:${problem.line}: ${problem.message}`) } : {};
      deliver({ t: 'done', id: task.id, attempt: task.attempt, returned: output.count, rows: output.rows, ...(output.formatted ? { formatted: output.formatted } : {}), runMs, ...problems });
    }
  } catch (error) {
    const reason = current.timedOut ? 'timeout' : 'error';
    deliver({ t: 'failed', id: task.id, attempt: task.attempt, reason, error: serializeError(reason === 'error' ? failureCause(task, error) : error), runMs: performance.now() - started });
  } finally {
    runDeadline.stop();
  }
}

/** What run()'s error is reported as: an input file that vanished since it was listed, when one did. */
function failureCause(task: TaskMessage, error: unknown): unknown {
  const vanished = task.descriptor.kind === 'files' ? vanishedInputFile(task.descriptor.files) : undefined;
  if (!vanished) return error;
  vanished.message += `; run() failed with: ${error instanceof Error ? error.message : String(error)}`;
  return vanished;
}

/** The run() timeout of the task running now: one timer for the process, moved on task after task. */
const runDeadline = new Deadline();

/**
 * The returned rows as the job will write them: formatted here, in parallel, rather than by
 * the controller for every row of the job. summary_only keeps only the count; Parquet output
 * needs values, so its rows travel as JSON lines.
 */
function formatRows(elements: unknown[]): { count: number; rows: string; formatted?: { columns?: string[] } } | string {
  const format = setup?.outputFormat;
  if (format === undefined) return { count: elements.length, rows: '' };
  if (format === 'parquet') return serializeElements(elements);
  const formatter = new RowFormatter(format, false);
  let rows: string;
  try {
    rows = formatter.format(elements);
  } catch (error) {
    return `run() returned an element that cannot be written as a row: ${(error as Error).message}`;
  }
  const columns = formatter.columns;
  return { count: elements.length, rows, formatted: columns ? { columns: [...columns] } : {} };
}

async function shutdown(): Promise<void> {
  lifetime.abort(new Error('worker shutting down'));
  let error;
  try {
    if (baseContext) await script?.shutdown?.(baseContext);
  } catch (caught) {
    error = serializeError(caught);
  }
  send(error ? { t: 'shutdown-done', error } : { t: 'shutdown-done' });
  process.disconnect?.();
}
