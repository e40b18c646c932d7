import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MiniBatch } from '../data/descriptors.js';
import { IllegalStateError, serializeError, type SerializedError } from '../errors.js';
import { Deadline } from './deadline.js';
import type { ControllerMessage, TaskMessage, TaskResult, WorkerMessage, WorkerSetup } from './protocol.js';
import { startWorkerProcess, type WorkerProcess, type WorkerRuntime } from './worker-process.js';

/** One try of one mini-batch, as handed to a worker. */
export interface AttemptTask {
  readonly batch: MiniBatch;
  /** 1-based. */
  readonly attempt: number;
}

export type AttemptFailureKind = 'error' | 'bad-return' | 'timeout' | 'overhead-timeout' | 'crash';

export interface WorkerIdentity {
  node: number;
  process: number;
  pid: number;
}

/** What happened to one attempt. `failure` is unset when run() returned a sequence. */
export interface AttemptOutcome {
  readonly task: AttemptTask;
  readonly worker: WorkerIdentity;
  readonly returned: number;
  /** Returned elements as JSON lines (empty when none). */
  readonly rows: string;
  /** `rows` is output text already (with the CSV columns it used), not JSON lines. */
  readonly formatted?: { columns?: string[] };
  /** Input rows that could not be read: failed items, not worth a retry. */
  readonly unreadable?: number;
  readonly problems?: string[];
  readonly failure: { kind: AttemptFailureKind; message: string; error?: SerializedError } | undefined;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface NodeFailure {
  node: number;
  /** The script cannot work at all (missing, does not load, no run): an input error, not retried. */
  contract: boolean;
  error: SerializedError;
  message: string;
}

export interface WorkerPoolHandlers {
  onOutcome(outcome: AttemptOutcome): void;
  /** Tasks that were sent to a process that died before starting them: not an attempt, run them again. */
  onReturned(tasks: AttemptTask[]): void;
  /** More tasks can be dispatched. */
  onCapacity(): void;
  onNodeFailed(failure: NodeFailure): void;
  onLog(level: 'DEBUG' | 'INFO' | 'WARNING', message: string): void;
}

export interface WorkerLogPaths {
  stdout: (node: number, process: number) => string;
  stderr: (node: number, process: number) => string;
  error: (node: number, process: number) => string;
}

export interface WorkerPoolOptions {
  nodeRank: number;
  processes: number;
  /** Global rank of this node's process 0. */
  firstGlobalRank: number;
  setup: Omit<WorkerSetup, 'nodeRank' | 'processRank' | 'globalRank'>;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  killGraceMs: number;
  /** Init failures tolerated on this node before it stops (3 × processes in the reference). */
  maxInitFailures: number;
  /** Tasks held per process: 1 running + prefetched ones, so no time is lost between batches. */
  tasksPerProcess: number;
  logs: WorkerLogPaths;
  /** Node.js for JS/TS entry scripts, a Python interpreter for .py ones. */
  runtime: WorkerRuntime;
  /** A process whose resident memory exceeds this after a mini-batch is replaced. */
  maxWorkerMemoryBytes?: number | undefined;
  /** Extra environment per process (e.g. CUDA_VISIBLE_DEVICES), by local process rank. */
  perProcessEnv?: (processRank: number) => Record<string, string>;
}

/**
 * Slot lifecycle: spawning → ready → restarting (killed on purpose) → spawning … → stopped.
 * `stopping` means a graceful shutdown was asked; `stopped` means killed or shut down.
 * Only a `ready` slot takes tasks.
 */
type SlotState = 'spawning' | 'ready' | 'restarting' | 'stopping' | 'stopped';

interface HeldTask {
  task: AttemptTask;
  /** Withdrawn while queued behind the running one: it still runs (the worker has it), its result is dropped. */
  cancelled?: boolean;
}

class Slot {
  state: SlotState = 'stopped';
  child: ChildProcess | undefined;
  tasks: HeldTask[] = [];
  headStartedAt = 0;
  /** The running task's run() timeout plus the kill grace: the process is killed then. */
  readonly deadline = new Deadline();
  /** Why the controller killed the current child, so its exit is read right. */
  killReason: 'timeout' | 'replaced' | undefined;
  fatal: SerializedError | undefined;
  /** Tasks dispatched in this tick, sent together in one message at its end. */
  outgoing: TaskMessage[] = [];
  channel: WorkerProcess | undefined;
  constructor(
    readonly rank: number,
    readonly stdoutFd: number,
    readonly stderrFd: number,
    readonly errorLog: string,
  ) {}
}

/** Tasks a process holds from which a new task waits for others to share its write (#assign). */
const TASKS_IN_HAND_TO_WAIT = 4;

/**
 * The worker processes of one node. Keeps `processes` child processes alive, feeds each its
 * tasks, enforces the run() timeout by killing, replaces dead or timed-out processes (which
 * run init() again), and stops the node after too many init failures.
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #handlers: WorkerPoolHandlers;
  readonly #slots: Slot[] = [];
  /** Every child not yet exited, whatever its slot thinks: nothing may outlive the pool. */
  readonly #children = new Set<ChildProcess>();
  /** Spares taken (their output is copied into the slots' log files until released). */
  readonly #spares: WorkerProcess[] = [];
  #initFailures = 0;
  /** Moving average of run() time, to size how many tasks each process holds. */
  #averageRunMs: number | undefined;
  #state: 'created' | 'running' | 'closing' | 'closed' | 'failed' = 'created';

  constructor(options: WorkerPoolOptions, handlers: WorkerPoolHandlers) {
    this.#options = options;
    this.#handlers = handlers;
  }

  get node(): number {
    return this.#options.nodeRank;
  }

  get alive(): boolean {
    return this.#state === 'running';
  }

  start(): void {
    if (this.#state !== 'created') throw new IllegalStateError(`WorkerPool.start() in state ${this.#state}`);
    this.#state = 'running';
    const { logs, nodeRank } = this.#options;
    for (let rank = 0; rank < this.#options.processes; rank++) {
      const paths = [logs.stdout(nodeRank, rank), logs.stderr(nodeRank, rank), logs.error(nodeRank, rank)];
      for (const path of paths) mkdirSync(dirname(path), { recursive: true });
      const slot = new Slot(rank, openSync(paths[0] ?? '', 'a'), openSync(paths[1] ?? '', 'a'), paths[2] ?? '');
      this.#slots.push(slot);
      this.#spawn(slot);
    }
  }

  /** How many more tasks the ready processes can take right now. */
  capacity(): number {
    if (this.#state !== 'running') return 0;
    let free = 0;
    for (const slot of this.#slots) {
      if (slot.state === 'ready') free += Math.max(0, this.#depth() - slot.tasks.length);
    }
    return free;
  }

  dispatch(task: AttemptTask): void {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (slot.state !== 'ready' || slot.tasks.length >= this.#depth()) continue;
      if (!best || slot.tasks.length < best.tasks.length) best = slot;
    }
    if (!best || this.#state !== 'running') throw new IllegalStateError('WorkerPool.dispatch() with no free process');
    this.#assign(best, task);
  }

  /**
   * A speculative copy goes only to a process holding nothing: queued behind a busy process
   * it could not overtake the straggler. False when no process is idle.
   */
  startCopy(task: AttemptTask): boolean {
    if (this.#state !== 'running') return false;
    const idle = this.#slots.find((slot) => slot.state === 'ready' && slot.tasks.length === 0);
    if (!idle) return false;
    this.#assign(idle, task);
    return true;
  }

  /**
   * Withdraws a task (the other copy of its try won). Running: its process is killed and
   * replaced, as after a timeout, and the tasks queued behind it are handed back (later, never
   * from inside this call). Queued behind another task: it is marked, and its result dropped
   * when it comes (the protocol has no message to take a task back from a worker). Either way
   * it produces no outcome. False when this pool does not hold it.
   */
  cancel(task: AttemptTask): boolean {
    for (const slot of this.#slots) {
      const index = slot.tasks.findIndex((held) => held.task === task);
      const held = slot.tasks[index];
      if (!held) continue;
      if (index === 0 && slot.state === 'ready' && !slot.killReason) {
        slot.tasks.shift();
        this.#handlers.onLog('DEBUG', `mini-batch ${task.batch.id} try ${task.attempt}: cancelled; replacing node-${this.#options.nodeRank}/process-${slot.rank}`);
        this.#replace(slot, 'replaced', true);
      } else {
        held.cancelled = true;
      }
      return true;
    }
    return false;
  }

  /** When `task` became the one its process runs; undefined while it is queued (or not here). */
  runningSince(task: AttemptTask): number | undefined {
    for (const slot of this.#slots) if (slot.tasks[0]?.task === task) return slot.headStartedAt;
    return undefined;
  }

  #assign(slot: Slot, task: AttemptTask): void {
    slot.tasks.push({ task });
    if (slot.tasks.length === 1) this.#startHead(slot);
    if (slot.outgoing.length === 0) {
      const child = slot.child;
      const flush = () => {
        const tasks = slot.outgoing;
        slot.outgoing = [];
        if (slot.child === child) this.#send(slot, { t: 'run', tasks });
      };
      // A process with work in hand can wait for the end of this turn of the event loop, so
      // that the tasks assigned meanwhile go in the same write: fed one at a time by the
      // partitioner, a quick job's 10,000 tasks were ~9,400 writes, ~20 µs of the controller each.
      if (slot.tasks.length - 1 >= TASKS_IN_HAND_TO_WAIT) setImmediate(flush);
      else queueMicrotask(flush);
    }
    slot.outgoing.push({ id: task.batch.id, attempt: task.attempt, items: task.batch.items, descriptor: task.batch.descriptor });
  }

  /**
   * Tasks each process holds (1 running, the rest queued in the worker). Quick mini-batches
   * need a deep queue or the worker waits on IPC between them; slow ones need a shallow one,
   * or the last mini-batches queue behind a busy worker while another is idle.
   */
  #depth(): number {
    const base = this.#options.tasksPerProcess;
    if (this.#averageRunMs === undefined) return base;
    return Math.max(base, Math.min(32, Math.round(10 / Math.max(this.#averageRunMs, 0.05))));
  }

  /** Stop now: kill every process; in-flight attempts get no outcome (the caller is aborting). */
  async terminate(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.all(this.#slots.map((slot) => this.#kill(slot, 'stopped')));
    await this.#killStragglers();
    await this.#closeFiles();
  }

  async #killStragglers(): Promise<void> {
    await Promise.all(
      [...this.#children].map((child) => {
        const exited = onceExited(child);
        child.kill('SIGKILL');
        return exited;
      }),
    );
  }

  /** Graceful: ask each idle process to run shutdown(), then kill what is left after the grace. */
  async close(graceMs: number): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    await Promise.all(
      this.#slots.map(async (slot) => {
        const child = slot.child;
        if (!child || slot.state !== 'ready') return this.#kill(slot, 'stopped');
        slot.state = 'stopping';
        const exited = onceExited(child);
        this.#send(slot, { t: 'shutdown' });
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        slot.state = 'stopped';
      }),
    );
    this.#state = 'closed';
    await this.#killStragglers();
    await this.#closeFiles();
  }

  async #closeFiles(): Promise<void> {
    await Promise.all(this.#spares.splice(0).map((spare) => spare.release?.()));
    for (const slot of this.#slots) {
      for (const fd of [slot.stdoutFd, slot.stderrFd]) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
  }

  #spawn(slot: Slot): void {
    const { setup, nodeRank, firstGlobalRank } = this.#options;
    const env = {
      ...process.env,
      ...this.#options.env,
      ...this.#options.perProcessEnv?.(slot.rank),
      MINIBATCH_NODE_RANK: String(nodeRank),
      MINIBATCH_PROCESS_RANK: String(slot.rank),
      MINIBATCH_GLOBAL_RANK: String(firstGlobalRank + slot.rank),
      MINIBATCH_WORLD_SIZE: String(setup.worldSize),
    };
    let worker: WorkerProcess;
    try {
      worker = startWorkerProcess(this.#options.runtime, { cwd: this.#options.cwd, env, stdoutFd: slot.stdoutFd, stderrFd: slot.stderrFd });
    } catch (error) {
      // fork/spawn threw (an argument Node refuses): every try would; the node fails, later
      // (its handlers may be mid-start), instead of the throw escaping and the run hanging.
      this.#failSpawn(slot, error);
      return;
    }
    if (worker.spare) {
      this.#spares.push(worker);
      this.#handlers.onLog('DEBUG', `node-${nodeRank}/process-${slot.rank}: a spare process (forked as the CLI started) taken`);
    }
    const child = worker.child;
    slot.channel = worker;
    slot.child = child;
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    slot.state = 'spawning';
    slot.killReason = undefined;
    slot.fatal = undefined;
    worker.onMessage((message: WorkerMessage) => {
      if (slot.child === child) this.#onMessage(slot, message);
    });
    child.on('exit', (code, signal) => {
      if (slot.child === child) this.#onExit(slot, code, signal);
    });
    child.on('error', (error) => this.#handlers.onLog('WARNING', `node-${nodeRank}/process-${slot.rank}: ${error.message}`));
    this.#send(slot, { t: 'init', setup: { ...setup, nodeRank, processRank: slot.rank, globalRank: firstGlobalRank + slot.rank } });
  }

  #failSpawn(slot: Slot, thrown: unknown): void {
    slot.state = 'stopped';
    slot.child = undefined;
    slot.channel = undefined;
    const error = serializeError(thrown);
    setImmediate(() => {
      if (this.#state !== 'running') return;
      this.#state = 'failed';
      for (const other of this.#slots) void this.#kill(other, 'stopped');
      const message = `node-${this.#options.nodeRank}/process-${slot.rank}: cannot start a worker process: ${error.message}`;
      this.#handlers.onNodeFailed({ node: this.#options.nodeRank, contract: false, error, message });
    });
  }

  #send(slot: Slot, message: ControllerMessage): void {
    if (slot.child) slot.channel?.send(message);
  }

  #identity(slot: Slot): WorkerIdentity {
    return { node: this.#options.nodeRank, process: slot.rank, pid: slot.child?.pid ?? 0 };
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    if (slot.killReason) return; // a late message from a process being killed changes nothing
    switch (message.t) {
      case 'about':
        break; // a Python bridge's interpreter: read where it was kept as a spare (worker-process.ts)
      case 'ready':
        slot.state = 'ready';
        this.#handlers.onLog('DEBUG', `node-${this.#options.nodeRank}/process-${slot.rank} (pid ${slot.child?.pid}) initialised`);
        this.#handlers.onCapacity();
        break;
      case 'init-failed':
        this.#recordError(slot, 'init() failed', message.error);
        this.#onInitFailure(slot, message.error, message.contract);
        break;
      case 'results':
        for (const result of message.results) {
          if (slot.killReason) break; // replaced mid-batch: the rest were handed back already
          this.#onResult(slot, result);
        }
        this.#handlers.onCapacity();
        break;
      case 'fatal':
        slot.fatal = message.error;
        break;
      case 'shutdown-done':
        if (message.error) {
          this.#recordError(slot, 'shutdown() failed', message.error);
          this.#handlers.onLog('WARNING', `node-${this.#options.nodeRank}/process-${slot.rank}: shutdown() failed: ${message.error.message}`);
        }
        break;
    }
  }

  #onResult(slot: Slot, result: TaskResult): void {
    const head = slot.tasks[0];
    if (!head || head.task.batch.id !== result.id || head.task.attempt !== result.attempt) return;
    const startedAt = performance.timeOrigin + slot.headStartedAt;
    const worker = this.#identity(slot);
    this.#finishHead(slot);
    if (head.cancelled) {
      // The other copy of its try won; a process that outlived a timeout is still not trusted.
      if (result.t === 'failed' && result.reason === 'timeout') this.#replace(slot, 'replaced');
      return;
    }
    this.#averageRunMs = this.#averageRunMs === undefined ? result.runMs : this.#averageRunMs * 0.9 + result.runMs * 0.1;
    const failure = result.t === 'failed' ? { kind: result.reason, message: result.error.message, error: result.error } : undefined;
    if (failure) this.#recordError(slot, `mini-batch ${result.id} try ${result.attempt} failed (${failure.kind})`, failure.error);
    if (result.t === 'done' && result.problems) {
      const more = (result.unreadable ?? 0) > result.problems.length ? `\n(and ${(result.unreadable ?? 0) - result.problems.length} more)` : '';
      this.#recordError(slot, `mini-batch ${result.id} try ${result.attempt}: ${result.unreadable} row(s) could not be read`, { name: 'RowError', message: `${result.problems.join('\n')}${more}` });
    }
    // A run that outlived its timeout leaves a process we no longer trust: replace it. So is
    // one that grew past max_worker_memory (checked between mini-batches, as the reference's users asked).
    if (failure?.kind === 'timeout') this.#replace(slot, 'replaced');
    else if (this.#overMemory(slot)) this.#replace(slot, 'replaced');
    const outcome: { -readonly [K in keyof AttemptOutcome]: AttemptOutcome[K] } = {
      task: head.task,
      worker,
      returned: result.t === 'done' ? result.returned : 0,
      rows: result.t === 'done' ? result.rows : '',
      failure,
      startedAt,
      durationMs: result.runMs,
    };
    // Set, not spread in: object spreads per result were a measurable share of a quick job.
    if (result.t === 'done' && result.unreadable) {
      outcome.unreadable = result.unreadable;
      outcome.problems = result.problems ?? [];
    }
    if (result.t === 'done' && result.formatted) outcome.formatted = result.formatted;
    this.#handlers.onOutcome(outcome);
  }

  #overMemory(slot: Slot): boolean {
    const limit = this.#options.maxWorkerMemoryBytes;
    const pid = slot.child?.pid;
    if (limit === undefined || pid === undefined) return false;
    const rss = residentBytes(pid);
    if (rss === undefined || rss <= limit) return false;
    this.#handlers.onLog('INFO', `node-${this.#options.nodeRank}/process-${slot.rank} uses ${Math.round(rss / 1024 ** 2)} MB, over max_worker_memory (${Math.round(limit / 1024 ** 2)} MB): replacing it`);
    return true;
  }

  #startHead(slot: Slot): void {
    slot.headStartedAt = performance.now();
    slot.deadline.start(this.#options.timeoutMs + this.#options.killGraceMs, () => this.#onTimeout(slot));
  }

  #finishHead(slot: Slot): void {
    slot.tasks.shift();
    if (slot.tasks.length > 0) this.#startHead(slot);
    else slot.deadline.stop();
  }

  #onTimeout(slot: Slot): void {
    const head = slot.tasks[0];
    if (!head) return;
    if (!head.cancelled) this.#handlers.onLog('INFO', `mini-batch ${head.task.batch.id} try ${head.task.attempt}: run() exceeded ${this.#options.timeoutMs / 1000}s; killing node-${this.#options.nodeRank}/process-${slot.rank}`);
    slot.killReason = 'timeout';
    slot.state = 'restarting'; // nothing more is dispatched to a process being killed
    slot.child?.kill('SIGKILL');
  }

  /**
   * Kill a process on purpose and start a fresh one (which runs init() again). Its queued tasks
   * go back, except withdrawn ones; `later` when the caller is not a worker event (a cancel).
   */
  #replace(slot: Slot, reason: 'replaced', later = false): void {
    slot.deadline.cancel();
    const queued = slot.tasks.filter((held) => !held.cancelled).map((held) => held.task);
    slot.tasks = [];
    slot.outgoing = [];
    slot.killReason = reason;
    slot.state = 'restarting';
    slot.child?.kill('SIGKILL');
    if (queued.length === 0) return;
    if (later) queueMicrotask(() => this.#handlers.onReturned(queued));
    else this.#handlers.onReturned(queued);
  }

  #onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    slot.deadline.cancel();
    const wasSpawning = slot.state === 'spawning';
    const identity = this.#identity(slot);
    const killReason = slot.killReason;
    const fatal = slot.fatal;
    const held = slot.tasks;
    slot.tasks = [];
    slot.child = undefined;
    if (slot.state === 'stopping' || slot.state === 'stopped' || this.#state !== 'running') {
      slot.state = 'stopped';
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (wasSpawning && !killReason) {
      const error = fatal ?? { name: 'WorkerExitError', message: `the worker process exited during init (${how})` };
      this.#onInitFailure(slot, error, false);
      return;
    }
    if (!killReason) this.#handlers.onLog('WARNING', `node-${this.#options.nodeRank}/process-${slot.rank} exited (${how}); starting a new process`);
    const died = { worker: identity, startedAt: performance.timeOrigin + slot.headStartedAt, durationMs: performance.now() - slot.headStartedAt };
    // Replace the process first, so that whatever the handlers do next (dispatch, close)
    // sees a consistent slot.
    this.#spawn(slot);
    const head = held[0];
    if (head && !head.cancelled) {
      const timedOut = killReason === 'timeout';
      const message = timedOut
        ? `run() exceeded the timeout of ${this.#options.timeoutMs / 1000}s; the process was killed`
        : fatal
          ? `the worker process died (${how}) after an uncaught error: ${fatal.message}`
          : `the worker process died during run() (${how})`;
      const error = fatal ?? { name: timedOut ? 'TimeoutError' : 'WorkerExitError', message };
      this.#recordError(slot, `mini-batch ${head.task.batch.id} try ${head.task.attempt} failed (${timedOut ? 'timeout' : 'crash'})`, error);
      this.#handlers.onOutcome({ task: head.task, ...died, returned: 0, rows: '', failure: { kind: timedOut ? 'timeout' : 'crash', message, error } });
    }
    const rest = held.slice(1).filter((item) => !item.cancelled).map((item) => item.task);
    if (rest.length > 0) this.#handlers.onReturned(rest);
  }

  #onInitFailure(slot: Slot, error: SerializedError, contract: boolean): void {
    this.#initFailures++;
    const where = `node-${this.#options.nodeRank}/process-${slot.rank}`;
    if (contract || this.#initFailures >= this.#options.maxInitFailures) {
      const message = contract
        ? error.message
        : `init() failed ${this.#initFailures} times on node-${this.#options.nodeRank}; the node stops. Last error: ${error.message}`;
      this.#state = 'failed';
      for (const other of this.#slots) void this.#kill(other, 'stopped');
      this.#handlers.onNodeFailed({ node: this.#options.nodeRank, contract, error, message });
      return;
    }
    this.#handlers.onLog('WARNING', `${where}: init() failed (${this.#initFailures}/${this.#options.maxInitFailures}): ${error.message}; restarting it`);
    const child = slot.child;
    slot.killReason = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      // Let the failed process go, then start a fresh one.
      slot.child = undefined;
      child.kill('SIGKILL');
    }
    this.#spawn(slot);
  }

  async #kill(slot: Slot, state: SlotState): Promise<void> {
    slot.deadline.cancel();
    slot.state = state;
    const child = slot.child;
    slot.child = undefined;
    slot.tasks = [];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = onceExited(child);
    child.kill('SIGKILL');
    await exited;
  }

  #recordError(slot: Slot, what: string, error: SerializedError): void {
    const body = error.stack ?? `${error.name}: ${error.message}`;
    try {
      appendFileSync(slot.errorLog, `${new Date().toISOString()} ${what}\n${body}\n\n`);
    } catch {
      // the error log is best effort; the outcome still carries the error
    }
  }
}

/** A process's resident memory, from /proc (Linux); undefined where that cannot be read. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function onceExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
