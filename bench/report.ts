/*
 * bench/RESULTS.md from the results JSON (their `suite` key): one table per workload, the
 * machine, the load average. Each workload's newest run across the day files, or one day's with
 * a date. Run alone to regenerate: node --import tsx bench/report.ts [yyyy-mm-dd]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR } from './bench-utils.ts';
import type { ResultRow, WorkloadResult } from './workloads/common.ts';

export interface SuiteSection {
  at: string;
  machine: Record<string, string | number>;
  command: string;
  workloads: Record<string, WorkloadResult & { at: string; loadAverage: { start: number[]; end: number[] }; seconds: number; command?: string }>;
}

const num = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));
const cell = (text: string) => text.replace(/\|/g, '\\|');

function row(r: ResultRow): string[] {
  const ratios = r.ratios ? Object.entries(r.ratios).map(([peer, value]) => `${num(value, 2)}× ${peer}`).join('; ') : '';
  const wall = r.medianWallMs === null ? '–' : r.medianWallMs >= 10_000 ? `${num(r.medianWallMs / 1000, 1)} s` : `${num(r.medianWallMs, 0)} ms`;
  return [r.configuration, r.runner, wall, `${num(r.metric.value, r.metric.value !== null && Math.abs(r.metric.value) < 10 ? 2 : 1)} ${r.metric.unit}`.trim(), ratios ? `${ratios} (${r.ratioOf})` : '', r.target ?? '', r.met === undefined || r.met === null ? '' : r.met ? '**met**' : '**not met**', r.note ?? ''].map(cell);
}

export function renderResults(days: readonly string[], suite: SuiteSection): string {
  const m = suite.machine;
  const sources = days.map((day) => `\`bench/results/${day}.json\``).join(', ');
  const out: string[] = [
    '# Benchmark results',
    '',
    `Generated from ${sources} by \`bench/report.ts\` (\`npm run bench\` writes both; each workload's newest run). How each figure is computed: \`bench/README.md\`.`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} cores, ${m.memoryGb} GB, ${m.platform}; Node ${m.node}, ${m.python}; GNU parallel ${m.gnuParallel}. Command of the last run: \`${suite.command}\` (each workload says the run it comes from).`,
    '',
    'The machine is shared (other test suites run on the same 2 cores): absolute times move with the load average given under each table; read the ratios, measured within the same run.',
    '',
  ];
  for (const [key, w] of Object.entries(suite.workloads)) {
    out.push(`## ${w.title}`, '', `${w.setup}.`, '');
    out.push(`Measured ${w.at.replace('T', ' ').slice(0, 16)} UTC in ${num(w.seconds, 0)} s; load average (1, 5, 15 min) ${w.loadAverage.start.join(', ')} at start, ${w.loadAverage.end.join(', ')} at end${w.command ? `; by \`${w.command}\`` : ''}.`, '');
    if (w.rows.length > 0) {
      out.push('| configuration | runner | median wall | metric | vs peers | target | verdict | notes |', '| --- | --- | ---: | ---: | --- | --- | --- | --- |');
      for (const r of w.rows) out.push(`| ${row(r).join(' | ')} |`);
      out.push('');
    }
    for (const note of w.notes) out.push(`- ${note}`);
    out.push('');
    void key;
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** RESULTS.md from one day's file, or from each workload's newest run across the day files (in the suite's workload order). */
export function writeResultsMarkdown(day?: string): string {
  const files = day ? [`${day}.json`] : readdirSync(join(BENCH_DIR, 'results')).filter((name) => /^\d{4}-\d{2}-\d{2}\.json$/.test(name)).sort();
  let merged: SuiteSection | undefined;
  const from = new Map<string, string>();
  for (const file of files) {
    const suite = (JSON.parse(readFileSync(join(BENCH_DIR, 'results', file), 'utf8')) as { suite?: SuiteSection }).suite;
    if (!suite) continue;
    merged = { ...suite, workloads: { ...merged?.workloads } };
    for (const [key, workload] of Object.entries(suite.workloads)) {
      const current = merged.workloads[key];
      if (!current || current.at <= workload.at) {
        merged.workloads[key] = workload;
        from.set(key, file.replace('.json', ''));
      }
    }
  }
  if (!merged) throw new Error(day ? `${day}.json has no suite section: run npm run bench` : 'no results file with a suite section: run npm run bench');
  const ordered = Object.keys(merged.workloads).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  merged.workloads = Object.fromEntries(ordered.map((key) => [key, merged.workloads[key] as SuiteSection['workloads'][string]]));
  const used = new Set(ordered.map((key) => from.get(key) ?? ''));
  const path = join(BENCH_DIR, 'RESULTS.md');
  writeFileSync(path, renderResults([...used].sort(), merged));
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(writeResultsMarkdown(process.argv[2]));
