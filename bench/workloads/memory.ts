/*
 * W5 memory: the controller's (the CLI process's) peak RSS as the input grows: file lists of
 * 10k, 100k, 1M tiny files and CSVs of 50 MB, 500 MB, 5 GB, generated in os.tmpdir() and
 * removed after. Peak = max of VmHWM / VmRSS from /proc/<pid>/status, sampled every 100 ms.
 * One run per size: the figure is a memory peak, not a time.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { round } from '../bench-utils.ts';
import { writeSalesCsv } from '../sales-csv.ts';
import { cachedFileTree, filesJobYaml, freeSpace, runCli, type ResultRow, type SuiteContext, type WorkloadResult } from './common.ts';

const TARGET_MB = 150;
export const FILES_PER_FOLDER = 1000;

const list = (value: unknown, fallback: string) => String(value ?? fallback).split(',').map(Number).filter((n) => n > 0);

export async function w5(ctx: SuiteContext): Promise<WorkloadResult> {
  const dir = join(ctx.root, 'w5');
  mkdirSync(join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'code', 'trivial.mjs'), 'export function run(miniBatch) {\n  return miniBatch.map(() => 1);\n}\n');
  writeFileSync(join(dir, 'code', 'total.mjs'), 'export function run(rows) {\n  const out = new Array(rows.length);\n  for (let i = 0; i < rows.length; i++) out[i] = { id: rows[i].id, total: rows[i].price * rows[i].qty };\n  return out;\n}\n');
  const home = join(dir, 'home');
  const notes: string[] = [];
  let fileCounts = list(ctx.options['w5-files'], ctx.quick ? '1000,10000' : '10000,100000,1000000');
  let csvMbs = list(ctx.options['w5-csv-mb'], ctx.quick ? '5,50' : '50,500,5000');
  const defaults = { files: '10000,100000,1000000', csv: '50,500,5000' };
  if (!ctx.quick && ctx.options['w5-files'] !== undefined && ctx.options['w5-files'] !== defaults.files) notes.push(`reduced on purpose: file counts ${ctx.options['w5-files']} instead of ${defaults.files} (--w5-files)`);
  if (!ctx.quick && ctx.options['w5-csv-mb'] !== undefined && ctx.options['w5-csv-mb'] !== defaults.csv) notes.push(`reduced on purpose: CSV sizes ${ctx.options['w5-csv-mb']} MB instead of ${defaults.csv} MB (--w5-csv-mb), to keep the suite's run time down on a loaded machine`);
  if (ctx.quick) notes.push('--quick sizes: not the issue\'s sizes');
  const free = freeSpace(tmpdir());
  const freeGb = free.bytes / 1e9;
  notes.push(`free space in ${tmpdir()} at start: ${freeGb.toFixed(0)} GB, ${free.inodes.toLocaleString('en')} inodes`);
  // A tiny file takes a 4 KB block and an inode; 5 GB of CSV needs ~6.5 GB with its output and spool.
  const filesOk = (n: number) => n * 4.5e3 < free.bytes * 0.5 && n * 1.1 < free.inodes;
  const droppedFiles = fileCounts.filter((n) => !filesOk(n));
  if (droppedFiles.length > 0) notes.push(`scaled down: ${droppedFiles.join(', ')} files skipped (not enough free space or inodes)`);
  fileCounts = fileCounts.filter(filesOk);
  const droppedCsv = csvMbs.filter((mb) => mb >= 5000 ? freeGb < 20 : (mb * 1.5) / 1000 > freeGb * 0.5);
  if (droppedCsv.length > 0) notes.push(`scaled down: ${droppedCsv.join(', ')} MB CSV skipped (5 GB needs ≥ 20 GB free)`);
  csvMbs = csvMbs.filter((mb) => !droppedCsv.includes(mb));

  const rows: ResultRow[] = [];
  const raw: Record<string, unknown> = {};
  for (const count of fileCounts) {
    const tree = cachedFileTree(ctx, count, FILES_PER_FOLDER);
    const job = join(dir, `files-${count}.yml`);
    writeFileSync(job, filesJobYaml(tree.folder, join(dir, 'out', `files-${count}.txt`), 'entry_script: trivial.mjs', 'retry_settings: {max_retries: 0, timeout: 300}\n'));
    ctx.log(`W5 ${count.toLocaleString('en')} files (made in ${tree.seconds.toFixed(0)} s, ${FILES_PER_FOLDER} per folder), size 10`);
    const { run, summary } = await runCli(job, home, { rows: count });
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    ctx.log(`  ${run.peakRssMb.toFixed(0)} MB peak, ${(run.wallMs / 1000).toFixed(1)} s`);
    raw[`files-${count}`] = { peakRssMb: round(run.peakRssMb, 1), wallMs: round(run.wallMs, 1), miniBatches: summary.miniBatches.total, generateSeconds: round(tree.seconds, 1) };
    rows.push({ configuration: `${count.toLocaleString('en')} files (${FILES_PER_FOLDER} per folder), size 10`, runner: 'minibatch (CLI)', medianWallMs: round(run.wallMs, 1), wallMs: [round(run.wallMs, 1)], metric: { name: 'controller peak RSS', value: round(run.peakRssMb, 1), unit: 'MB' }, target: `≤ ${TARGET_MB} MB`, met: run.peakRssMb <= TARGET_MB, note: `${summary.miniBatches.total.toLocaleString('en')} mini-batches` });
  }
  for (const mb of csvMbs) {
    const input = join(dir, `sales-${mb}.csv`);
    const generating = performance.now();
    const data = writeSalesCsv(input, mb * 1e6, 5);
    const generateS = (performance.now() - generating) / 1000;
    const job = join(dir, `csv-${mb}.yml`);
    writeFileSync(job, `type: parallel
inputs: {table: {type: uri_file, path: ${JSON.stringify(input)}}}
outputs: {result: {type: uri_file, path: ${JSON.stringify(join(dir, 'out', `csv-${mb}.csv`))}}}
input_data: \${{inputs.table}}
mini_batch_size: "10MB"
max_concurrency_per_instance: 2
mini_batch_error_threshold: 0
retry_settings: {max_retries: 0, timeout: 600}
task: {code: ./code, entry_script: total.mjs, append_row_to: "\${{outputs.result}}"}
`);
    ctx.log(`W5 ${mb} MB CSV (${data.rows.toLocaleString('en')} rows, made in ${generateS.toFixed(0)} s), size 10MB, one output row per input row`);
    const { run, summary } = await runCli(job, home, { rows: data.rows });
    rmSync(input, { force: true });
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    ctx.log(`  ${run.peakRssMb.toFixed(0)} MB peak, ${(run.wallMs / 1000).toFixed(1)} s`);
    raw[`csv-${mb}`] = { peakRssMb: round(run.peakRssMb, 1), wallMs: round(run.wallMs, 1), miniBatches: summary.miniBatches.total, rows: data.rows, generateSeconds: round(generateS, 1) };
    rows.push({ configuration: `${mb.toLocaleString('en')} MB CSV (${(data.rows / 1e6).toFixed(1)} M rows), size 10MB`, runner: 'minibatch (CLI)', medianWallMs: round(run.wallMs, 1), wallMs: [round(run.wallMs, 1)], metric: { name: 'controller peak RSS', value: round(run.peakRssMb, 1), unit: 'MB' }, target: `≤ ${TARGET_MB} MB`, met: run.peakRssMb <= TARGET_MB, note: `${summary.miniBatches.total.toLocaleString('en')} mini-batches; ${(data.bytes / 1e6 / (run.wallMs / 1000)).toFixed(1)} MB/s` });
  }
  rmSync(dir, { recursive: true, force: true });
  notes.push('One run per size (a memory peak, not a time). Files: trivial run(), one row per file, 2 processes. CSV: the W3 job (one output row per input row, append_row). Worker processes are not counted.');
  return { title: 'W5 controller memory', setup: `the built CLI's own peak RSS (VmHWM) as the input grows; inputs made in ${tmpdir()} and removed after`, rows, notes, raw };
}
