import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidInputError, MinibatchError } from '../errors.js';
import { applyOverrides } from './overrides.js';
import { resolveParallelJob, type ResolvedParallelJob, type ResolveOptions } from './resolve-job.js';
import { YamlSource } from './yaml-source.js';
import { tempDir } from '../../test/helpers.js';

/*
 * Every test resolves a job file written as text, against a real folder:
 *   <dir>/src/score.mjs (+ score.py, score.rb, other.mjs), <dir>/data/{a,b}.txt, <dir>/model/,
 *   <dir>/table.csv, <dir>/out/ (an existing folder).
 * BASE is 7 lines long, so a field appended to it is on line 8.
 */
const BASE = `type: parallel
inputs:
  data: {type: uri_folder, path: ./data}
input_data: \${{inputs.data}}
task:
  code: ./src
  entry_script: score.mjs
`;

let dir: string;

before(() => {
  dir = tempDir('mb-resolve-job-');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'score.mjs'), 'export async function run(batch) { return batch; }\n');
  writeFileSync(join(dir, 'src', 'other.mjs'), 'export async function run(batch) { return batch; }\n');
  writeFileSync(join(dir, 'src', 'score.py'), 'def run(mini_batch):\n    return mini_batch\n');
  writeFileSync(join(dir, 'src', 'score.rb'), 'puts 1\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'a.txt'), 'a\n');
  writeFileSync(join(dir, 'data', 'b.txt'), 'b\n');
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'table.csv'), 'x,y\n1,2\n');
  mkdirSync(join(dir, 'out'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<ResolveOptions> = {}): ResolveOptions {
  return { runDir: join(dir, 'run'), processesPerInstance: 4, ...extra };
}

function resolveText(text: string, sets: readonly string[] = [], extra: Partial<ResolveOptions> = {}): ResolvedParallelJob {
  const source = YamlSource.parse(text, 'job.yml');
  applyOverrides(source, sets);
  return resolveParallelJob(source, join(dir, 'job.yml'), options(extra));
}

/** The error resolving `text` throws; fails the test when it resolves. */
function errorOf(text: string, sets: readonly string[] = []): MinibatchError {
  try {
    resolveText(text, sets);
  } catch (error) {
    assert.ok(error instanceof MinibatchError, `expected a MinibatchError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the job to be rejected');
}

function invalidJobMessage(text: string, sets: readonly string[] = []): string {
  const error = errorOf(text, sets);
  assert.ok(error instanceof InvalidInputError);
  assert.equal(error.code, 'E_JOB_INVALID', error.message);
  return error.message;
}

/** BASE with `task` extended by `taskLines` and top-level fields `top` inserted before `task:`. */
function job(top: string, taskLines = ''): string {
  return BASE.replace('task:\n', `${top}task:\n`) + taskLines;
}

describe('resolveParallelJob: defaults (DESIGN.md §2)', () => {
  it('applies every default', () => {
    const resolved = resolveText(BASE);
    assert.deepEqual(
      {
        instanceCount: resolved.instanceCount,
        processesPerInstance: resolved.processesPerInstance,
        miniBatchSize: resolved.miniBatchSize,
        errorThreshold: resolved.errorThreshold,
        miniBatchErrorThreshold: resolved.miniBatchErrorThreshold,
        allowedFailedPercent: resolved.allowedFailedPercent,
        maxRetries: resolved.maxRetries,
        timeoutMs: resolved.timeoutMs,
        overheadTimeoutMs: resolved.overheadTimeoutMs,
        progressUpdateTimeoutMs: resolved.progressUpdateTimeoutMs,
        firstTaskCreationTimeoutMs: resolved.firstTaskCreationTimeoutMs,
        resourceMonitorIntervalMs: resolved.resourceMonitorIntervalMs,
        loggingLevel: resolved.loggingLevel,
        isDeterministic: resolved.isDeterministic,
        speculativeCopies: resolved.speculativeCopies,
        copyLogsToParent: resolved.copyLogsToParent,
        appendRow: resolved.appendRow,
        environmentVariables: resolved.environmentVariables,
        programArguments: resolved.programArguments,
        compute: resolved.compute,
        notices: resolved.notices,
        warnings: resolved.warnings,
      },
      {
        instanceCount: 1,
        processesPerInstance: 4,
        miniBatchSize: { files: 10, bytes: 1048576, written: undefined, auto: undefined },
        errorThreshold: -1,
        miniBatchErrorThreshold: -1,
        allowedFailedPercent: 100,
        maxRetries: 2,
        timeoutMs: 60_000,
        overheadTimeoutMs: 600_000,
        progressUpdateTimeoutMs: 3 * (60 + 600) * 1000,
        firstTaskCreationTimeoutMs: 600_000,
        resourceMonitorIntervalMs: 600_000,
        loggingLevel: 'INFO',
        isDeterministic: true,
        speculativeCopies: true,
        copyLogsToParent: false,
        appendRow: undefined,
        environmentVariables: {},
        programArguments: [],
        compute: { kind: 'local', name: 'local' },
        notices: [],
        warnings: [],
      },
    );
  });

  it('resolves paths against the job file folder', () => {
    const resolved = resolveText(BASE);
    assert.equal(resolved.jobFile, join(dir, 'job.yml'));
    assert.equal(resolved.jobDir, dir);
    assert.equal(resolved.code, join(dir, 'src'));
    assert.equal(resolved.entryScript, join(dir, 'src', 'score.mjs'));
    assert.deepEqual(resolved.inputData, {
      kind: 'asset',
      name: 'data',
      type: 'uri_folder',
      mode: 'ro_mount',
      path: join(dir, 'data'),
      sourcePath: join(dir, 'data'),
      readHint: undefined,
    });
    assert.equal(resolved.inputs.data, resolved.inputData);
  });

  it('derives progress_update_timeout from the timeout and overhead given', () => {
    const resolved = resolveText(job('retry_settings: {timeout: 10}\noverhead_timeout: 20\n'));
    assert.equal(resolved.timeoutMs, 10_000);
    assert.equal(resolved.overheadTimeoutMs, 20_000);
    assert.equal(resolved.progressUpdateTimeoutMs, 3 * (10 + 20) * 1000);
  });

  it('takes processes from the machine when neither the job nor the caller give them', () => {
    const source = YamlSource.parse(BASE, 'job.yml');
    const resolved = resolveParallelJob(source, join(dir, 'job.yml'), { runDir: join(dir, 'run') });
    assert.ok(Number.isInteger(resolved.processesPerInstance) && resolved.processesPerInstance >= 1);
  });

  it('reads every typed field given in the job', () => {
    const resolved = resolveText(
      job(
        [
          'mini_batch_size: "3"',
          'resources: {instance_count: 2}',
          'max_concurrency_per_instance: 6',
          'error_threshold: 5',
          'mini_batch_error_threshold: 4',
          'allowed_failed_percent: 30',
          'retry_settings: {max_retries: 0, timeout: 1.5}',
          'overhead_timeout: 30',
          'progress_update_timeout: 45',
          'first_task_creation_timeout: 15',
          'resource_monitor_interval: 0',
          'logging_level: DEBUG',
          'is_deterministic: false',
          'speculative_copies: false',
          'environment_variables: {A: x, B: 2, C: true}',
          'name: my-job',
          'display_name: My job',
          'description: scores things',
          'tags: {team: ml}',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(resolved.miniBatchSize.files, 3);
    assert.equal(resolved.instanceCount, 2);
    assert.equal(resolved.processesPerInstance, 6);
    assert.equal(resolved.errorThreshold, 5);
    assert.equal(resolved.miniBatchErrorThreshold, 4);
    assert.equal(resolved.allowedFailedPercent, 30);
    assert.equal(resolved.maxRetries, 0);
    assert.equal(resolved.timeoutMs, 1500);
    assert.equal(resolved.overheadTimeoutMs, 30_000);
    assert.equal(resolved.progressUpdateTimeoutMs, 45_000);
    assert.equal(resolved.firstTaskCreationTimeoutMs, 15_000);
    assert.equal(resolved.resourceMonitorIntervalMs, 0);
    assert.equal(resolved.loggingLevel, 'DEBUG');
    assert.equal(resolved.isDeterministic, false);
    assert.equal(resolved.speculativeCopies, false);
    assert.deepEqual(resolved.environmentVariables, { A: 'x', B: '2', C: 'true' });
    assert.equal(resolved.name, 'my-job');
    assert.equal(resolved.displayName, 'My job');
    assert.equal(resolved.description, 'scores things');
    assert.deepEqual(resolved.tags, { team: 'ml' });
  });

  it('takes allowed_failed_count as mini_batch_error_threshold', () => {
    assert.equal(resolveText(job('allowed_failed_count: 3\n')).miniBatchErrorThreshold, 3);
    assert.equal(resolveText(job('allowed_failed_count: 3\nmini_batch_error_threshold: 3\n')).miniBatchErrorThreshold, 3);
  });

  it('rejects allowed_failed_count and mini_batch_error_threshold that disagree', () => {
    assert.equal(
      invalidJobMessage(job('mini_batch_error_threshold: 1\nallowed_failed_count: 2\n')),
      'job.yml:6:1: allowed_failed_count: allowed_failed_count is another name for mini_batch_error_threshold; they disagree (2 vs 1): set one',
    );
  });
});

describe('resolveParallelJob: engine arguments in program_arguments', () => {
  const ALL_ARGUMENTS =
    '--error_threshold 5 --allowed_failed_percent=30 --allowed_failed_count 2 --copy_logs_to_parent True' +
    ' --run_max_try 4 --run_invocation_timeout 30 --task_overhead_timeout 100 --first_task_creation_timeout 50' +
    ' --resource_monitor_interval 20 --append_row_dataframe_header --model ${{inputs.model}}';
  const WITH_MODEL = BASE.replace('inputs:\n', 'inputs:\n  model: {type: uri_folder, path: ./model}\n');

  it('reads every engine argument, and passes them all on to the script', () => {
    const resolved = resolveText(
      WITH_MODEL.replace('task:\n', 'outputs:\n  result: {type: uri_file, path: ./result.csv}\ntask:\n') +
        `  program_arguments: ${ALL_ARGUMENTS}\n  append_row_to: \${{outputs.result}}\n`,
    );
    assert.equal(resolved.errorThreshold, 5);
    assert.equal(resolved.allowedFailedPercent, 30);
    assert.equal(resolved.miniBatchErrorThreshold, 2);
    assert.equal(resolved.copyLogsToParent, true);
    assert.equal(resolved.maxRetries, 3, 'run_max_try is max_retries + 1');
    assert.equal(resolved.timeoutMs, 30_000, 'run_invocation_timeout is retry_settings.timeout');
    assert.equal(resolved.overheadTimeoutMs, 100_000);
    assert.equal(resolved.progressUpdateTimeoutMs, 3 * (30 + 100) * 1000);
    assert.equal(resolved.firstTaskCreationTimeoutMs, 50_000);
    assert.equal(resolved.resourceMonitorIntervalMs, 20_000);
    assert.equal(resolved.appendRow?.header, true);
    assert.deepEqual(resolved.programArguments, [
      '--error_threshold', '5', '--allowed_failed_percent=30', '--allowed_failed_count', '2', '--copy_logs_to_parent', 'True',
      '--run_max_try', '4', '--run_invocation_timeout', '30', '--task_overhead_timeout', '100', '--first_task_creation_timeout', '50',
      '--resource_monitor_interval', '20', '--append_row_dataframe_header', '--model', join(dir, 'model'),
    ]);
  });

  it('maps run_max_try 1 to no retries', () => {
    assert.equal(resolveText(BASE + '  program_arguments: --run_max_try 1\n').maxRetries, 0);
  });

  it('lets the typed YAML fields win over the arguments', () => {
    const resolved = resolveText(
      job(
        [
          'error_threshold: 7',
          'allowed_failed_percent: 10',
          'mini_batch_error_threshold: 1',
          'retry_settings: {max_retries: 0, timeout: 5}',
          'overhead_timeout: 20',
          'progress_update_timeout: 99',
          'first_task_creation_timeout: 11',
          'resource_monitor_interval: 0',
          'copy_logs_to_parent: false',
          '',
        ].join('\n'),
        '  program_arguments: --error_threshold 5 --allowed_failed_percent=30 --allowed_failed_count 2 --run_max_try 4' +
          ' --run_invocation_timeout 30 --task_overhead_timeout 100 --progress_update_timeout 77' +
          ' --first_task_creation_timeout 50 --resource_monitor_interval 20 --copy_logs_to_parent True\n',
      ),
    );
    assert.equal(resolved.errorThreshold, 7);
    assert.equal(resolved.allowedFailedPercent, 10);
    assert.equal(resolved.miniBatchErrorThreshold, 1);
    assert.equal(resolved.maxRetries, 0);
    assert.equal(resolved.timeoutMs, 5_000);
    assert.equal(resolved.overheadTimeoutMs, 20_000);
    assert.equal(resolved.progressUpdateTimeoutMs, 99_000);
    assert.equal(resolved.firstTaskCreationTimeoutMs, 11_000);
    assert.equal(resolved.resourceMonitorIntervalMs, 0);
    assert.equal(resolved.copyLogsToParent, false);
  });

  it('lets append_row_dataframe_header in the job win over the argument', () => {
    const resolved = resolveText(
      job('outputs:\n  result: {type: uri_file, path: ./result.csv}\nappend_row_dataframe_header: false\n', '  program_arguments: --append_row_dataframe_header True\n  append_row_to: ${{outputs.result}}\n'),
    );
    assert.equal(resolved.appendRow?.header, false);
  });

  it('reports a bad engine argument value at program_arguments', () => {
    assert.equal(
      invalidJobMessage(BASE + '  program_arguments: --error_threshold five\n'),
      'job.yml:8:3: task.program_arguments: --error_threshold: expected an integer >= -1, got "five"',
    );
    assert.equal(
      invalidJobMessage(BASE + '  program_arguments: --run_max_try 0\n'),
      'job.yml:8:3: task.program_arguments: --run_max_try: expected an integer >= 1, got "0"',
    );
  });

  it('warns about a near miss and still passes it on', () => {
    const resolved = resolveText(BASE + '  program_arguments: --resource_monitor_interva 20\n');
    assert.equal(resolved.resourceMonitorIntervalMs, 600_000);
    assert.deepEqual(resolved.programArguments, ['--resource_monitor_interva', '20']);
    assert.deepEqual(resolved.warnings, [
      'program argument --resource_monitor_interva is not an engine argument; did you mean --resource_monitor_interval? It is passed to the script only.',
    ]);
  });

  it('accepts program_arguments as a list', () => {
    const resolved = resolveText(BASE + '  program_arguments: [--error_threshold, 3, --data, "${{inputs.data}}"]\n');
    assert.equal(resolved.errorThreshold, 3);
    assert.deepEqual(resolved.programArguments, ['--error_threshold', '3', '--data', join(dir, 'data')]);
  });

  it('binds literal inputs and keeps quoted arguments together', () => {
    const resolved = resolveText(
      BASE.replace('inputs:\n', 'inputs:\n  lr: 0.1\n  label: fast\n') + `  program_arguments: --lr \${{inputs.lr}} --label=\${{inputs.label}} --title "two words"\n`,
    );
    assert.deepEqual(resolved.inputs.lr, { kind: 'literal', name: 'lr', value: 0.1 });
    assert.deepEqual(resolved.programArguments, ['--lr', '0.1', '--label=fast', '--title', 'two words']);
  });

  it('binds expressions written with whitespace inside the braces', () => {
    const resolved = resolveText(
      BASE.replace('inputs:\n', 'inputs:\n  label: fast\n') + '  program_arguments: --label ${{ inputs.label }} --data ${{ inputs.data }}\n',
    );
    assert.deepEqual(resolved.programArguments, ['--label', 'fast', '--data', join(dir, 'data')]);
  });

  it('rejects a binding to an unknown input in program_arguments', () => {
    assert.equal(
      invalidJobMessage(BASE + '  program_arguments: --model ${{inputs.modle}}\n'),
      "job.yml:8:3: task.program_arguments: ${{inputs.modle}} names no declared input; this job's inputs: data",
    );
  });
});

describe('resolveParallelJob: append_row_to', () => {
  const OUTPUTS = `outputs:
  folder_out: {type: uri_folder, path: ./out}
  default_out: {}
  csv_out: {type: uri_file, path: ./out/result.csv}
  jsonl_out: {type: uri_file, path: ./result.jsonl}
  txt_out: {type: uri_file, path: ./result.txt}
`;
  const appendTo = (target: string, top = '') => resolveText(job(OUTPUTS + top, `  append_row_to: ${target}\n`));

  it('writes parallel_run_step.txt inside a uri_folder output', () => {
    assert.deepEqual(appendTo('${{outputs.folder_out}}').appendRow, { path: join(dir, 'out', 'parallel_run_step.txt'), format: 'text', header: false });
  });

  it('puts an output without a path under the run directory', () => {
    const resolved = appendTo('${{outputs.default_out}}');
    assert.deepEqual(resolved.outputs.default_out, { name: 'default_out', type: 'uri_folder', mode: 'rw_mount', path: join(dir, 'run', 'outputs', 'default_out') });
    assert.equal(resolved.appendRow?.path, join(dir, 'run', 'outputs', 'default_out', 'parallel_run_step.txt'));
  });

  it('writes to the path of a uri_file output, with the format of its extension', () => {
    assert.deepEqual(appendTo('${{outputs.csv_out}}').appendRow, { path: join(dir, 'out', 'result.csv'), format: 'csv', header: false });
    assert.deepEqual(appendTo('${{outputs.jsonl_out}}').appendRow, { path: join(dir, 'result.jsonl'), format: 'jsonl', header: false });
    assert.deepEqual(appendTo('${{outputs.txt_out}}').appendRow, { path: join(dir, 'result.txt'), format: 'text', header: false });
  });

  it('lets append_row_format win over the extension', () => {
    assert.equal(appendTo('${{outputs.txt_out}}', 'append_row_format: csv\n').appendRow?.format, 'csv');
    assert.equal(appendTo('${{outputs.csv_out}}', 'append_row_format: jsonl\n').appendRow?.format, 'jsonl');
    assert.equal(appendTo('${{outputs.jsonl_out}}', 'append_row_format: text\n').appendRow?.format, 'text');
  });

  it('writes a header when append_row_dataframe_header is set', () => {
    assert.equal(appendTo('${{outputs.csv_out}}', 'append_row_dataframe_header: true\n').appendRow?.header, true);
  });

  it('accepts a plain path: a file, an existing folder, or a new folder written with a trailing slash', () => {
    assert.deepEqual(appendTo('./results/rows.jsonl').appendRow, { path: join(dir, 'results', 'rows.jsonl'), format: 'jsonl', header: false });
    assert.equal(appendTo('./out').appendRow?.path, join(dir, 'out', 'parallel_run_step.txt'));
    assert.equal(appendTo('./new_folder/').appendRow?.path, join(dir, 'new_folder', 'parallel_run_step.txt'));
  });

  it('suggests the output meant by a misspelled binding', () => {
    assert.equal(
      invalidJobMessage(job(OUTPUTS, '  append_row_to: ${{outputs.csv_ot}}\n')),
      'job.yml:14:3: task.append_row_to: ${{outputs.csv_ot}} names no declared output; did you mean ${{outputs.csv_out}}?',
    );
  });
});

describe('resolveParallelJob: --set overrides', () => {
  it('coerces values as YAML scalars before validation', () => {
    const source = YamlSource.parse(BASE, 'job.yml');
    applyOverrides(source, ['retry_settings.max_retries=5', 'mini_batch_size=3', 'is_deterministic=false', 'logging_level=DEBUG', 'allowed_failed_percent=12.5']);
    const data = source.toJS() as Record<string, unknown>;
    assert.deepEqual(data.retry_settings, { max_retries: 5 });
    assert.equal(data.mini_batch_size, 3);
    assert.equal(data.is_deterministic, false);
    assert.equal(data.allowed_failed_percent, 12.5);
    const resolved = resolveParallelJob(source, join(dir, 'job.yml'), options());
    assert.equal(resolved.maxRetries, 5);
    assert.equal(resolved.miniBatchSize.files, 3);
    assert.equal(resolved.isDeterministic, false);
    assert.equal(resolved.loggingLevel, 'DEBUG');
    assert.equal(resolved.allowedFailedPercent, 12.5);
  });

  it('replaces existing values, nested ones included', () => {
    const resolved = resolveText(BASE, ['task.entry_script=other.mjs', 'inputs.data.path=./model', 'task.program_arguments=--error_threshold 4']);
    assert.equal(resolved.entryScript, join(dir, 'src', 'other.mjs'));
    assert.equal(resolved.inputData.path, join(dir, 'model'));
    assert.equal(resolved.errorThreshold, 4);
  });

  it('rejects an assignment without a key', () => {
    for (const assignment of ['noequals', '=5']) {
      assert.throws(
        () => applyOverrides(YamlSource.parse(BASE, 'job.yml'), [assignment]),
        (error: unknown) => error instanceof InvalidInputError && error.code === 'E_USAGE' && error.message === `--set ${assignment}: expected key.path=value`,
      );
    }
  });

  it('rejects a key path with an empty part', () => {
    assert.throws(
      () => applyOverrides(YamlSource.parse(BASE, 'job.yml'), ['retry_settings..max_retries=5']),
      (error: unknown) =>
        error instanceof InvalidInputError && error.code === 'E_USAGE' && error.message === '--set retry_settings..max_retries=5: the key path has an empty part',
    );
  });

  it('rejects a path through a scalar', () => {
    assert.throws(
      () => applyOverrides(YamlSource.parse(BASE, 'job.yml'), ['task.code.inner=5']),
      (error: unknown) => error instanceof InvalidInputError && error.code === 'E_USAGE' && error.message.startsWith('--set task.code.inner=5: cannot set that path: '),
    );
  });

  it('validates an overridden value like any other', () => {
    const message = invalidJobMessage(BASE, ['retry_settings.max_retries=three']);
    assert.match(message, /retry_settings\.max_retries: expected an integer >= 0, got "three"$/);
  });

  it('says an invalid value came from --set, not from a line of the file', () => {
    const message = invalidJobMessage(BASE, ['retry_settings.max_retries=three']);
    assert.doesNotMatch(message, /^job\.yml:1:1:/, 'line 1 of the job holds "type: parallel", not the bad value');
    assert.match(message, /--set/);
  });

  it('blames an unknown field that --set created on that --set, not on job.yml:1:1', () => {
    const message = invalidJobMessage(BASE, ['retry_setings.max_retries=1']);
    assert.equal(message, '--set retry_setings.max_retries=1: retry_setings: unknown field (did you mean "retry_settings"?)');
  });

  it('still blames a field written in the file on the file when --set adds under it', () => {
    const message = invalidJobMessage(job('retry_settings: {max_retrie: 1}\n'), ['retry_settings.timeout=3']);
    assert.match(message, /^job\.yml:5:\d+: retry_settings\.max_retrie: unknown field/);
  });
});

describe('resolveParallelJob: rejected jobs name the file, position and field', () => {
  it('malformed YAML: line and column', () => {
    const error = errorOf('type: parallel\ncompute: a: b\n');
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.code, 'E_YAML_SYNTAX');
    assert.equal(error.message, 'job.yml:2:10: malformed YAML: Nested mappings are not allowed in compact mappings');
  });

  it('malformed YAML: a duplicated key', () => {
    const error = errorOf(BASE + 'type: parallel\n');
    assert.equal(error.code, 'E_YAML_SYNTAX');
    assert.equal(error.message, 'job.yml:8:1: malformed YAML: Map keys must be unique');
  });

  it('a document that is not a mapping', () => {
    assert.equal(invalidJobMessage('- type: parallel\n'), 'job.yml: expected a job (a YAML mapping with type: parallel)');
  });

  it('an unknown field, with a suggestion', () => {
    assert.equal(invalidJobMessage(BASE + 'retry_setings: {max_retries: 1}\n'), 'job.yml:8:1: retry_setings: unknown field (did you mean "retry_settings"?)');
  });

  it('an unknown nested field, with a suggestion', () => {
    assert.equal(
      invalidJobMessage(BASE + 'retry_settings:\n  max_retries: 1\n  timout: 5\n'),
      'job.yml:10:3: retry_settings.timout: unknown field (did you mean "timeout"?)',
    );
  });

  it('an unknown field without a plausible suggestion', () => {
    assert.equal(invalidJobMessage(BASE + 'banana: 1\n'), 'job.yml:8:1: banana: unknown field');
  });

  it('a value of the wrong type', () => {
    assert.equal(
      invalidJobMessage(BASE + 'retry_settings:\n  max_retries: three\n'),
      'job.yml:9:3: retry_settings.max_retries: expected an integer >= 0, got "three"',
    );
    assert.equal(invalidJobMessage(BASE + 'logging_level: LOUD\n'), 'job.yml:8:1: logging_level: expected one of DEBUG, INFO, WARNING, got "LOUD"');
    assert.equal(
      invalidJobMessage(BASE + 'retry_settings: {timeout: 0}\n'),
      'job.yml:8:18: retry_settings.timeout: expected a number of seconds > 0 and <= 259200, got 0',
    );
  });

  it('every problem at once', () => {
    const message = invalidJobMessage(BASE + 'retry_setings: 1\nmax_concurrency_per_instance: 0\n');
    const lines = message.split('\n');
    assert.equal(lines[0], 'job.yml: 2 problems:');
    assert.deepEqual(lines.slice(1).sort(), [
      '  job.yml:8:1: retry_setings: unknown field (did you mean "retry_settings"?)',
      '  job.yml:9:1: max_concurrency_per_instance: expected an integer >= 1, got 0',
    ].sort());
  });

  it('a mini_batch_size that is not a count or a size, said once', () => {
    assert.equal(
      invalidJobMessage(BASE + 'mini_batch_size: "10xb"\n'),
      'job.yml:8:1: mini_batch_size: expected a file count like "10" or a size like "10kb", "1MB" (digits, then optionally kb, mb or gb), got "10xb"',
    );
  });

  it('a byte size is kept as bytes (whether the input is a table is decided when it is planned)', () => {
    const resolved = resolveText(BASE + 'mini_batch_size: "10kb"\n');
    assert.deepEqual(resolved.miniBatchSize, { files: undefined, bytes: 10240, written: '10kb', auto: undefined });
  });

  it('mini_batch_size: auto starts at 1 file / 64 KB with the default 10 s target, or the one given', () => {
    assert.deepEqual(resolveText(BASE + 'mini_batch_size: auto\n').miniBatchSize, { files: 1, bytes: 65536, written: 'auto', auto: { targetSeconds: 10 } });
    const given = resolveText(BASE + 'mini_batch_size: Auto\ntarget_mini_batch_seconds: 0.5\n');
    assert.deepEqual(given.miniBatchSize.auto, { targetSeconds: 0.5 });
    assert.equal(given.miniBatchSize.written, 'auto');
    assert.deepEqual(given.warnings, []);
  });

  it('a misspelt auto is said to be one', () => {
    assert.equal(invalidJobMessage(BASE + 'mini_batch_size: atuo\n'), 'job.yml:8:1: mini_batch_size: expected a file count like "10", a size like "10kb", or auto, got "atuo"');
  });

  it('target_mini_batch_seconds must be a positive number of seconds, said at its line', () => {
    assert.equal(
      invalidJobMessage(BASE + 'mini_batch_size: auto\ntarget_mini_batch_seconds: 0\n'),
      'job.yml:9:1: target_mini_batch_seconds: expected a number of seconds > 0 and <= 259200, got 0',
    );
    assert.match(invalidJobMessage(BASE + 'target_mini_batch_seconds: soon\n'), /^job\.yml:8:1: target_mini_batch_seconds: expected a number of seconds > 0 and <= 259200, got "soon"$/);
  });

  it('target_mini_batch_seconds without auto is a warning, not an error (auto may be switched off with --set)', () => {
    const resolved = resolveText(BASE + 'mini_batch_size: 5\ntarget_mini_batch_seconds: 3\n');
    assert.equal(resolved.miniBatchSize.auto, undefined);
    assert.deepEqual(resolved.warnings, ['job.yml:9:1: target_mini_batch_seconds applies to mini_batch_size: auto only; mini_batch_size is 5 here, so it has no effect']);
  });

  it('input_data missing', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('input_data: ${{inputs.data}}\n', '')),
      'job.yml:1:1: input_data: required field is missing (expected ${{inputs.<name>}})',
    );
  });

  it('input_data that is not a binding', () => {
    assert.equal(invalidJobMessage(BASE.replace('input_data: ${{inputs.data}}', 'input_data: ./data')), 'job.yml:4:1: input_data: expected ${{inputs.<name>}}, got "./data"');
  });

  it('input_data bound to an unknown input, with a suggestion', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('input_data: ${{inputs.data}}', 'input_data: ${{inputs.dta}}')),
      'job.yml:4:1: input_data: ${{inputs.dta}} names no declared input; did you mean ${{inputs.data}}?',
    );
  });

  it('input_data bound to an output', () => {
    assert.equal(
      invalidJobMessage(job('outputs:\n  result: {}\n').replace('input_data: ${{inputs.data}}', 'input_data: ${{outputs.result}}')),
      'job.yml:4:1: input_data: expected ${{inputs.<name>}}, got an output binding',
    );
  });

  it('input_data bound to a literal input', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('inputs:\n', 'inputs:\n  lr: 0.1\n').replace('${{inputs.data}}', '${{inputs.lr}}')),
      'job.yml:5:1: input_data: input "lr" is a literal; the split input must be a uri_folder or uri_file',
    );
  });

  it('an input path that does not exist, named in full', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('path: ./data}', 'path: ./nothere}')),
      `job.yml:3:28: inputs.data.path: input path does not exist: ${join(dir, 'nothere')}`,
    );
  });

  it('an optional input path that does not exist is accepted', () => {
    const resolved = resolveText(BASE.replace('inputs:\n', 'inputs:\n  extra: {type: uri_folder, path: ./nothere, optional: true}\n'));
    assert.equal(resolved.inputs.extra?.kind, 'asset');
  });

  it('a uri_file input that is a folder, and a uri_folder input that is a file', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('type: uri_folder, path: ./data', 'type: uri_file, path: ./data')),
      `job.yml:3:26: inputs.data.path: expected a file for a uri_file input, but ${join(dir, 'data')} is a folder`,
    );
    assert.equal(
      invalidJobMessage(BASE.replace('path: ./data}', 'path: ./table.csv}')),
      `job.yml:3:28: inputs.data.path: expected a folder for a uri_folder input, but ${join(dir, 'table.csv')} is a file (use type: uri_file)`,
    );
  });

  it('a missing entry script', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('score.mjs', 'missing.mjs')),
      `job.yml:7:3: task.entry_script: entry script not found: ${join(dir, 'src', 'missing.mjs')}`,
    );
  });

  it('a Python entry script is accepted (its interpreter is checked when the run starts)', () => {
    assert.equal(resolveText(BASE.replace('score.mjs', 'score.py')).entryScript, join(dir, 'src', 'score.py'));
  });

  it('an entry script with an unsupported extension', () => {
    assert.equal(invalidJobMessage(BASE.replace('score.mjs', 'score.rb')), 'job.yml:7:3: task.entry_script: expected a .py, .mjs, .js, .cjs or .ts script, got ".rb"');
  });

  it('a missing task.code folder', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('code: ./src', 'code: ./nosrc')),
      `job.yml:6:3: task.code: expected the folder holding the entry script, but ${join(dir, 'nosrc')} does not exist`,
    );
  });

  it('task.code that is a file', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('code: ./src', 'code: ./table.csv')),
      `job.yml:6:3: task.code: expected the folder holding the entry script, but ${join(dir, 'table.csv')} is a file`,
    );
  });

  it('type: pipeline', () => {
    assert.equal(
      invalidJobMessage(BASE.replace('type: parallel', 'type: pipeline')),
      'job.yml:1:1: type: "pipeline" jobs are not supported by this version of minibatch yet; expected type: parallel',
    );
  });

  it('another type', () => {
    assert.equal(invalidJobMessage(BASE.replace('type: parallel', 'type: sweep')), 'job.yml:1:1: type: expected parallel, got "sweep"');
  });

  it('an mltable input_data is read in place (mode direct)', () => {
    const resolved = resolveText(BASE.replace('type: uri_folder, path: ./data', 'type: mltable, path: ./data'));
    assert.equal(resolved.inputData.type, 'mltable');
    assert.equal(resolved.inputData.mode, 'direct');
  });
});

describe('resolveParallelJob: inputs', () => {
  it('copies download inputs under the run directory, and reads other modes in place', () => {
    const resolved = resolveText(BASE.replace('inputs:\n', 'inputs:\n  model: {type: uri_folder, path: ./model, mode: download}\n  table: {type: uri_file, path: ./table.csv}\n'));
    assert.deepEqual(resolved.inputs.model, {
      kind: 'asset',
      name: 'model',
      type: 'uri_folder',
      mode: 'download',
      path: join(dir, 'run', 'inputs', 'model'),
      sourcePath: join(dir, 'model'),
      readHint: undefined,
    });
    assert.deepEqual(resolved.inputs.table, {
      kind: 'asset',
      name: 'table',
      type: 'uri_file',
      mode: 'ro_mount',
      path: join(dir, 'table.csv'),
      sourcePath: join(dir, 'table.csv'),
      readHint: undefined,
    });
  });
});

describe('resolveParallelJob: paths that cannot be read or written are refused before the run', () => {
  it('an optional input_data that does not exist (optional only helps inputs that are not split)', () => {
    const message = invalidJobMessage(BASE.replace('path: ./data}', 'path: ./nope, optional: true}'));
    assert.equal(message, `job.yml:3:28: inputs.data.path: input path does not exist: ${join(dir, 'nope')}`);
    const resolved = resolveText(BASE.replace('inputs:\n', 'inputs:\n  extra: {type: uri_folder, path: ./nope, optional: true}\n'));
    assert.equal(resolved.inputs.extra?.kind, 'asset', 'a missing optional input the job does not split is fine');
  });

  it('an input folder this user cannot list', { skip: process.getuid?.() === 0 ? 'root reads any folder' : false }, () => {
    mkdirSync(join(dir, 'locked'), { recursive: true });
    chmodSync(join(dir, 'locked'), 0o000);
    try {
      const message = invalidJobMessage(BASE.replace('path: ./data}', 'path: ./locked}'));
      assert.match(message, /^job\.yml:3:\d+: inputs\.data\.path: cannot read the input folder .*\/locked: permission denied \(EACCES\)/);
    } finally {
      chmodSync(join(dir, 'locked'), 0o755);
    }
  });

  it('an output under a path whose parent is a file, or of the wrong kind', () => {
    const outputs = (line: string) => BASE.replace('input_data:', `outputs:\n  rows: ${line}\ninput_data:`);
    assert.equal(
      invalidJobMessage(outputs('{type: uri_file, path: ./table.csv/rows.txt}')),
      `job.yml:5:26: outputs.rows.path: cannot write ${join(dir, 'table.csv', 'rows.txt')}: ${join(dir, 'table.csv')} is a file, not a folder`,
    );
    assert.match(invalidJobMessage(outputs('{type: uri_folder, path: ./table.csv}')), /outputs\.rows\.path: expected a folder for the output, but .*\/table\.csv is a file$/);
    assert.match(invalidJobMessage(outputs('{type: uri_file, path: ./out}')), /outputs\.rows\.path: expected a file path for the output, but .*\/out is a folder$/);
    assert.match(invalidJobMessage(BASE + '  append_row_to: ./table.csv/deeper/rows.txt\n'), /^job\.yml:8:\d+: task\.append_row_to: cannot write .*\/table\.csv\/deeper\/rows\.txt: .*\/table\.csv is a file, not a folder$/);
    assert.equal(resolveText(outputs('{type: uri_file, path: ./new/folders/rows.txt}')).outputs.rows?.path, join(dir, 'new', 'folders', 'rows.txt'), 'missing folders are fine');
  });

  it('an environment variable with a NUL byte, or a name with "="', () => {
    assert.equal(
      invalidJobMessage(job('environment_variables: {A: "x\\0y"}\n')),
      'job.yml:5:25: environment_variables.A: expected a value without a NUL byte (\\0): an environment variable cannot hold one, got "x\\u0000y"',
    );
    assert.match(invalidJobMessage(job('environment_variables: {"A=B": "1"}\n')), /environment_variables\.A=B: expected a variable name without "=" or a NUL byte, got "A=B"$/);
  });
});

describe('resolveParallelJob: notices for fields with no local effect', () => {
  it('one notice for cloud-only resources and environment fields', () => {
    const resolved = resolveText(
      job('resources: {instance_count: 2, instance_type: Standard_D2_v2}\n', '  environment: {image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04, conda_file: ./conda.yml}\n'),
    );
    assert.equal(resolved.instanceCount, 2);
    assert.deepEqual(resolved.notices, [
      "no local effect, accepted for compatibility: resources.instance_type, task.environment.image, task.environment.conda_file (nothing is provisioned: the script runs with this machine's Node.js or Python)",
    ]);
  });

  it('a named compute runs locally, and says so', () => {
    const resolved = resolveText(job('compute: azureml:cpu-cluster\n'));
    assert.deepEqual(resolved.compute, { kind: 'local', name: 'local' });
    assert.deepEqual(resolved.notices, ['compute "azureml:cpu-cluster" is not configured on this machine (no minibatch.config.yml in this folder or your home, and MINIBATCH_CONFIG is not set); running locally']);
  });

  it('--compute local over a named compute says so', () => {
    const resolved = resolveText(job('compute: gpu-cluster\n'), [], { computeOverride: 'local' });
    assert.deepEqual(resolved.notices, ['--compute local: running locally instead of "gpu-cluster"']);
  });

  it('compute: local has no notice, and kept metadata has none either', () => {
    const resolved = resolveText(job('compute: local\nname: j\ndisplay_name: J\ndescription: d\ntags: {a: 1}\n$schema: https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json\n'));
    assert.deepEqual(resolved.notices, []);
  });

  it('a named environment reference', () => {
    const resolved = resolveText(BASE + '  environment: azureml:AzureML-sklearn-1.0:1\n');
    assert.deepEqual(resolved.notices, [
      "no local effect, accepted for compatibility: task.environment (azureml:AzureML-sklearn-1.0:1) (nothing is provisioned: the script runs with this machine's Node.js or Python)",
    ]);
  });
});
