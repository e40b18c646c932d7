import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

describe('minibatch run: a file-list job end to end', () => {
  it('runs every file once, writes rows in input order, and lays out the run directory', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 25, size: 3, processes: 3 });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const expected = Array.from({ length: 25 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);
    assert.deepEqual(readLines(job.output), expected);
    assert.match(result.stdout, /Succeeded: 9 of 9 mini-batches succeeded, 0 failed; 25 items succeeded/);
    const runDir = onlyRunDir(job.home);
    for (const path of [
      'job.yml',
      'logs/job_result.txt',
      'logs/readme.txt',
      'logs/sys/minibatch.log',
      'logs/sys/job_report/processed_mini-batches.csv',
      'logs/user/stdout/node-0/process-0.stdout.txt',
      'logs/user/stderr/node-0/process-2.stderr.txt',
      'state/journal.log',
      'state/summary.json',
    ]) {
      assert.ok(existsSync(join(runDir, path)), `${path} exists`);
    }
    assert.match(readFileSync(join(runDir, 'logs/job_result.txt'), 'utf8'), /^Status: Succeeded/);
    const processed = readLines(join(runDir, 'logs/sys/job_report/processed_mini-batches.csv'));
    assert.equal(processed[0], 'id,tries,process,start,total,succeeded,failed,seconds,status,error');
    assert.equal(processed.length, 10);
    // init once per worker process (a process the job no longer needed may never start)
    const inits = readLines(join(job.dir, 'state', 'init.log')).map((line) => line.split(' ')[1]);
    assert.ok(inits.length >= 1 && inits.length <= 3, `inits: ${inits.length}`);
    assert.equal(new Set(inits).size, inits.length, 'no process ran init() twice');
  });

  it('accepts the reference verb `job create --file` and prints a --json summary', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 4, size: 2 });
    const result = await runCli(['job', 'create', '--file', job.jobFile, '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.status, 'succeeded');
    assert.deepEqual(summary.miniBatches, { total: 2, succeeded: 2, failed: 0, retries: 0 });
    assert.deepEqual(summary.items, { succeeded: 4, failed: 0 });
    assert.equal(summary.output.rows, 4);
  });

  it('gives the script its context: ranks, parsed arguments, inputs, outputs, env', async () => {
    const job = makeJob({
      script: 'context_probe.mjs',
      files: 2,
      size: 1,
      processes: 1,
      appendRow: 'probe.jsonl',
      programArguments: '--model ${{inputs.model}} --lr ${{inputs.lr}}',
      extra: {
        inputs: { data: { type: 'uri_folder', path: './data' }, model: { type: 'uri_folder', path: './src' }, lr: 0.5 },
        environment_variables: { GREETING: 'hello' },
        resources: { instance_count: 2 },
      },
    });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const rows = readLines(job.output).map((line) => JSON.parse(line));
    assert.equal(rows.length, 2);
    const first = rows[0];
    assert.equal(first.file, 'f-0000.txt');
    assert.equal(first.id, 0);
    assert.equal(first.attempt, 1);
    assert.equal(first.world, 2);
    assert.equal(first.env_world, '2');
    assert.equal(first.custom_env, 'hello');
    assert.equal(first.model, join(job.dir, 'src'));
    assert.equal(first.input_model, join(job.dir, 'src'));
    assert.equal(first.input_lr, 0.5);
    assert.match(first.raw_args, /--lr 0\.5$/);
    assert.equal(first.output_result, join(job.dir, 'out', 'probe.jsonl'));
    assert.equal(first.cwd, join(job.dir, 'src'));
    assert.equal(first.signal, true);
    for (const row of rows) {
      assert.ok(row.node === 0 || row.node === 1);
      assert.equal(row.env_node, String(row.node));
      assert.equal(row.process, 0);
    }
  });

  it('takes the worker processes it forked as it started (spares): the job\'s folder, environment and logs', async () => {
    const job = makeJob({ script: 'spare_probe.mjs', files: 4, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG', environment_variables: { GREETING: 'hi' } } });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const runDir = onlyRunDir(job.home);
    const engineLog = readFileSync(join(runDir, 'logs/sys/minibatch.log'), 'utf8');
    // One spare per core beside the controller's (at least one), the pool forks the rest: on 2 cores, one of each.
    const spares = Math.min(2, Math.max(1, availableParallelism() - 1));
    assert.equal(engineLog.match(/a spare process \(forked as the CLI started\) taken/g)?.length, spares, engineLog);
    const rows = readLines(job.output).map((line) => JSON.parse(line));
    assert.equal(rows.length, 4);
    for (const row of rows) {
      assert.equal(row.cwd, join(job.dir, 'src'));
      assert.equal(row.greeting, 'hi');
      assert.equal(row.env_process, String(row.process));
    }
    // Their output went through a pipe until now: it still lands in each process's own log files
    // (for every process that ran something: one the job no longer needed may never have started).
    for (const rank of new Set(rows.map((row) => row.process as number))) {
      const stdout = readFileSync(join(runDir, `logs/user/stdout/node-0/process-${rank}.stdout.txt`), 'utf8');
      assert.match(stdout, new RegExp(`hello from process ${rank}`));
      assert.match(stdout, new RegExp(`goodbye from process ${rank}`), 'what shutdown() prints just before the process exits is copied too');
      assert.match(readFileSync(join(runDir, `logs/user/stderr/node-0/process-${rank}.stderr.txt`), 'utf8'), new RegExp(`warning from process ${rank}`));
    }
  });

  it('starts fresh worker processes when the job sets a variable Node.js reads only at start (NODE_OPTIONS)', async () => {
    const job = makeJob({ script: 'spare_probe.mjs', files: 2, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG', environment_variables: { NODE_OPTIONS: '--stack-trace-limit=7' } } });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(readFileSync(join(onlyRunDir(job.home), 'logs/sys/minibatch.log'), 'utf8'), /spare process/);
    for (const row of readLines(job.output).map((line) => JSON.parse(line))) assert.equal(row.stack_trace_limit, 7);
  });

  it('runs TypeScript and CommonJS entry scripts', async () => {
    for (const script of ['typed_script.ts', 'commonjs_script.cjs']) {
      const job = makeJob({ script, files: 3, size: 2, appendRow: 'rows.jsonl' });
      const result = await runCli(['run', job.jobFile], { home: job.home });
      assert.equal(result.code, 0, `${script}: ${result.stderr}`);
      assert.equal(readLines(job.output).length, 3, script);
    }
  });

  it('--set overrides any field before validation', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 6, size: 1 });
    const result = await runCli(['run', job.jobFile, '--set', 'mini_batch_size=3', '--set', 'retry_settings.max_retries=0', '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).miniBatches.total, 2);
    const runnable = readFileSync(join(onlyRunDir(job.home), 'job.yml'), 'utf8');
    assert.match(runnable, /max_retries: 0/);
    assert.match(runnable, /mini_batch_size: "3"/);
  });

  it('writes objects as CSV with a header when asked, strings and arrays as text lines', async () => {
    const csvJob = makeJob({ script: 'fixture_rows_mixed.mjs', files: 3, size: 2, appendRow: 'rows.csv', extra: { append_row_dataframe_header: true } });
    assert.equal((await runCli(['run', csvJob.jobFile], { home: csvJob.home })).code, 0);
    assert.deepEqual(readLines(csvJob.output), [
      'name,size,note',
      'f-0000.txt,10,"a, ""quoted"" value"',
      'f-0001.txt,10,"a, ""quoted"" value"',
      'f-0002.txt,10,"a, ""quoted"" value"',
    ]);
    const textJob = makeJob({ script: 'fixture_rows_text.mjs', files: 2, size: 2 });
    assert.equal((await runCli(['run', textJob.jobFile], { home: textJob.home })).code, 0);
    assert.deepEqual(readLines(textJob.output), ['f-0000.txt', 'f-0001.txt x 1']);
  });

  it('keeps one set of CSV columns when mini-batches return keys in another order', async () => {
    const job = makeJob({ script: 'fixture_rows_key_order.mjs', files: 4, size: 1, appendRow: 'rows.csv', extra: { append_row_dataframe_header: true } });
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readLines(job.output), ['name,batch', 'f-0000.txt,0', 'f-0001.txt,1', 'f-0002.txt,2', 'f-0003.txt,3']);
  });

  it('puts the append_row file in a uri_folder output as parallel_run_step.txt', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 2, appendRow: false });
    const yamlPath = job.jobFile;
    const text = readFileSync(yamlPath, 'utf8');
    writeFileSync(yamlPath, `${text}outputs:\n  scores:\n    type: uri_folder\n`);
    const withAppend = text.replace('entry_script: echo_names.mjs', 'entry_script: echo_names.mjs\n  append_row_to: ${{outputs.scores}}');
    writeFileSync(yamlPath, `${withAppend}outputs:\n  scores:\n    type: uri_folder\n`);
    const result = await runCli(['run', yamlPath, '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout).output.path as string;
    assert.equal(output, join(onlyRunDir(job.home), 'outputs', 'scores', 'parallel_run_step.txt'));
    assert.deepEqual(readLines(output), ['f-0000.txt', 'f-0001.txt']);
  });

  it('takes a single uri_file input, and succeeds with zero mini-batches on an empty folder', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 3 });
    const single = job.jobFile.replace('job.yml', 'single.yml');
    writeFileSync(single, readFileSync(job.jobFile, 'utf8').replace(/type: uri_folder\n(\s+)path: \.\/data/, 'type: uri_file\n$1path: ./data/f-0001.txt'));
    const one = await runCli(['run', single, '--json'], { home: job.home });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout).miniBatches.total, 1);
    assert.deepEqual(readLines(job.output), ['f-0001.txt']);

    mkdirSync(join(job.dir, 'empty'));
    const empty = job.jobFile.replace('job.yml', 'empty.yml');
    writeFileSync(empty, readFileSync(job.jobFile, 'utf8').replace('path: ./data', 'path: ./empty'));
    const none = await runCli(['run', empty, '--json'], { home: join(job.dir, 'home2') });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).miniBatches.total, 0);
    assert.equal(readFileSync(job.output, 'utf8'), '');
  });

  it('lists folders recursively in a deterministic order and skips hidden files', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 0, size: 2, appendRow: 'names.txt' });
    for (const name of ['b/2.txt', 'a/z.txt', 'a/b/1.txt', '.hidden/x.txt', 'c.txt', '.dotfile']) {
      const path = join(job.dir, 'data', name);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, name);
    }
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readLines(job.output), ['1.txt', 'z.txt', '2.txt', 'c.txt']);
  });

  it('copies a download-mode input into the run directory and notices cloud-only fields', async () => {
    const job = makeJob({
      script: 'context_probe.mjs',
      files: 1,
      appendRow: 'probe.jsonl',
      extra: {
        inputs: { data: { type: 'uri_folder', path: './data' }, model: { type: 'uri_folder', path: './src', mode: 'download' } },
        compute: 'azureml:cpu-cluster',
        resources: { instance_count: 1, instance_type: 'Standard_D2' },
      },
    });
    const text = readFileSync(job.jobFile, 'utf8');
    writeFileSync(job.jobFile, stringify({ ...(await import('yaml')).parse(text) }));
    const result = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /notice: compute "azureml:cpu-cluster" is not configured/);
    assert.match(result.stderr, /notice: no local effect, accepted for compatibility: resources.instance_type/);
    const row = JSON.parse(readLines(job.output)[0] ?? '{}');
    assert.equal(row.input_model, join(onlyRunDir(job.home), 'inputs', 'model'));
    assert.ok(existsSync(join(row.input_model, 'context_probe.mjs')));
  });

  it('validate checks a job without running it', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 2 });
    const result = await runCli(['validate', job.jobFile], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /valid parallel job: 1 node\(s\) x 2 process\(es\), file list .*\/data, 2 files per mini-batch/);
    assert.equal(existsSync(job.home), false, 'validate writes no run directory');
  });
});
