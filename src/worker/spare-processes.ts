import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';

/*
 * Node processes forked ahead of need. A Node.js start-up is ~100 ms of CPU; `minibatch run`
 * forks the worker processes a job will want as its first step, so their start-up overlaps the
 * controller's own (loading the engine, validating the job, listing the input) instead of
 * following it. Whoever needs such a process takes one, or forks as usual.
 */
const spares = new Map<string, ChildProcess[]>();

/** Forks `count` processes of `modulePath`, idle until taken; unused ones never keep this process alive. */
export function forkAhead(modulePath: string, count: number, options: ForkOptions): void {
  for (let i = 0; i < count; i++) {
    let child: ChildProcess;
    try {
      child = fork(modulePath, [], options);
    } catch {
      return; // whoever needs one forks its own, and reports what goes wrong
    }
    keepSpare(modulePath, child);
  }
}

/** Keeps `child`, a process of `modulePath` forked as forkAhead() forks, among the spares. */
export function keepSpare(modulePath: string, child: ChildProcess): void {
  const list = spares.get(modulePath) ?? [];
  spares.set(modulePath, list);
  child.on('error', () => {
    // a spare that failed to start has exited: it is never taken
  });
  setHeld(child, false);
  list.push(child);
}

/** Whether `child` (its process, IPC channel and pipes) keeps this process alive. */
function setHeld(child: ChildProcess, held: boolean): void {
  for (const handle of [child, child.channel, ...child.stdio] as ({ ref?(): void; unref?(): void } | null | undefined)[]) {
    if (held) handle?.ref?.();
    else handle?.unref?.();
  }
}

/**
 * Where bin/minibatch.js leaves the worker process it starts before loading the engine: a Node
 * worker (`early-spare`), or for a .py entry script the Python bridge (`early-python-spare`).
 */
type EarlySpare = 'early-spare' | 'early-python-spare';

/** That process, once: whoever takes it keeps it (keepSpare) or kills it. */
export function takeEarlySpare(kind: EarlySpare = 'early-spare'): ChildProcess | undefined {
  const key = Symbol.for(`minibatch.${kind}`);
  const holder = globalThis as { [key]?: ChildProcess };
  const child = holder[key];
  delete holder[key];
  return child;
}

/** A live spare of `modulePath`, now holding this process open like any child; undefined if none is left. */
export function takeSpare(modulePath: string): ChildProcess | undefined {
  const list = spares.get(modulePath);
  for (let child = list?.shift(); child; child = list?.shift()) {
    // Gone, or its IPC channel is (a Python spare has none: its messages go over pipes).
    if (child.exitCode !== null || child.signalCode !== null || (child.send !== undefined && !child.connected)) continue;
    setHeld(child, true);
    return child;
  }
  return undefined;
}

/** Kills the spares nobody took: of `modulePath`, or all. */
export function discardSpares(modulePath?: string): void {
  for (const [path, list] of spares) {
    if (modulePath !== undefined && path !== modulePath) continue;
    for (const child of list.splice(0)) child.kill('SIGKILL');
  }
}
