import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Rounds for the JSON file: three significant decimals are more than the noise allows. */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A plain text table: the first column left-aligned (labels), the others right-aligned (numbers). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Enough about the machine to tell whether two result files are comparable. */
export function machineNote(): Record<string, string | number> {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: round(totalmem() / 1024 ** 3, 1),
  };
}

/**
 * Merges `section` into `bench/results/<yyyy-mm-dd>.json` under `key`, so the two benchmarks
 * of one day share a file and neither erases the other's figures. `day` defaults to today; a
 * run that reads the file first passes the day it read, so a run across midnight writes where
 * it read.
 */
export function writeResults(key: string, section: unknown, day = new Date().toISOString().slice(0, 10)): string {
  const path = join(BENCH_DIR, 'results', `${day}.json`);
  mkdirSync(dirname(path), { recursive: true });
  let existing: Record<string, unknown> = {};
  try {
    existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // no file yet (or an unreadable one): start over
  }
  const merged = { ...existing, machine: machineNote(), [key]: { at: new Date().toISOString(), ...(section as object) } };
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return path;
}

// --- options: a bad one ends a bench script (exit 2) before anything runs or is written ------

export function usage(script: string, message: string): never {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

/** `parse()` (node:util's parseArgs): an unknown option or a missing value ends the script as usage(). */
export function parseOptions<T>(script: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    return usage(script, (error as Error).message);
  }
}

/**
 * Every string option but those in `except` is a number above 0: a whole number if in `whole`,
 * comma-separated if in `lists`. (Unchecked, `--runs abc` once ran nothing and still rewrote
 * bench/RESULTS.md.)
 */
export function checkNumbers(script: string, values: Record<string, unknown>, spec: { whole: readonly string[]; lists?: readonly string[]; except?: readonly string[] }): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string' || spec.except?.includes(name)) continue;
    const whole = spec.whole.includes(name);
    const list = spec.lists?.includes(name) ?? false;
    for (const part of list ? value.split(',') : [value]) {
      const number = Number(part);
      if (part.trim() === '' || !(number > 0) || (whole && !Number.isInteger(number))) {
        usage(script, `--${name} ${value}: expected ${list ? 'comma-separated ' : 'a '}${whole ? 'whole number' : 'number'}${list ? 's' : ''} above 0`);
      }
    }
  }
}
