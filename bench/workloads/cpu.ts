/*
 * W2 CPU scaling: items of ~5 ms of CPU each (PBKDF2-SHA256, iterations calibrated once here;
 * Node's crypto and Python's hashlib both run OpenSSL's), 20 per mini-batch, on 1 and on 2
 * processes, for minibatch (built CLI) and every peer, interleaved run by run.
 *
 * efficiency = (T1 − S1) / (2 × (T2 − S2)): T = median wall on 1 / 2 processes, S = the same
 * runner's median wall on a 1-item job (its start-up). 1.0 = twice as fast on two processes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gnuParallel } from '../peers/gnu-parallel.ts';
import { round } from '../bench-utils.ts';
import {
  calibratePbkdf2, countLines, GNU_PARALLEL, GNU_PARALLEL_MISSING, interleaved, measureOk, med, PEERS, PYTHON, ratio, runCli, writeFileTree,
  type ResultRow, type SuiteContext, type WorkloadResult,
} from './common.ts';

const TARGET = 0.95;

export async function w2(ctx: SuiteContext): Promise<WorkloadResult> {
  const items = Number(ctx.options['w2-items'] ?? (ctx.quick ? 200 : 2_000));
  const cpuMs = Number(ctx.options['w2-ms'] ?? 5);
  const per = 20;
  const dir = join(ctx.root, 'w2');
  const full = join(dir, 'items');
  const one = join(dir, 'one');
  writeFileTree(full, items);
  writeFileTree(one, 1);
  mkdirSync(join(dir, 'code'), { recursive: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  const iterations = calibratePbkdf2(cpuMs);
  writeFileSync(join(dir, 'code', 'cpu.mjs'), `import { pbkdf2Sync } from 'node:crypto';
export function run(miniBatch, ctx) {
  const iterations = Number(ctx.programArguments.parsed.iterations);
  return miniBatch.map((file) => pbkdf2Sync(file, 'minibatch', iterations, 32, 'sha256').toString('hex'));
}
`);
  const home = join(dir, 'home');
  const job = (input: string, processes: number, tag: string) => {
    const file = join(dir, `job-${tag}-${processes}.yml`);
    writeFileSync(file, `type: parallel
inputs: {data: {type: uri_folder, path: ${JSON.stringify(input)}, mode: ro_mount}}
outputs: {rows: {type: uri_file, path: ${JSON.stringify(join(dir, 'out', `mb-${tag}-${processes}.txt`))}}}
input_data: \${{inputs.data}}
mini_batch_size: "${per}"
max_concurrency_per_instance: ${processes}
resource_monitor_interval: 0
retry_settings: {max_retries: 0, timeout: 300}
task: {code: ./code, entry_script: cpu.mjs, program_arguments: "--iterations ${iterations}", append_row_to: "\${{outputs.rows}}"}
`);
    return file;
  };
  ctx.log(`W2 CPU scaling: ${items} items × ~${cpuMs} ms (PBKDF2-SHA256, ${iterations.toLocaleString('en')} iterations), ${per} per mini-batch, 1 and 2 processes, ${ctx.runs} run(s)`);

  type Go = (input: string) => Promise<number>;
  const runners: { name: string; processes: number; go: Go }[] = [];
  const expected = (input: string) => (input === full ? items : 1);
  const peer = (name: string, processes: number, command: string, args: (input: string, output: string) => string[]) =>
    runners.push({
      name,
      processes,
      go: async (input) => {
        const output = join(dir, 'out', `${name.replace(/\W+/g, '-')}.txt`);
        const run = await measureOk(name, command, args(input, output));
        if (countLines(output) !== expected(input)) throw new Error(`${name}: ${countLines(output)} rows, expected ${expected(input)}`);
        return run.wallMs;
      },
    });
  for (const processes of [1, 2]) {
    const jobs = { full: job(full, processes, 'full'), one: job(one, processes, 'one') };
    runners.push({ name: 'minibatch (CLI)', processes, go: async (input) => (await runCli(input === full ? jobs.full : jobs.one, home, { rows: expected(input) })).run.wallMs });
    if (PYTHON) peer('Python Pool', processes, PYTHON, (input, output) => [join(PEERS, 'pool.py'), 'cpu', input, output, String(per), String(processes), String(iterations)]);
    peer('Node fork pool', processes, process.execPath, (input, output) => [join(PEERS, 'fork-pool.mjs'), 'cpu', input, output, String(per), String(processes), String(iterations)]);
    if (GNU_PARALLEL) peer('GNU parallel', processes, 'sh', (input, output) => ['-c', gnuParallel.cpu(GNU_PARALLEL as string, input, per, processes, iterations, output)]);
  }
  peer('serial (1 Node process)', 1, process.execPath, (input, output) => [join(PEERS, 'fork-pool.mjs'), 'cpu', input, output, String(per), '0', String(iterations)]);

  const key = (r: { name: string; processes: number }) => `${r.name} ×${r.processes}`;
  for (const runner of runners) await runner.go(one); // warm-up
  const samples = await interleaved(
    ctx.runs,
    runners.flatMap((r) => [{ name: `${key(r)} |1`, run: () => r.go(one) }, { name: key(r), run: () => r.go(full) }]),
    ctx.log,
    (ms) => `${ms.toFixed(0)} ms`,
  );
  const stat = (name: string) => ({ full: med(samples.get(name) ?? []), one: med(samples.get(`${name} |1`) ?? []), walls: (samples.get(name) ?? []).map((ms) => round(ms, 1)) });
  const serial = stat('serial (1 Node process) ×1');
  const serialWork = serial.full - serial.one;
  const rows: ResultRow[] = [];
  const names = [...new Set(runners.map((r) => r.name))].filter((n) => !n.startsWith('serial'));
  const twoWalls = new Map(names.map((n) => [n, stat(`${n} ×2`).full]));
  const raw: Record<string, unknown> = { items, cpuMsPerItem: cpuMs, iterations, perMiniBatch: per, serialWorkMs: round(serialWork, 1) };
  for (const name of names) {
    const t1 = stat(`${name} ×1`);
    const t2 = stat(`${name} ×2`);
    const efficiency = (t1.full - t1.one) / (2 * (t2.full - t2.one));
    const vsSerial = serialWork / (2 * (t2.full - t2.one));
    const isEngine = name.startsWith('minibatch');
    const ratios: Record<string, number | null> = {};
    if (isEngine) for (const [peerName, wall] of twoWalls) if (peerName !== name) ratios[peerName] = ratio(t2.full, wall);
    if (isEngine) ratios['serial ÷ 2 (ideal)'] = ratio(t2.full - t2.one, serialWork / 2);
    rows.push({
      configuration: `${items} items × ${cpuMs} ms, size ${per}`,
      runner: name,
      medianWallMs: round(t2.full, 1),
      wallMs: t2.walls,
      metric: { name: 'efficiency 1 → 2 processes', value: round(efficiency, 3), unit: '' },
      ...(isEngine ? { ratios, ratioOf: 'wall on 2 processes ÷ peer wall on 2', target: `efficiency ≥ ${TARGET}`, met: efficiency >= TARGET } : {}),
      note: `1 process ${t1.full.toFixed(0)} ms, 2 processes ${t2.full.toFixed(0)} ms, start-up ${t1.one.toFixed(0)} / ${t2.one.toFixed(0)} ms; vs serial work ÷ 2: ${vsSerial.toFixed(2)}`,
    });
    raw[name] = { one: t1, two: t2, efficiency: round(efficiency, 3), efficiencyVsSerial: round(vsSerial, 3) };
  }
  rows.push({ configuration: `${items} items × ${cpuMs} ms, size ${per}`, runner: 'serial (1 Node process)', medianWallMs: round(serial.full, 1), wallMs: serial.walls, metric: { name: 'the work itself, ms (full − 1 item)', value: round(serialWork, 1), unit: 'ms' } });
  rmSync(dir, { recursive: true, force: true });
  const notes = [
    'efficiency = (T1 − S1) / (2 × (T2 − S2)); T1, T2 = median wall on 1 and 2 processes; S1, S2 = the same runner\'s median wall on a 1-item job (start-up). "vs serial work ÷ 2" = (serial full − serial 1-item) / (2 × (T2 − S2)).',
    'The median wall column is the 2-process run. On a 2-core machine shared with other work, efficiency is capped by whatever else runs: read it beside the load average. An efficiency above 1 is noise (the 1-process runs met a busier machine).',
  ];
  if (!GNU_PARALLEL) notes.push(`GNU parallel: ${GNU_PARALLEL_MISSING}`);
  return { title: 'W2 CPU scaling', setup: `${items} items of ~${cpuMs} ms CPU (PBKDF2-SHA256 × ${iterations}), ${per} per mini-batch, 1 and 2 processes; ${ctx.runs} run(s) interleaved, medians`, rows, notes, raw };
}
