import { appendFileSync, mkdirSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';

const HEADER = 'time,cpu_percent,memory_used_mb,memory_total_mb,load_1m,disk_free_gb,controller_rss_mb\n';

/**
 * Samples this node's CPU, memory and disk into `logs/sys/perf/<node>/node_resource_usage.csv`
 * every `intervalMs` (0 = off), plus once at start and once at the end so short jobs get rows.
 */
export class ResourceMonitor {
  readonly #path: string;
  readonly #diskPath: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastCpu = { busy: 0, total: 0 };

  constructor(path: string, diskPath: string, intervalMs: number) {
    this.#path = path;
    this.#diskPath = diskPath;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#intervalMs <= 0) return;
    this.#lastCpu = cpuTimes();
    mkdirSync(dirname(this.#path), { recursive: true });
    appendFileSync(this.#path, HEADER);
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  sample(): void {
    const now = cpuTimes();
    const busy = now.busy - this.#lastCpu.busy;
    const total = now.total - this.#lastCpu.total;
    this.#lastCpu = now;
    let diskFreeGb = '';
    try {
      const stats = statfsSync(this.#diskPath);
      diskFreeGb = ((stats.bavail * stats.bsize) / 1024 ** 3).toFixed(2);
    } catch {
      // a disk we cannot stat leaves the column empty
    }
    const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);
    const row = [
      new Date().toISOString(),
      total > 0 ? ((busy * 100) / total).toFixed(1) : '0.0',
      mb(totalmem() - freemem()),
      mb(totalmem()),
      (loadavg()[0] ?? 0).toFixed(2),
      diskFreeGb,
      mb(process.memoryUsage.rss()),
    ];
    appendFileSync(this.#path, `${row.join(',')}\n`);
  }

  stop(): void {
    if (this.#timer === undefined) return; // off, or never started
    clearInterval(this.#timer);
    this.sample();
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}
