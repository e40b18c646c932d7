import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { PythonAbout, PythonAnnouncement } from '../bridges/python-interpreter.js';
import type { ControllerMessage, WorkerMessage } from './protocol.js';
import { CHILD_EXEC_ARGV, childModule } from './one-shot-child.js';
import { discardSpares, forkAhead, keepSpare, takeEarlySpare, takeSpare } from './spare-processes.js';

/**
 * Which bridge runs the entry script: this Node.js, or a Python interpreter. `requested`: the
 * command the interpreter was chosen by, when it runs from another file (`python3` on PATH):
 * a Python spare started with that command is this interpreter too.
 */
export type WorkerRuntime = { kind: 'node' } | { kind: 'python'; interpreter: string; requested?: string };

/** A worker child process and its message channel, whatever the language on the other side. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Forked before the job was read (spare-processes.ts) and taken now. */
  readonly spare?: boolean;
  /**
   * A spare's output is copied into the log files by this process: once it has exited, copies
   * what its pipes still hold (at most a second: a grandchild may keep them open), then stops,
   * before the pool closes those files (a late chunk must not land in a file reusing the number).
   */
  release?(): Promise<void>;
  send(message: ControllerMessage): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
}

export interface WorkerProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdoutFd: number;
  stderrFd: number;
}

/** The file that runs inside each Node worker (the .ts source under tsx, the .js build otherwise). */
const NODE_MAIN = childModule('worker-main', import.meta.url);
const NODE_EXEC_ARGV = CHILD_EXEC_ARGV;
/** The Python bridge ships beside the code, in `python/` at the package root (src/ and dist/ alike). */
export const PYTHON_BRIDGE = fileURLToPath(new URL('../../python/minibatch_bridge.py', import.meta.url));

export function startWorkerProcess(runtime: WorkerRuntime, options: WorkerProcessOptions): WorkerProcess {
  return runtime.kind === 'node' ? startNode(options) : startPython(runtime, options);
}

function startNode(options: WorkerProcessOptions): WorkerProcess {
  const spare = adoptSpare(options);
  if (spare) return spare;
  const child = fork(NODE_MAIN, [], {
    cwd: options.cwd,
    env: options.env,
    execArgv: NODE_EXEC_ARGV,
    // JSON is cheaper than structured clone for these small messages (rows travel as one string).
    serialization: 'json',
    stdio: ['ignore', options.stdoutFd, options.stderrFd, 'ipc'],
  });
  return nodeChannel(child);
}

function nodeChannel(child: ChildProcess): WorkerProcess {
  return {
    child,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
  };
}

/*
 * Spare workers (spare-processes.ts): forked by `minibatch run` before the job was read. A pool
 * takes one instead of forking: the spare moves to the job's code folder and takes the job's
 * environment, and its output (a pipe, since the log files did not exist yet) is copied into the
 * process's log files.
 */

/** Environment variables read only when a process starts: a job setting one gets fresh processes. */
const START_TIME_VARIABLE = /^(NODE_|UV_|LD_|DYLD_|MALLOC_)/;
/** The same for Python (PYTHONPATH, PYTHONHASHSEED, PYTHONIOENCODING, ...). */
const PYTHON_START_TIME_VARIABLE = /^(PYTHON|LD_|DYLD_|MALLOC_)/;

/**
 * Forks `count` idle Node workers for the job this process is about to run (a hint: unused ones
 * are discarded). The worker bin/minibatch.js forked before loading the engine counts as one when
 * it runs this build's worker (it forks it with the options below); otherwise it is killed.
 */
export function prewarmNodeWorkers(count: number): void {
  const early = takeEarlySpare();
  const spares = NODE_EXEC_ARGV.length > 0 ? 0 : count; // from sources (tests): workers need tsx, spares are not worth it
  let kept = 0;
  if (early && spares > 0 && early.spawnargs.at(-1) === NODE_MAIN) {
    keepSpare(NODE_MAIN, early);
    kept = 1;
  } else {
    early?.kill('SIGKILL');
  }
  forkAhead(NODE_MAIN, spares - kept, { execArgv: NODE_EXEC_ARGV, serialization: 'json', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

/**
 * Keeps the Python bridge bin/minibatch.js started for a job with a .py entry script, when the
 * job will want Python workers here (`wanted`), for the pool to take if it runs the same
 * interpreter; otherwise kills it. From sources (tests) it is kept too: a bridge needs no tsx.
 */
export function prewarmPythonWorker(wanted: boolean): void {
  const early = takeEarlySpare('early-python-spare');
  if (!early) return;
  // No pid: the interpreter could not be started (the engine's own search reports why).
  if (wanted && early.pid !== undefined && early.spawnargs.at(-1) === PYTHON_BRIDGE) {
    const channel = pythonChannel(early);
    keepSpare(pythonSpareKey(early.spawnfile), early);
    spareChannels.set(early, channel);
    announcements.set(early.spawnfile, announcementOf(early, channel));
  } else {
    early.kill('SIGKILL');
  }
}

/** The channels of the Python spares kept, opened as they were kept: a pool that takes one goes on with it. */
const spareChannels = new WeakMap<ChildProcess, WorkerProcess>();
/** What the Python spares kept say of their interpreter, by the command each was started with. */
const announcements = new Map<string, Promise<PythonAbout | undefined>>();

/**
 * What the Python spare started with `command` said of its interpreter (undefined: there is no
 * such spare, or it exited, or said nothing in 15 s): findPython() takes it instead of starting
 * the interpreter once more to ask, ~20 ms of a Python job's start-up, ~0.3 s through a pyenv shim.
 */
export const announcedPython: PythonAnnouncement = (command) => {
  const announcement = announcements.get(command);
  if (!announcement) return undefined;
  // The spare's pipes hold nothing open: while its answer is awaited, this does.
  const hold = setInterval(() => {}, 60_000);
  return announcement.finally(() => clearInterval(hold));
};

/** A Python bridge's first message, its `about`; undefined if it says something else first or exits. */
function announcementOf(child: ChildProcess, channel: WorkerProcess): Promise<PythonAbout | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 15_000);
    timer.unref();
    child.once('exit', () => resolve(undefined));
    let first = true;
    channel.onMessage((message) => {
      if (!first) return;
      first = false;
      clearTimeout(timer);
      resolve(message.t === 'about' ? { version: message.version, executable: message.executable } : undefined);
    });
  });
}

/** Python spares are kept by interpreter: the pool takes one only for the interpreter the job runs. */
function pythonSpareKey(interpreter: string): string {
  return `${PYTHON_BRIDGE}\0${interpreter}`;
}

/** Kills the spare workers no pool took (fewer processes than the hint, another interpreter, another compute). */
export function discardSpareWorkers(): void {
  discardSpares();
}

function adoptSpare(options: WorkerProcessOptions): WorkerProcess | undefined {
  const environment = environmentChanges(options.env, START_TIME_VARIABLE);
  const child = environment ? takeSpare(NODE_MAIN) : undefined;
  if (!child || !environment) return undefined;
  const worker = { ...nodeChannel(child), spare: true, release: copyOutput(child, options) };
  worker.send({ t: 'adopt', cwd: options.cwd, env: environment });
  return worker;
}

function adoptPythonSpare(interpreter: string, options: WorkerProcessOptions): WorkerProcess | undefined {
  const environment = environmentChanges(options.env, PYTHON_START_TIME_VARIABLE);
  const child = environment ? takeSpare(pythonSpareKey(interpreter)) : undefined;
  if (!child || !environment) return undefined;
  const worker = { ...(spareChannels.get(child) ?? pythonChannel(child)), spare: true, release: copyOutput(child, options) };
  worker.send({ t: 'adopt', cwd: options.cwd, env: environment });
  return worker;
}

/**
 * A spare's output goes to pipes (the log files did not exist yet): copied into the process's
 * log files from now on. The returned release() stops that once the process has exited.
 */
function copyOutput(child: ChildProcess, options: WorkerProcessOptions): () => Promise<void> {
  copyInto(child.stdout, options.stdoutFd);
  copyInto(child.stderr, options.stderrFd);
  return async () => {
    const streams = [child.stdout, child.stderr].filter((stream) => stream !== null);
    await Promise.race([Promise.all(streams.map((stream) => (stream.readableEnded || stream.destroyed ? undefined : once(stream, 'end').catch(() => undefined)))), delay(1000, undefined, { ref: false })]);
    for (const stream of streams) {
      stream.removeAllListeners('data');
      stream.destroy();
    }
  };
}

/** What the job's environment changes from this process's (which a spare inherited), or undefined when a spare will not do. */
function environmentChanges(env: NodeJS.ProcessEnv, startTimeVariable: RegExp): Record<string, string> | undefined {
  for (const key of Object.keys(process.env)) if (env[key] === undefined) return undefined;
  const changes: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || process.env[key] === value) continue;
    if (startTimeVariable.test(key)) return undefined;
    changes[key] = value;
  }
  return changes;
}

function copyInto(stream: Readable | null, fd: number): void {
  stream?.on('data', (chunk: Buffer) => {
    try {
      writeSync(fd, chunk);
    } catch {
      // a log file that cannot be written loses the script's output, not the run
    }
  });
}

/**
 * Python speaks the same messages as JSON lines on two extra pipes (fd 3 in, fd 4 out), so the
 * script's own stdout and stderr stay free for print() and logging.
 */
function startPython(runtime: { interpreter: string; requested?: string }, options: WorkerProcessOptions): WorkerProcess {
  const spare = adoptPythonSpare(runtime.requested ?? runtime.interpreter, options);
  if (spare) return spare;
  const child = spawn(runtime.interpreter, ['-u', PYTHON_BRIDGE], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', options.stdoutFd, options.stderrFd, 'pipe', 'pipe'],
  });
  return pythonChannel(child);
}

/** The messages of a Python bridge process: JSON lines on its fd 3 (to it) and fd 4 (from it). */
export function pythonChannel(child: ChildProcess): WorkerProcess {
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  input.on('error', () => {
    // the process died: its exit event tells the pool
  });
  const listeners: ((message: WorkerMessage) => void)[] = [];
  let pending = '';
  // Set when the process wrote something that is not a message: it is being killed, and nothing
  // more it says counts (a result read in a later chunk was taken as a success: a flaky test).
  let broken = false;
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    if (broken) return;
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.length > 0) {
        let message: WorkerMessage;
        try {
          message = JSON.parse(line) as WorkerMessage;
        } catch {
          // Not the bridge talking (a script wrote to fd 4): the process cannot be trusted.
          broken = true;
          message = { t: 'fatal', error: { name: 'ProtocolError', message: `the Python worker wrote something that is not a message on its channel: ${line.slice(0, 80)}` } };
          for (const listener of listeners) listener(message);
          child.kill('SIGKILL');
          return;
        }
        for (const listener of listeners) listener(message);
      }
      newline = pending.indexOf('\n');
    }
  });
  return {
    child,
    send: (message) => {
      if (input.writable) input.write(`${JSON.stringify(message)}\n`);
    },
    onMessage: (listener) => listeners.push(listener),
  };
}
