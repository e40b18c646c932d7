import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ControllerMessage, WorkerMessage } from './protocol.js';

/** Which bridge runs the entry script: this Node.js, or a Python interpreter. */
export type WorkerRuntime = { kind: 'node' } | { kind: 'python'; interpreter: string };

/** A worker child process and its message channel, whatever the language on the other side. */
export interface WorkerProcess {
  readonly child: ChildProcess;
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
const NODE_MAIN = fileURLToPath(new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
// Resolved here, not by name: the worker's cwd is the job's code folder, where `tsx` is not found.
const NODE_EXEC_ARGV = import.meta.url.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
/** The Python bridge ships beside the code, in `python/` at the package root (src/ and dist/ alike). */
export const PYTHON_BRIDGE = fileURLToPath(new URL('../../python/minibatch_bridge.py', import.meta.url));

export function startWorkerProcess(runtime: WorkerRuntime, options: WorkerProcessOptions): WorkerProcess {
  return runtime.kind === 'node' ? startNode(options) : startPython(runtime.interpreter, options);
}

function startNode(options: WorkerProcessOptions): WorkerProcess {
  const child = fork(NODE_MAIN, [], {
    cwd: options.cwd,
    env: options.env,
    execArgv: NODE_EXEC_ARGV,
    // JSON is cheaper than structured clone for these small messages (rows travel as one string).
    serialization: 'json',
    stdio: ['ignore', options.stdoutFd, options.stderrFd, 'ipc'],
  });
  return {
    child,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
  };
}

/**
 * Python speaks the same messages as JSON lines on two extra pipes (fd 3 in, fd 4 out), so the
 * script's own stdout and stderr stay free for print() and logging.
 */
function startPython(interpreter: string, options: WorkerProcessOptions): WorkerProcess {
  const child = spawn(interpreter, ['-u', PYTHON_BRIDGE], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', options.stdoutFd, options.stderrFd, 'pipe', 'pipe'],
  });
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  input.on('error', () => {
    // the process died: its exit event tells the pool
  });
  const listeners: ((message: WorkerMessage) => void)[] = [];
  let pending = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
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
