import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoggingLevel } from '../spec/resolve-job.js';

const RANK: Record<LoggingLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30 };

/**
 * The engine's own log (`logs/sys/minibatch.log`): notices, retries, worker restarts,
 * threshold decisions. Lines at or above the job's logging_level are kept.
 */
export class EngineLog {
  readonly path: string;
  readonly #threshold: number;
  #listeners: ((level: LoggingLevel, message: string) => void)[] = [];

  constructor(path: string, level: LoggingLevel) {
    this.path = path;
    this.#threshold = RANK[level];
    mkdirSync(dirname(path), { recursive: true });
  }

  onLine(listener: (level: LoggingLevel, message: string) => void): void {
    this.#listeners.push(listener);
  }

  write(level: LoggingLevel, message: string): void {
    if (RANK[level] < this.#threshold) return;
    appendFileSync(this.path, `${new Date().toISOString()} ${level} ${message}\n`);
    for (const listener of this.#listeners) listener(level, message);
  }
}
