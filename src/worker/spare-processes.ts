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
  const list = spares.get(modulePath) ?? [];
  spares.set(modulePath, list);
  for (let i = 0; i < count; i++) {
    let child: ChildProcess;
    try {
      child = fork(modulePath, [], options);
    } catch {
      return; // whoever needs one forks its own, and reports what goes wrong
    }
    child.on('error', () => {
      // a spare that failed to start has exited: it is never taken
    });
    child.unref();
    child.channel?.unref();
    list.push(child);
  }
}

/** A live spare of `modulePath`, now holding this process open like any child; undefined if none is left. */
export function takeSpare(modulePath: string): ChildProcess | undefined {
  const list = spares.get(modulePath);
  for (let child = list?.shift(); child; child = list?.shift()) {
    if (child.exitCode !== null || child.signalCode !== null || !child.connected) continue;
    child.ref();
    child.channel?.ref();
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
