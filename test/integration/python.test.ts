import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_PYTHON, REPO, countMatching, findTestPython, makeJob, onlyRunDir, pythonShim, readLines, runCli } from '../helpers.js';


const PYTHON = findTestPython();
const PANDAS_PYTHON = findTestPython(true);
const noPython = PYTHON ? false : 'no python3 found';
const noPandas = PANDAS_PYTHON ? false : 'no Python interpreter with pandas found (CI installs python3-pandas)';

const pyJob = (script: string, extra: Parameters<typeof makeJob>[0] = { script }) => makeJob({ fixtures: FIXTURE_PYTHON, ...extra, script });

describe('Python entry scripts, unchanged from the reference', { skip: noPython }, () => {
  it('runs a reference file-list script: init once per process, parse_known_args, print to the stdout log', async () => {
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 7, size: 3, programArguments: '--model_prefix iris --error_threshold 5' });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /notice: Python \d+\.\d+\.\d+ at .* \(from --python\)/);
    assert.deepEqual(
      readLines(job.output),
      Array.from({ length: 7 }, (_, i) => `iris f-${String(i).padStart(4, '0')}.txt ${i}`),
    );
    const runDir = onlyRunDir(job.home);
    const stdout = ['process-0', 'process-1'].map((name) => join(runDir, 'logs/user/stdout/node-0', `${name}.stdout.txt`)).filter(existsSync).map((path) => readFileSync(path, 'utf8')).join('');
    assert.match(stdout, /init: model loaded with prefix iris/);
    assert.match(readFileSync(join(runDir, 'logs/sys/minibatch.log'), 'utf8'), /Python entry script: .* \(Python \d+\.\d+\.\d+, from --python\)/);
  });

  it('runs no Node worker beside a Python job: bin/minibatch.js sees the .py entry script and forks none ahead', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const job = pyJob('sibling_processes.py', { script: 'sibling_processes.py', files: 2, size: 1, processes: 1 });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const rows = readLines(job.output);
    assert.equal(rows.length, 2);
    for (const row of rows) assert.doesNotMatch(row, /worker-main/, 'no Node worker beside the Python process');
  });

  it('kills the Node worker the CLI forked ahead when only the engine finds out the job is Python (--set)', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const job = pyJob('sibling_processes.py', { script: 'sibling_processes.py', files: 2, size: 1, processes: 1 });
    // The file names a JS script, so the CLI forks a Node worker ahead; --set makes the job Python.
    writeFileSync(job.jobFile, readFileSync(job.jobFile, 'utf8').replace('entry_script: sibling_processes.py', 'entry_script: placeholder.mjs'));
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3', '--set', 'task.entry_script=sibling_processes.py'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const rows = readLines(job.output);
    assert.equal(rows.length, 2);
    for (const row of rows) assert.doesNotMatch(row, /worker-main/, 'no Node worker beside the Python process');
  });

  it('MINIBATCH_PYTHON chooses the interpreter', async () => {
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 2 });
    const result = await runCli(['run', job.jobFile], { home: job.home, env: { MINIBATCH_PYTHON: PYTHON ?? 'python3' } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\(from MINIBATCH_PYTHON\)/);
  });

  it('a traceback from run() is in the error log in full, its last line in the CLI and job_result.txt', async () => {
    const job = pyJob('fixture_raises.py', { script: 'fixture_raises.py', files: 2, size: 2, retry: { max_retries: 0 }, extra: { mini_batch_error_threshold: 0 } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /First error \(mini-batch 0, try 1, node-0\/process-\d\): cannot score f-0000\.txt/);
    const runDir = onlyRunDir(job.home);
    const jobResult = readFileSync(join(runDir, 'logs/job_result.txt'), 'utf8');
    assert.match(jobResult, /Traceback \(most recent call last\):[\s\S]*fixture_raises\.py", line 2, in helper[\s\S]*ValueError: cannot score f-0000\.txt/);
    assert.equal(existsSync(job.output), false);
  });

  it('a file that vanishes mid-run fails its mini-batch with the file named, before the script\'s own error', async () => {
    const job = pyJob('fixture_delete_later_file.py', { script: 'fixture_delete_later_file.py', files: 8, size: 2, processes: 1, retry: { max_retries: 0 } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3', '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.miniBatches, { total: 4, succeeded: 3, failed: 1, retries: 0 });
    assert.match(summary.firstError.message, /^input file \/.*\/data\/f-0005\.txt cannot be read: it no longer exists; run\(\) failed with: \[Errno 2\] No such file or directory: '\/.*\/data\/f-0005\.txt'$/);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0002.txt', 'f-0003.txt', 'f-0006.txt', 'f-0007.txt']);
  });

  it('run() returning None fails the mini-batch with the reason', async () => {
    const job = pyJob('fixture_returns_none.py', { script: 'fixture_returns_none.py', files: 2, retry: { max_retries: 0 }, extra: { mini_batch_error_threshold: 0 } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3', '--json'], { home: job.home });
    assert.equal(result.code, 1);
    assert.match(JSON.parse(result.stdout).firstError.message, /^run\(\) returned None; expected a list, tuple or DataFrame with one element per successful item/);
  });

  it('a timeout kills a Python process stuck in a loop; the new process runs init() again', async () => {
    const job = pyJob('fixture_hang_once.py', { script: 'fixture_hang_once.py', files: 4, size: 1, processes: 1, retry: { timeout: 1 } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3', '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.miniBatches.retries, 1);
    assert.equal(summary.firstError.kind, 'timeout');
    assert.equal(countMatching(join(job.dir, 'state', 'init.log'), /^init /), 2);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0002.txt', 'f-0003.txt']);
  });

  const contract: [string, string, RegExp][] = [
    ['no run function', 'fixture_no_run.py', /does not define a run function; expected def run\(mini_batch\) or def run\(mini_batch, mini_batch_context\) \(it defines: init, score\)/],
    ['run with the wrong arity', 'fixture_wrong_arity.py', /run takes 3 parameters; expected run\(mini_batch\) or run\(mini_batch, mini_batch_context\)/],
    ['a syntax error, with file and line', 'fixture_syntax_error.py', /has a syntax error at .*fixture_syntax_error\.py:2:/],
    ['an import of a missing module, naming it and the interpreter', 'fixture_missing_module.py', /failed to import: No module named 'definitely_not_an_installed_module' \(interpreter: .*python/],
  ];
  for (const [name, script, message] of contract) {
    it(`bad script: ${name} (exit 2, nothing written)`, async () => {
      const job = pyJob(script, { script, files: 2 });
      const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(existsSync(job.output), false);
    });
  }

  it('an interpreter that does not exist is refused before the run (exit 2)', async () => {
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 2 });
    const result = await runCli(['run', job.jobFile, '--python', '/nonexistent/python9'], { home: job.home });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^minibatch: Python interpreter \/nonexistent\/python9 \(from --python\): not found; a \.py entry script needs Python 3\.8 or newer/m);
    assert.equal(existsSync(job.home), false);
  });

  it('takes the Python worker the CLI started as it started (a spare): the job\'s folder, environment and logs', async () => {
    const job = pyJob('spare_probe.py', { script: 'spare_probe.py', files: 4, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG', environment_variables: { GREETING: 'hi' } } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const runDir = onlyRunDir(job.home);
    const log = readFileSync(join(runDir, 'logs/sys/minibatch.log'), 'utf8');
    assert.equal(log.match(/a spare process \(forked as the CLI started\) taken/g)?.length, 1);
    // The spare talks to the pool (its first line, read before, took nothing it said after).
    assert.match(log, /node-0\/process-0: a spare process/);
    assert.match(log, /node-0\/process-0 \(pid \d+\) initialised/);
    const rows = readLines(job.output).map((line) => JSON.parse(line));
    assert.equal(rows.length, 4);
    for (const row of rows) {
      assert.equal(row.cwd, join(job.dir, 'src'));
      assert.equal(row.greeting, 'hi');
    }
    // Its output went through a pipe until now: it still lands in its own log files.
    for (const rank of new Set(rows.map((row) => Number(row.process)))) {
      const stdout = readFileSync(join(runDir, `logs/user/stdout/node-0/process-${rank}.stdout.txt`), 'utf8');
      assert.match(stdout, new RegExp(`hello from process ${rank}`));
      assert.match(stdout, new RegExp(`goodbye from process ${rank}`));
      assert.match(readFileSync(join(runDir, `logs/user/stderr/node-0/process-${rank}.stderr.txt`), 'utf8'), new RegExp(`warning from process ${rank}`));
    }
  });

  it('starts python3 on PATH once when it is a shim (pyenv, asdf): the spare says which interpreter it is, the other workers run that', async () => {
    const { folder, starts, executable } = pythonShim(PYTHON ?? 'python3');
    const job = pyJob('spare_probe.py', { script: 'spare_probe.py', files: 4, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG' } });
    const result = await runCli(['run', job.jobFile], { home: job.home, env: { PATH: `${folder}${delimiter}${process.env.PATH ?? ''}`, MINIBATCH_PYTHON: '' } });
    assert.equal(result.code, 0, result.stderr);
    const log = readFileSync(join(onlyRunDir(job.home), 'logs/sys/minibatch.log'), 'utf8');
    assert.ok(log.includes(`Python entry script: ${executable} (Python `), log);
    assert.match(log, /from python3 on PATH\)/);
    assert.equal(log.match(/a spare process \(forked as the CLI started\) taken/g)?.length, 1);
    assert.equal(readLines(job.output).length, 4);
    for (const rank of [0, 1]) assert.match(log, new RegExp(`node-0/process-${rank} \\(pid \\d+\\) initialised`));
    // The spare, started through the shim before the job was read; no second start to ask its version, none per worker.
    assert.equal(starts(), 1);
  });

  it('starts fresh Python workers when the job sets a variable Python reads only at start (PYTHONHASHSEED), or runs another interpreter', async () => {
    const job = pyJob('spare_probe.py', { script: 'spare_probe.py', files: 2, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG', environment_variables: { PYTHONHASHSEED: '0' } } });
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(readFileSync(join(onlyRunDir(job.home), 'logs/sys/minibatch.log'), 'utf8'), /spare process/);
    for (const row of readLines(job.output).map((line) => JSON.parse(line))) assert.equal(row.hash_randomization, 0, 'PYTHONHASHSEED=0 applied at start');
    // `--python=<path>` is not read by the CLI's first glance (it starts python3): not the job's interpreter, so not taken.
    const other = pyJob('spare_probe.py', { script: 'spare_probe.py', files: 2, size: 1, processes: 2, appendRow: 'rows.jsonl', extra: { logging_level: 'DEBUG' } });
    const second = await runCli(['run', other.jobFile, `--python=${PYTHON ?? 'python3'}`], { home: other.home });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(readFileSync(join(onlyRunDir(other.home), 'logs/sys/minibatch.log'), 'utf8'), /spare process/);
    assert.equal(readLines(other.output).length, 2);
  });

  it("run()'s parameters are read from its code object as inspect would read them, without importing inspect", () => {
    // The bridge opens fds 3 and 4 when imported: the child gets both.
    const check = [
      'import functools, sys',
      `sys.path.insert(0, ${JSON.stringify(join(REPO, 'python'))})`,
      'import minibatch_bridge as bridge',
      "assert 'inspect' not in sys.modules, 'inspect imported at start-up'",
      'def one(mini_batch): pass',
      'def two(mini_batch, ctx): pass',
      'def default(mini_batch, ctx=None): pass',
      'def star(*args): pass',
      'def star_after(mini_batch, *rest): pass',
      'def kw_only(mini_batch, *, ctx=None): pass',
      'def positional_only(mini_batch, ctx, /): pass',
      'def three(a, b, c): pass',
      'def none(): pass',
      'def three_defaults(a, b=1, c=2): pass',
      'class Scorer:',
      '    def run(self, mini_batch): pass',
      '    def run2(self, mini_batch, ctx): pass',
      '    def __call__(self, mini_batch, ctx): pass',
      '    @staticmethod',
      '    def static(mini_batch): pass',
      'def wrapped(f):',
      '    @functools.wraps(f)',
      '    def wrapper(*args, **kwargs): return f(*args, **kwargs)',
      '    return wrapper',
      'scorer = Scorer()',
      'cases = [one, two, default, star, star_after, kw_only, positional_only, three, none, three_defaults, scorer.run, scorer.run2, scorer, Scorer.static, wrapped(one), wrapped(two), lambda b: b, lambda b, c=1: b, functools.partial(two, 1), print]',
      'for run in cases:',
      '    plain = bridge._plain_parameter_counts(run)',
      '    if plain is not None: assert plain == bridge._signature_parameter_counts(run), (run, plain, bridge._signature_parameter_counts(run))',
      'arities = []',
      'for run in cases:',
      '    try: arities.append(bridge._arity(run, "s.py"))',
      '    except bridge.ContractError: arities.append("refused")',
      'print(arities)',
      "print(sorted(run.__name__ for run in cases if callable(run) and hasattr(run, '__name__') and bridge._plain_parameter_counts(run) is not None))",
    ].join('\n');
    const result = spawnSync(PYTHON ?? 'python3', ['-c', check], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const [arities, plain] = result.stdout.trim().split('\n');
    // wrapped(one) follows the wrapped function (1); partial(two, 1) leaves one parameter; print takes *args (2).
    assert.equal(arities, "[1, 2, 2, 2, 2, 1, 2, 'refused', 'refused', 2, 1, 2, 2, 1, 1, 2, 1, 2, 1, 2]");
    // The plain path served the functions and methods; the wrapped ones, the instance, the partial and print went to inspect.
    assert.equal(plain, "['<lambda>', '<lambda>', 'default', 'kw_only', 'none', 'one', 'positional_only', 'run', 'run2', 'star', 'star_after', 'static', 'three', 'three_defaults', 'two']");
  });

  it('an input error is reported before an interpreter error, though the interpreter is looked for at once', async () => {
    // An MLTable naming a file that is not there: found when the input is planned, beside the interpreter's search.
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 2, extra: { inputs: { data: { type: 'mltable', path: './table' } } } });
    mkdirSync(join(job.dir, 'table'));
    writeFileSync(join(job.dir, 'table', 'MLTable'), 'paths:\n  - file: ./nope.csv\ntransformations:\n  - read_delimited: {delimiter: ","}\n');
    const result = await runCli(['run', job.jobFile, '--python', '/nonexistent/python9'], { home: job.home });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /MLTable:2:5: paths\[0\]\.file: file not found: .*nope\.csv/);
    assert.doesNotMatch(result.stderr, /Python interpreter/);
    assert.equal(existsSync(job.home), false);
  });

  it('a Python older than 3.8 is refused before the run (exit 2)', async () => {
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 2 });
    const fake = join(job.dir, 'python3.7');
    writeFileSync(fake, '#!/bin/sh\necho 3.7.9\n', { mode: 0o755 });
    const result = await runCli(['run', job.jobFile, '--python', fake], { home: job.home });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Python interpreter .*python3\.7 \(from --python\) is Python 3\.7\.9; expected 3\.8 or newer/);
  });

  it('a conda file is not provisioned: packages that do not import are named once', async () => {
    const job = pyJob('reference_file_scoring.py', { script: 'reference_file_scoring.py', files: 2 });
    writeFileSync(join(job.dir, 'conda.yml'), 'name: env\ndependencies:\n  - python=3.10\n  - pip:\n    - argparse\n    - surely-missing-package==1.0\n');
    writeFileSync(job.jobFile, readFileSync(job.jobFile, 'utf8').replace('task:\n', 'task:\n  environment: {image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04, conda_file: ./conda.yml}\n'));
    const result = await runCli(['run', job.jobFile, '--python', PYTHON ?? 'python3'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: task\.environment\.conda_file lists packages that do not import in .*: surely_missing_package \(the environment is not provisioned locally\)/);
  });
});

describe('Python tabular scripts with pandas', { skip: noPython || noPandas }, () => {
  function salesJob(extra: Record<string, unknown>) {
    const job = pyJob('tabular_context.py', { script: 'tabular_context.py', files: 0, appendRow: 'scores.txt', programArguments: '--factor 2', extra });
    const lines = ['id,store,price,qty'];
    for (let i = 0; i < 200; i++) lines.push(`${i},s${i % 4},${(i % 7) + 0.5},${i % 3}`);
    writeFileSync(join(job.dir, 'data', 'sales.csv'), `${lines.join('\n')}\n`);
    return job;
  }

  it('a DataFrame per mini-batch (byte ranges of a CSV), rows space-separated in the output', async () => {
    const job = salesJob({ mini_batch_size: '1kb' });
    const result = await runCli(['run', job.jobFile, '--python', PANDAS_PYTHON ?? 'python3', '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.ok(summary.miniBatches.total > 1);
    const rows = readLines(job.output);
    assert.equal(rows.length, 200);
    assert.equal(rows[1], '1 3 s1 0'); // numbers are written as JSON numbers: 3.0 is 3
    assert.equal(rows[199]?.split(' ')[0], '199', 'input order');
  });

  it('partition_keys: one DataFrame per store with mini_batch_context.partition_key_value', async () => {
    const job = salesJob({ partition_keys: ['store'], append_row_dataframe_header: true });
    writeFileSync(job.jobFile, readFileSync(job.jobFile, 'utf8').replace('./out/scores.txt', './out/scores.csv'));
    const result = await runCli(['run', job.jobFile, '--python', PANDAS_PYTHON ?? 'python3', '--json'], { home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).miniBatches.total, 4);
    const rows = readLines(join(job.dir, 'out', 'scores.csv'));
    assert.equal(rows[0], 'id,total,store,batch');
    assert.equal(rows.length, 201);
    assert.deepEqual(new Set(rows.slice(1).map((row) => row.split(',')[2])), new Set(['s0', 's1', 's2', 's3']));
  });
});
