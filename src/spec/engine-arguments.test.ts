import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readEngineArguments, splitProgramArguments } from './engine-arguments.js';

describe('splitProgramArguments', () => {
  it('splits on whitespace like a shell', () => {
    assert.deepEqual(splitProgramArguments('--a 1   --b  two'), ['--a', '1', '--b', 'two']);
  });

  it('keeps quoted text together and drops the quotes', () => {
    assert.deepEqual(splitProgramArguments(`--model "my model" --name 'a b' plain`), ['--model', 'my model', '--name', 'a b', 'plain']);
    assert.deepEqual(splitProgramArguments(`--label="x y"`), ['--label=x y']);
  });

  it('turns a list into strings', () => {
    assert.deepEqual(splitProgramArguments(['--n', 3, '--flag', true, 'a b']), ['--n', '3', '--flag', 'true', 'a b']);
  });

  it('gives no arguments for nothing', () => {
    assert.deepEqual(splitProgramArguments(undefined), []);
    assert.deepEqual(splitProgramArguments(''), []);
  });
});

describe('readEngineArguments', () => {
  const read = (text: string) => readEngineArguments(splitProgramArguments(text));

  it('reads --name value', () => {
    assert.deepEqual(read('--error_threshold 5'), { values: { error_threshold: 5 }, warnings: [], errors: [] });
    assert.deepEqual(read('--run_max_try 3').values, { run_max_try: 3 });
    assert.deepEqual(read('--error_threshold -1').values, { error_threshold: -1 });
  });

  it('reads --name=value', () => {
    assert.deepEqual(read('--allowed_failed_percent=30'), { values: { allowed_failed_percent: 30 }, warnings: [], errors: [] });
    assert.deepEqual(read('--allowed_failed_percent=12.5').values, { allowed_failed_percent: 12.5 });
  });

  it('reads booleans written as True/False (any case) or 1/0', () => {
    assert.deepEqual(read('--copy_logs_to_parent True').values, { copy_logs_to_parent: true });
    assert.deepEqual(read('--copy_logs_to_parent false').values, { copy_logs_to_parent: false });
    assert.deepEqual(read('--append_row_dataframe_header=1').values, { append_row_dataframe_header: true });
    assert.deepEqual(read('--append_row_dataframe_header 0').values, { append_row_dataframe_header: false });
  });

  it('reads a bare boolean flag as true, at the end or before another option', () => {
    assert.deepEqual(read('--append_row_dataframe_header').values, { append_row_dataframe_header: true });
    assert.deepEqual(read('--copy_logs_to_parent --run_max_try 2').values, { copy_logs_to_parent: true, run_max_try: 2 });
  });

  it('reads every engine argument', () => {
    const parsed = read(
      [
        '--error_threshold 5',
        '--allowed_failed_percent 30',
        '--allowed_failed_count 4',
        '--task_overhead_timeout 120',
        '--progress_update_timeout 900',
        '--first_task_creation_timeout 300',
        '--resource_monitor_interval 0',
        '--copy_logs_to_parent True',
        '--append_row_dataframe_header',
        '--run_max_try 3',
        '--run_invocation_timeout 45.5',
      ].join(' '),
    );
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual(parsed.values, {
      error_threshold: 5,
      allowed_failed_percent: 30,
      allowed_failed_count: 4,
      task_overhead_timeout: 120,
      progress_update_timeout: 900,
      first_task_creation_timeout: 300,
      resource_monitor_interval: 0,
      copy_logs_to_parent: true,
      append_row_dataframe_header: true,
      run_max_try: 3,
      run_invocation_timeout: 45.5,
    });
  });

  it('skips script arguments and their values, among engine arguments', () => {
    const parsed = read('--model ./m --error_threshold 2 positional --verbose --run_max_try 4 --out=x');
    assert.deepEqual(parsed, { values: { error_threshold: 2, run_max_try: 4 }, warnings: [], errors: [] });
  });

  it('lets the last occurrence win', () => {
    assert.deepEqual(read('--error_threshold 1 --error_threshold 7').values, { error_threshold: 7 });
  });

  it('reports a bad value with the argument, what was expected and what was given', () => {
    const cases: Array<[string, string, string]> = [
      ['--error_threshold five', '--error_threshold', 'expected an integer >= -1, got "five"'],
      ['--error_threshold -2', '--error_threshold', 'expected an integer >= -1, got "-2"'],
      ['--error_threshold 1.5', '--error_threshold', 'expected an integer >= -1, got "1.5"'],
      ['--allowed_failed_count -5', '--allowed_failed_count', 'expected an integer >= -1, got "-5"'],
      ['--allowed_failed_percent 101', '--allowed_failed_percent', 'expected a number >= 0 and <= 100, got "101"'],
      ['--allowed_failed_percent=', '--allowed_failed_percent', 'expected a number >= 0 and <= 100, got ""'],
      ['--copy_logs_to_parent maybe', '--copy_logs_to_parent', 'expected True or False, got "maybe"'],
      ['--run_max_try 0', '--run_max_try', 'expected an integer >= 1, got "0"'],
      ['--task_overhead_timeout 0', '--task_overhead_timeout', 'expected a number > 0 and <= 259200, got "0"'],
      ['--run_invocation_timeout 259201', '--run_invocation_timeout', 'expected a number > 0 and <= 259200, got "259201"'],
      ['--progress_update_timeout abc', '--progress_update_timeout', 'expected a number > 0 and <= 259200, got "abc"'],
      ['--resource_monitor_interval -1', '--resource_monitor_interval', `expected a number >= 0 and <= ${Number.MAX_SAFE_INTEGER}, got "-1"`],
      ['--error_threshold', '--error_threshold', 'expected an integer >= -1, got undefined'],
      ['--run_max_try --error_threshold 3', '--run_max_try', 'expected an integer >= 1, got undefined'],
    ];
    for (const [text, argument, message] of cases) {
      const parsed = read(text);
      assert.deepEqual(parsed.errors, [{ argument, message }], text);
      assert.equal(argument in parsed.values, false, `${text}: a bad value is not kept`);
    }
  });

  it('keeps the good values when another argument is bad', () => {
    const parsed = read('--run_max_try 0 --error_threshold 3');
    assert.deepEqual(parsed.values, { error_threshold: 3 });
    assert.equal(parsed.errors.length, 1);
  });

  it('warns about a near miss of an engine argument, and does not read it', () => {
    const parsed = read('--resource_monitor_interva 20');
    assert.deepEqual(parsed.values, {});
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.warnings, [
      'program argument --resource_monitor_interva is not an engine argument; did you mean --resource_monitor_interval? It is passed to the script only.',
    ]);
    assert.deepEqual(read('--eror_threshold=3').warnings, [
      'program argument --eror_threshold is not an engine argument; did you mean --error_threshold? It is passed to the script only.',
    ]);
  });

  it('ignores unknown arguments that are not near misses, and positional arguments', () => {
    assert.deepEqual(read('--model ./model --batch 32 input.csv -v --learning_rate=0.1'), { values: {}, warnings: [], errors: [] });
    assert.deepEqual(readEngineArguments([]), { values: {}, warnings: [], errors: [] });
  });

  it('does not read a value that only looks like an engine argument', () => {
    // "error_threshold" here is the value of --label, not an option
    assert.deepEqual(read('--label error_threshold 5').values, {});
  });
});
