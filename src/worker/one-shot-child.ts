import { fork, type Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Run from TypeScript sources (tests, tsx), a child or a thread needs tsx too; from dist/, plain node. */
export const FROM_SOURCES = import.meta.url.endsWith('.ts');
/**
 * Node options for a child forked from this build. Resolved here, not by name: a child's cwd
 * may be a job's code folder, where `tsx` is not found.
 */
export const CHILD_EXEC_ARGV = FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : [];

/** The file of module `name` (no extension) beside the module at `besideUrl`, in the same build. */
export function childModule(name: string, besideUrl: string): string {
  return fileURLToPath(new URL(`./${name}${FROM_SOURCES ? '.ts' : '.js'}`, besideUrl));
}

/**
 * Forks `modulePath`, sends it `request` and resolves with its one answer (a message). Work in a
 * child keeps the controller's event loop and memory free of it, and its crash cannot take the
 * controller down: it rejects instead, with the end of the child's stderr.
 */
export function runOneShotChild<Answer>(modulePath: string, request: Serializable, what: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = fork(modulePath, [], { execArgv: CHILD_EXEC_ARGV, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    let settled = false;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('message', (message: Answer) => {
      settled = true;
      resolve(message);
      child.disconnect();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`the ${what} process exited (${signal ?? code}) before answering: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
    child.send(request);
  });
}

/** The child's side: answers the one request with `handle`'s result, then lets the process end. */
export function answerOneRequest<Request, Answer>(handle: (request: Request) => Promise<Answer>): void {
  process.once('message', (request: Request) => {
    void handle(request).then((answer) => process.send?.(answer));
  });
}
