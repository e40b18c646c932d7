import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The layout of one run's directory (DESIGN.md §7); `readme.txt` explains it to users. */
export class RunDirectory {
  readonly runId: string;
  readonly root: string;

  constructor(root: string, runId: string) {
    this.root = root;
    this.runId = runId;
  }

  /** A new run's directory under the minibatch home, `<home>/runs/<run-id>`; nothing is created yet. */
  static allocate(home: string, name: string | undefined): RunDirectory {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const slug = (name ?? 'job').replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'job';
    const runId = `${slug}-${stamp}-${randomBytes(3).toString('hex')}`;
    return new RunDirectory(join(resolve(home), 'runs', runId), runId);
  }

  create(): void {
    for (const folder of [this.logs, this.sysLogs, this.state, join(this.logs, 'user')]) mkdirSync(folder, { recursive: true });
  }

  get jobFile() { return join(this.root, 'job.yml'); }
  get logs() { return join(this.root, 'logs'); }
  get sysLogs() { return join(this.logs, 'sys'); }
  get state() { return join(this.root, 'state'); }
  get jobResult() { return join(this.logs, 'job_result.txt'); }
  get readme() { return join(this.logs, 'readme.txt'); }
  get engineLog() { return join(this.sysLogs, 'minibatch.log'); }
  get processedBatches() { return join(this.sysLogs, 'job_report', 'processed_mini-batches.csv'); }

  progressOverview(at: Date): string {
    const hour = at.toISOString().slice(0, 13).replace(/[-T]/g, '');
    return join(this.logs, `job_progress_overview.${hour}.txt`);
  }

  resourceUsage(node: number): string {
    return join(this.sysLogs, 'perf', `node-${node}`, 'node_resource_usage.csv');
  }

  userStdout(node: number, process: number) { return join(this.logs, 'user', 'stdout', `node-${node}`, `process-${process}.stdout.txt`); }
  userStderr(node: number, process: number) { return join(this.logs, 'user', 'stderr', `node-${node}`, `process-${process}.stderr.txt`); }
  userError(node: number, process: number) { return join(this.logs, 'user', 'error', `node-${node}`, `process-${process}.txt`); }
}

/** `MINIBATCH_HOME`, or `./.minibatch` in the current folder. */
export function minibatchHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MINIBATCH_HOME ? resolve(env.MINIBATCH_HOME) : resolve('.minibatch');
}
