/*
 * W1 dispatch overhead and W6 the Python bridge: trivial mini-batches (run() returns at once),
 * minibatch through the built CLI beside the peers, each runner on the full job and on a
 * 1-mini-batch job of the same shape (its start-up), interleaved run by run.
 *
 * overhead µs / mini-batch = (median wall, full − median wall, 1 batch − serial work) / mini-batches
 * where serial work = the serial baseline's (full − 1 batch): listing, calling run(), writing rows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gnuParallel } from '../peers/gnu-parallel.ts';
import { round } from '../bench-utils.ts';
import {
  countLines, GNU_PARALLEL, GNU_PARALLEL_MISSING, interleaved, measureOk, med, PEERS, PYTHON, ratio, runCli, writeFileTree,
  type ResultRow, type SuiteContext, type WorkloadResult,
} from './common.ts';

const TARGET_US = 20;
const LINE_BYTES = 102; // 101 characters and a newline: ~10 lines in "1kb" (1,024 bytes)
const LINE_BLOCK = 1024;

interface Sample {
  wallMs: number;
  batches: number;
  rssMb: number;
}

interface Runner {
  name: string;
  full: () => Promise<Sample>;
  one: () => Promise<Sample>;
  /** GNU parallel runs only this many mini-batches of the full job (it costs a process each). */
  limitedTo?: number;
}

interface Shape {
  kind: 'files' | 'lines';
  label: string;
  /** The full input and the 1-mini-batch input (a folder or a headerless CSV). */
  full: string;
  one: string;
  /** GNU parallel's smaller input (its first `limit` mini-batches). */
  limited: string;
  items: number;
  per: number;
  limit: number;
}

function jobYaml(shape: Shape, input: string, script: string, output: string): string {
  const inputBlock = shape.kind === 'files'
    ? `{type: uri_folder, path: ${JSON.stringify(input)}, mode: ro_mount}`
    : `{type: uri_file, path: ${JSON.stringify(input)}, read_delimited: {header: no_header}}`;
  return `type: parallel
inputs: {data: ${inputBlock}}
outputs: {rows: {type: uri_file, path: ${JSON.stringify(output)}}}
input_data: \${{inputs.data}}
mini_batch_size: "${shape.kind === 'files' ? shape.per : '1kb'}"
max_concurrency_per_instance: 2
resource_monitor_interval: 0
retry_settings: {max_retries: 0, timeout: 120}
task: {code: ./code, entry_script: ${script}, append_row_to: "\${{outputs.rows}}"}
`;
}

function writeLines(path: string, count: number): void {
  const pad = 'a'.repeat(LINE_BYTES - 10);
  let text = '';
  for (let i = 0; i < count; i++) text += `${String(i).padStart(8, '0')},${pad}\n`;
  writeFileSync(path, text);
}

function prepare(ctx: SuiteContext, dir: string, kind: 'files' | 'lines'): Shape {
  const quick = ctx.quick;
  const limit = Number(ctx.options['parallel-batches'] ?? (quick ? 30 : 200));
  if (kind === 'files') {
    const items = Number(ctx.options['w1-files'] ?? (quick ? 2_000 : 20_000));
    const shape: Shape = { kind, label: `${items.toLocaleString('en')} files, size 2`, full: join(dir, 'files'), one: join(dir, 'files-one'), limited: join(dir, 'files-limited'), items, per: 2, limit };
    writeFileTree(shape.full, items);
    writeFileTree(shape.one, 2);
    writeFileTree(shape.limited, Math.min(items, limit * 2));
    return shape;
  }
  const items = Number(ctx.options['w1-lines'] ?? (quick ? 10_000 : 100_000));
  const shape: Shape = { kind, label: `${items.toLocaleString('en')} lines of 1 file, size "1kb"`, full: join(dir, 'lines.csv'), one: join(dir, 'lines-one.csv'), limited: join(dir, 'lines-limited.csv'), items, per: LINE_BLOCK, limit };
  writeLines(shape.full, items);
  writeLines(shape.one, 10);
  writeLines(shape.limited, Math.min(items, limit * 10));
  return shape;
}

function runners(ctx: SuiteContext, dir: string, shape: Shape, which: readonly string[]): Runner[] {
  const home = join(dir, 'home');
  mkdirSync(join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'code', 'trivial.mjs'), 'export function run(miniBatch) {\n  return miniBatch.map(() => 1);\n}\n');
  writeFileSync(join(dir, 'code', 'trivial.py'), 'def run(mini_batch):\n    return [1] * len(mini_batch)\n');
  const out = (name: string) => join(dir, 'out', `${name}.txt`);
  mkdirSync(join(dir, 'out'), { recursive: true });
  const expected = (input: string) =>
    input === shape.full ? shape.items : input === shape.one ? (shape.kind === 'files' ? 2 : 10) : shape.kind === 'files' ? Math.min(shape.items, shape.limit * 2) : countLines(input);
  const list: Runner[] = [];
  const cli = (name: string, script: string, extraArgs: string[]) => {
    const job = (input: string, tag: string) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}-${tag}.yml`);
      writeFileSync(file, jobYaml(shape, input, script, out(`${script}-${tag}`)));
      return file;
    };
    const full = job(shape.full, 'full');
    const one = job(shape.one, 'one');
    const go = async (file: string, rows: number): Promise<Sample> => {
      const { run, summary } = await runCli(file, home, { rows, extraArgs });
      return { wallMs: run.wallMs, batches: summary.miniBatches.total, rssMb: run.peakRssMb };
    };
    list.push({ name, full: () => go(full, shape.items), one: () => go(one, expected(shape.one)) });
  };
  const script = (name: string, command: string, args: (input: string, output: string) => string[], limited = false) => {
    const go = async (input: string): Promise<Sample> => {
      const output = out(`${name.replace(/\W+/g, '-')}`);
      const run = await measureOk(name, command, args(input, output));
      const rows = countLines(output);
      if (rows !== expected(input)) throw new Error(`${name}: ${rows} rows, expected ${expected(input)}`);
      let batches = Math.ceil(rows / (shape.kind === 'files' ? shape.per : 10));
      try {
        batches = (JSON.parse(run.stdout) as { batches: number }).batches;
      } catch {
        // GNU parallel: no summary; one job per `per` files (files) or per block (lines, ~10 lines)
      }
      return { wallMs: run.wallMs, batches, rssMb: run.peakRssMb };
    };
    list.push({ name, full: () => go(limited ? shape.limited : shape.full), one: () => go(shape.one), ...(limited ? { limitedTo: shape.limit } : {}) });
  };
  const mode = shape.kind;
  for (const name of which) {
    if (name === 'minibatch') cli('minibatch (CLI)', 'trivial.mjs', []);
    if (name === 'minibatch-py') cli('minibatch (CLI), Python script', 'trivial.py', ['--python', PYTHON ?? 'python3']);
    if (name === 'pool' && PYTHON) script('Python Pool(2)', PYTHON, (input, output) => [join(PEERS, 'pool.py'), mode, input, output, String(shape.per), '2']);
    if (name === 'fork') script('Node fork pool(2)', process.execPath, (input, output) => [join(PEERS, 'fork-pool.mjs'), mode, input, output, String(shape.per), '2']);
    if (name === 'serial') script('serial (1 Node process)', process.execPath, (input, output) => [join(PEERS, 'fork-pool.mjs'), mode, input, output, String(shape.per), '0']);
    if (name === 'parallel' && GNU_PARALLEL) {
      const bin = GNU_PARALLEL;
      script('GNU parallel -j2', 'sh', (input, output) => ['-c', mode === 'files'
        ? gnuParallel.files(bin, input, shape.per, 2, output)
        : gnuParallel.lines(bin, input, LINE_BLOCK, 2, output)], true);
    }
  }
  return list;
}

/** Runs one shape with the given runners and turns the samples into rows. */
async function dispatchShape(ctx: SuiteContext, dir: string, shape: Shape, which: readonly string[], headline: string, poolName: string): Promise<{ rows: ResultRow[]; raw: Record<string, unknown> }> {
  const list = runners(ctx, dir, shape, which);
  const jobs = list.flatMap((runner) => [
    { name: `${runner.name} |1`, run: runner.one },
    { name: runner.name, run: runner.full },
  ]);
  // Warm-up (page cache, the first CLI start), not counted.
  for (const runner of list) await runner.one();
  const samples = await interleaved(ctx.runs, jobs, ctx.log, (s) => `${s.wallMs.toFixed(0)} ms`);
  const stats = new Map(list.map((runner) => {
    const full = samples.get(runner.name) ?? [];
    const one = samples.get(`${runner.name} |1`) ?? [];
    return [runner.name, { full: med(full.map((s) => s.wallMs)), one: med(one.map((s) => s.wallMs)), batches: full[0]?.batches ?? 0, walls: full.map((s) => round(s.wallMs, 1)), rss: Math.max(...full.map((s) => s.rssMb)), limitedTo: runner.limitedTo }];
  }));
  const serial = stats.get('serial (1 Node process)');
  const serialWorkMs = serial ? Math.max(0, serial.full - serial.one) : 0;
  const serialBatches = serial?.batches ?? 1;
  const computed = new Map<string, { overheadUs: number; wallFull: number; estimated: boolean }>();
  for (const [name, s] of stats) {
    const work = (serialWorkMs * s.batches) / serialBatches;
    const overheadUs = ((s.full - s.one - work) * 1000) / s.batches;
    // GNU parallel ran `limitedTo` mini-batches: its wall for the full job is extrapolated.
    const fullBatches = stats.get('serial (1 Node process)')?.batches ?? s.batches;
    const wallFull = s.limitedTo ? s.one + serialWorkMs + (overheadUs * fullBatches) / 1000 : s.full;
    computed.set(name, { overheadUs, wallFull, estimated: Boolean(s.limitedTo) });
  }
  const pool = computed.get(poolName);
  const rows: ResultRow[] = [];
  for (const [name, s] of stats) {
    const c = computed.get(name) as { overheadUs: number; wallFull: number; estimated: boolean };
    const isEngine = name.startsWith('minibatch');
    const ratios: Record<string, number | null> = {};
    if (isEngine) for (const [peer, p] of computed) if (!peer.startsWith('minibatch')) ratios[peer] = ratio(c.wallFull, p.wallFull);
    const metOverhead = c.overheadUs <= TARGET_US;
    const metPool = pool ? c.wallFull <= pool.wallFull : null;
    rows.push({
      configuration: shape.label,
      runner: name,
      medianWallMs: round(c.wallFull, 1),
      wallMs: s.walls,
      metric: { name: name.startsWith('serial') ? 'the work itself, ms (full − 1 batch)' : 'overhead µs / mini-batch', value: name.startsWith('serial') ? round(serialWorkMs, 1) : round(c.overheadUs, 1), unit: name.startsWith('serial') ? 'ms' : 'µs' },
      ...(isEngine ? { ratios, ratioOf: 'wall ÷ peer wall', target: headline, met: metOverhead && metPool !== false } : {}),
      note: [
        `${s.batches.toLocaleString('en')} mini-batches`,
        `start-up ${s.one.toFixed(0)} ms`,
        c.estimated ? `ran ${s.limitedTo} mini-batches (one process each), wall for the full job extrapolated` : '',
        isEngine || name.startsWith('Python') ? `parent peak RSS ${s.rss.toFixed(0)} MB` : '',
        isEngine ? `≤ ${TARGET_US} µs: ${metOverhead ? 'met' : 'not met'}; ≤ 1.0× Pool: ${metPool === null ? 'n/a' : metPool ? 'met' : 'not met'}` : '',
      ].filter(Boolean).join('; '),
    });
  }
  return { rows, raw: Object.fromEntries([...stats].map(([name, s]) => [name, { ...s, ...computed.get(name) }])) };
}

export async function w1(ctx: SuiteContext): Promise<WorkloadResult> {
  const dir = join(ctx.root, 'w1');
  const rows: ResultRow[] = [];
  const raw: Record<string, unknown> = {};
  const notes: string[] = [];
  if (!GNU_PARALLEL) notes.push(`GNU parallel: ${GNU_PARALLEL_MISSING}`);
  if (!PYTHON) notes.push('Python Pool: skipped, no python3');
  for (const kind of ['files', 'lines'] as const) {
    const shape = prepare(ctx, dir, kind);
    ctx.log(`W1 ${shape.label}, 2 processes, ${ctx.runs} run(s)`);
    const result = await dispatchShape(ctx, dir, shape, ['minibatch', 'pool', 'fork', 'parallel', 'serial'], `≤ ${TARGET_US} µs and ≤ 1.0× Pool wall`, 'Python Pool(2)');
    rows.push(...result.rows);
    raw[kind] = result.raw;
  }
  rmSync(dir, { recursive: true, force: true });
  notes.push('overhead µs / mini-batch = (median wall of the full job − median wall of the same runner on a 1-mini-batch job − serial work) / mini-batches; serial work = the serial baseline\'s full − 1-batch wall (listing, calling run(), writing rows).');
  notes.push('Ratios: this runner\'s median wall ÷ the peer\'s, same input, same run (< 1: minibatch is faster). GNU parallel starts a process per mini-batch, so it runs only its first mini-batches and its full-job wall is extrapolated: 1-batch wall + serial work + overhead × mini-batches.');
  notes.push('The "lines" input is a CSV without header read as a table: minibatch\'s workers parse rows (Papa Parse), the peers only count lines in their byte range.');
  return { title: 'W1 dispatch overhead', setup: `trivial run(), 2 worker processes, the built CLI beside the peers; ${ctx.runs} run(s) interleaved, medians`, rows, notes, raw };
}

export async function w6(ctx: SuiteContext): Promise<WorkloadResult> {
  const dir = join(ctx.root, 'w6');
  const shape = prepare(ctx, dir, 'files');
  const notes: string[] = [];
  if (!PYTHON) return { title: 'W6 Python bridge', setup: 'skipped: no python3', rows: [], notes: ['no python3 found'] };
  ctx.log(`W6 ${shape.label}, Python entry script, 2 processes, ${ctx.runs} run(s)`);
  const result = await dispatchShape(ctx, dir, shape, ['minibatch-py', 'minibatch', 'pool', 'serial'], `≤ 1.0× Pool wall`, 'Python Pool(2)');
  rmSync(dir, { recursive: true, force: true });
  notes.push('As W1 (files): the same job with a Python entry script (`--python`), the JS script and multiprocessing.Pool beside it. The in-process figures of `npm run bench:python` (runParallelJob under tsx) are not repeated here.');
  return { title: 'W6 Python bridge', setup: `W1's files job with trivial.py, ${PYTHON}; ${ctx.runs} run(s) interleaved, medians`, rows: result.rows, notes, raw: result.raw };
}
