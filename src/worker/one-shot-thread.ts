import { pathToFileURL } from 'node:url';
import { FROM_SOURCES } from './one-shot-child.js';
// node:worker_threads is loaded when a thread is started or answers (worker_threads and its
// internals were ~5 ms of every run's start-up, before any thread was needed).

/**
 * A thread's young generation: small, since what a one-shot thread allocates is garbage at once,
 * and its heap counts in the controller's resident memory (stat'ing a million files, the
 * controller's peak was 148 MB with 4 MB, 163 MB with 16 MB).
 */
const YOUNG_GENERATION_MB = 4;

/**
 * Runs `modulePath` in a worker thread with `request` and resolves with its one answer. Work in
 * a thread keeps the controller's event loop free of it, as a child process would, for a
 * fraction of a process's start-up: a thread shares the already started Node.js.
 */
export async function runOneShotThread<Answer>(modulePath: string, request: unknown, what: string): Promise<Answer> {
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve, reject) => {
    const options = { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
    const thread = FROM_SOURCES ? new Worker(tsxEntry(modulePath), { ...options, eval: true }) : new Worker(modulePath, options);
    let settled = false;
    thread.once('message', (answer: Answer) => {
      settled = true;
      resolve(answer);
    });
    thread.once('error', (error) => {
      settled = true;
      reject(new Error(`the ${what} thread failed: ${error.message}`));
    });
    thread.once('exit', (code) => {
      if (!settled) reject(new Error(`the ${what} thread exited (${code}) before answering`));
    });
  });
}

/** The thread's side: answers the request it was started with by `handle`'s result. */
export async function answerInThread<Request, Answer>(handle: (request: Request) => Promise<Answer>): Promise<void> {
  const { parentPort, workerData } = await import('node:worker_threads');
  parentPort?.postMessage(await handle(workerData as Request));
}

/** A thread cannot take `--import tsx`: it registers tsx's loader itself, then imports the module. */
function tsxEntry(modulePath: string): string {
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(modulePath).href)}); })`;
}
