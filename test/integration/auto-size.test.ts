import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, FIXTURE_PYTHON, findTestPython, makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

/*
 * mini_batch_size: auto through the real CLI: sizes grow from measured run() time, boundaries
 * are journaled, and a controller killed mid-run resumes to the output of an uninterrupted run.
 * No assertion on exact sizes or times (a loaded 2-core machine): growth, coverage and identity.
 */

const names = (count: number) => Array.from({ length: count }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);

/** Items per mini-batch in id order, from logs/sys/job_report/processed_mini-batches.csv. */
function itemsById(runDir: string): number[] {
  const rows = readLines(join(runDir, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv')).slice(1).map((line) => line.split(','));
  return rows.sort((a, b) => Number(a[0]) - Number(b[0])).map((row) => Number(row[4]));
}

interface JournalRecord {
  k: string;
  b?: { id: number; first: number; count: number; amount: number };
  r?: { id: number; items: number };
}

function journal(runDir: string): JournalRecord[] {
  const path = join(runDir, 'state', 'journal.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line.slice(line.indexOf('\t') + 1)) as JournalRecord);
}

function autoJob(files: number, msPerItem: number, target: number, extra: Record<string, unknown> = {}) {
  return makeJob({ script: 'fixture_sleep_per_item.mjs', files, size: 'auto', processes: 2, programArguments: `--ms_per_item ${msPerItem}`, extra: { target_mini_batch_seconds: target, ...extra } });
}

describe('mini_batch_size: auto', () => {
  it('starts at one file and grows mini-batches toward the target; says so in validate, job.yml, job_result and the log', async () => {
    // 20 ms per file, 0.2 s target: ~10 files per mini-batch once measured.
    const job = autoJob(60, 20, 0.2);
    const validated = await runCli(['validate', job.jobFile], { home: job.home });
    assert.equal(validated.code, 0, validated.stderr);
    assert.match(validated.stdout, /mini-batch size auto \(target 0\.2 s\), starting at 1 file/);

    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readLines(job.output), names(60));
    const runDir = onlyRunDir(job.home);
    const items = itemsById(runDir);
    assert.equal(items.reduce((a, b) => a + b, 0), 60, 'every file once');
    assert.equal(items[0], 1, 'the first mini-batch is one file');
    assert.ok(Math.max(...items) > 1, `later mini-batches are bigger: ${items.join(' ')}`);
    assert.match(readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8'), /^Input: file list .* mini-batch size auto \(target 0\.2 s\)/m);
    const runnable = readFileSync(join(runDir, 'job.yml'), 'utf8');
    assert.match(runnable, /^mini_batch_size: auto$/m);
    assert.match(runnable, /^target_mini_batch_seconds: 0\.2$/m);
    assert.match(readFileSync(join(runDir, 'logs', 'sys', 'minibatch.log'), 'utf8'), /mini_batch_size auto: mini-batch 0 holds 1 file \(nothing measured yet, target 0\.2 s\)/);
    // Every mini-batch's boundary is journaled, contiguous, and matches what it ran.
    const records = journal(runDir);
    const boundaries = records.flatMap((record) => (record.b ? [record.b] : []));
    let next = 0;
    for (const [index, boundary] of boundaries.entries()) {
      assert.equal(boundary.id, index);
      assert.equal(boundary.first, next);
      assert.equal(boundary.count, items[index]);
      next += boundary.count;
    }
    assert.equal(next, 60);
    rmSync(job.dir, { recursive: true, force: true });
  });

  it('resumes a killed run exactly: journaled boundaries replayed, output identical to an uninterrupted run', async () => {
    const files = 200;
    const clean = autoJob(files, 20, 0.15);
    const cleanRun = await runCli(['run', clean.jobFile], { home: clean.home });
    assert.equal(cleanRun.code, 0, cleanRun.stderr);
    const expected = readFileSync(clean.output);

    const job = autoJob(files, 20, 0.15);
    const child = spawn(process.execPath, [CLI, 'run', job.jobFile], { env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const commits = () => {
      try {
        return journal(onlyRunDir(job.home)).filter((record) => record.k === 'commit').length;
      } catch {
        return 0;
      }
    };
    for (let waited = 0; waited < 60_000 && commits() < 4; waited += 20) await sleep(20);
    child.kill('SIGKILL');
    await exited;
    const runDir = onlyRunDir(job.home);
    const before = journal(runDir);
    assert.equal(before.some((record) => record.k === 'end'), false, 'killed before it ended');
    const committedBefore = before.filter((record) => record.k === 'commit').length;
    assert.ok(committedBefore >= 4 && committedBefore < before.filter((record) => record.k === 'boundary').length + 1);
    assert.ok(!existsSync(job.output), 'no output from the killed run');

    const resumed = await runCli(['job', 'resume', runDir.split('/').at(-1) ?? ''], { home: job.home });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readFileSync(job.output), expected, 'byte for byte the uninterrupted output');

    const records = journal(runDir);
    const boundaries = records.flatMap((record) => (record.b ? [record.b] : []));
    const commitIds = records.flatMap((record) => (record.k === 'commit' && record.r ? [record.r.id] : []));
    assert.equal(new Set(boundaries.map((b) => b.id)).size, boundaries.length, 'no boundary journaled twice (the resume replayed them)');
    assert.equal(new Set(commitIds).size, commitIds.length, 'no mini-batch committed twice');
    assert.deepEqual([...commitIds].sort((a, b) => a - b), boundaries.map((b) => b.id), 'one commit per boundary');
    // Each commit ran exactly the items its boundary says, whichever session ran it.
    const items = new Map(records.flatMap((record) => (record.k === 'commit' && record.r ? [[record.r.id, record.r.items] as const] : [])));
    let next = 0;
    for (const boundary of boundaries) {
      assert.equal(boundary.first, next);
      assert.equal(items.get(boundary.id), boundary.count, `mini-batch ${boundary.id}`);
      next += boundary.count;
    }
    assert.equal(next, files);
    rmSync(clean.dir, { recursive: true, force: true });
    rmSync(job.dir, { recursive: true, force: true });
  });

  it('refuses to resume an auto run with a fixed size (--allow-changes), naming why', async () => {
    const job = autoJob(80, 20, 0.1);
    const child = spawn(process.execPath, [CLI, 'run', job.jobFile], { env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const committed = () => {
      try {
        return journal(onlyRunDir(job.home)).some((record) => record.k === 'commit');
      } catch {
        return false;
      }
    };
    for (let waited = 0; waited < 60_000 && !committed(); waited += 20) await sleep(20);
    child.kill('SIGKILL');
    await exited;
    writeFileSync(job.jobFile, readFileSync(job.jobFile, 'utf8').replace('mini_batch_size: auto', 'mini_batch_size: "5"'));
    const refused = await runCli(['job', 'resume', onlyRunDir(job.home).split('/').at(-1) ?? '', '--allow-changes'], { home: job.home });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /cannot be resumed with a fixed mini_batch_size: it started with mini_batch_size: auto/);
    rmSync(job.dir, { recursive: true, force: true });
  });

  it('sizes a CSV table by bytes from 64 KB, every row once and in order', async () => {
    // 0.01 ms per row: 64 KB (~2,400 rows) takes ~24 ms, well under the 0.5 s target, so sizes grow.
    const job = autoJob(1, 0.01, 0.5, { inputs: { data: { type: 'uri_file', path: './table.csv', read_delimited: {} } } });
    const rows = Array.from({ length: 60_000 }, (_, i) => `${i},${'v'.repeat(20)}`);
    writeFileSync(join(job.dir, 'table.csv'), `id,text\n${rows.join('\n')}\n`);
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readLines(job.output), rows.map((_, i) => String(i)));
    const runDir = onlyRunDir(job.home);
    const items = itemsById(runDir);
    assert.ok(items.length >= 3, `several mini-batches: ${items.join(' ')}`);
    assert.ok(Math.max(...items) > (items[0] ?? 0), `later mini-batches hold more rows: ${items.join(' ')}`);
    assert.match(readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8'), /^Input: table .* mini-batch size auto \(target 0\.5 s\), starting at ~64 KB/m);
    rmSync(job.dir, { recursive: true, force: true });
  });
});

const PYTHON = findTestPython();

describe('mini_batch_size: auto with a Python entry script', { skip: PYTHON ? false : 'no python3 found' }, () => {
  it('grows mini-batches the same way (nothing bridge-specific)', async () => {
    const job = makeJob({ fixtures: FIXTURE_PYTHON, script: 'fixture_sleep_per_item.py', files: 40, size: 'auto', processes: 2, programArguments: '--ms_per_item 20', extra: { target_mini_batch_seconds: 0.2 } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readLines(job.output), names(40));
    const items = itemsById(onlyRunDir(job.home));
    assert.equal(items[0], 1);
    assert.ok(Math.max(...items) > 1, `later mini-batches are bigger: ${items.join(' ')}`);
    rmSync(job.dir, { recursive: true, force: true });
  });
});
