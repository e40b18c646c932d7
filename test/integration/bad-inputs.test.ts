import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_SCRIPTS, makeInputFolder, onlyRunDir, runCli, tempDir } from '../helpers.js';

/** A job folder with data, a script and the job text given; the output would go to out/rows.txt. */
function jobWith(yaml: string, script = 'echo_names.mjs'): { dir: string; jobFile: string; home: string } {
  const dir = tempDir('mb-bad-');
  makeInputFolder(dir, 3);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', script), readFileSync(join(FIXTURE_SCRIPTS, script)));
  const jobFile = join(dir, 'job.yml');
  writeFileSync(jobFile, yaml);
  return { dir, jobFile, home: join(dir, 'home') };
}

const base = (overrides: { inputs?: string; top?: string; task?: string; script?: string } = {}) => `type: parallel
inputs:
${overrides.inputs ?? '  data: {type: uri_folder, path: ./data}'}
outputs:
  rows: {type: uri_file, path: ./out/rows.txt}
input_data: \${{inputs.data}}
${overrides.top ?? 'mini_batch_size: "2"'}
task:
  code: ./src
  entry_script: ${overrides.script ?? 'echo_names.mjs'}
  append_row_to: \${{outputs.rows}}
${overrides.task ?? ''}`;

interface Case {
  name: string;
  yaml: string;
  script?: string;
  args?: string[];
  code: number;
  message: RegExp;
  /** Whether the run started (a run directory exists) before the problem was found. */
  started?: boolean;
}

const cases: Case[] = [
  {
    name: 'malformed YAML reports line and column',
    yaml: 'type: parallel\ninputs:\n  data: {type: uri_folder, path: ./data\ninput_data: x\n',
    code: 2,
    message: /^minibatch: job\.yml:4:1: malformed YAML: /,
  },
  {
    name: 'misspelled field gets a suggestion',
    yaml: base({ top: 'mini_batch_size: "2"\nretry_setings: {max_retries: 1}' }),
    code: 2,
    message: /^minibatch: job\.yml:8:1: retry_setings: unknown field \(did you mean "retry_settings"\?\)$/m,
  },
  {
    name: 'misspelled nested field gets a suggestion',
    yaml: base({ task: '  entry_scirpt: x.mjs' }),
    code: 2,
    message: /job\.yml:12:3: task\.entry_scirpt: unknown field \(did you mean "entry_script"\?\)/,
  },
  {
    name: 'wrong type names the field and what was expected',
    yaml: base({ top: 'mini_batch_size: "2"\nretry_settings: {max_retries: three}' }),
    code: 2,
    message: /^minibatch: job\.yml:8:18: retry_settings\.max_retries: expected an integer >= 0, got "three"$/m,
  },
  {
    name: 'a threshold below -1',
    yaml: base({ top: 'mini_batch_size: "2"\nerror_threshold: -5' }),
    code: 2,
    message: /job\.yml:8:1: error_threshold: expected an integer >= -1, got -5/,
  },
  {
    name: 'mini_batch_size "10xb"',
    yaml: base({ top: 'mini_batch_size: "10xb"' }),
    code: 2,
    message: /^minibatch: job\.yml:7:1: mini_batch_size: expected a file count like "10" or a size like "10kb", "1MB" \(digits, then optionally kb, mb or gb\), got "10xb"$/m,
  },
  {
    name: 'a byte size on a file input',
    yaml: base({ top: 'mini_batch_size: "10kb"' }),
    code: 2,
    message: /job\.yml:7:1: mini_batch_size: expected a file count for a file input like "10", got "10kb" \(a byte size splits a table\), but \/.*\/data is not a table minibatch recognises/,
  },
  {
    name: 'missing input_data',
    yaml: base().replace('input_data: ${{inputs.data}}\n', ''),
    code: 2,
    message: /job\.yml:1:1: input_data: required field is missing/,
  },
  {
    name: 'input_data bound to an unknown input',
    yaml: base().replace('${{inputs.data}}', '${{inputs.date}}'),
    code: 2,
    message: /job\.yml:6:1: input_data: \$\{\{inputs\.date\}\} names no declared input; did you mean \$\{\{inputs\.data\}\}\?/,
  },
  {
    name: 'an input path that does not exist',
    yaml: base({ inputs: '  data: {type: uri_folder, path: ./missing}' }),
    code: 2,
    message: /job\.yml:3:28: inputs\.data\.path: input path does not exist: \/.*\/missing$/m,
  },
  {
    name: 'a missing entry script',
    yaml: base({ script: 'score.mjs' }),
    code: 2,
    message: /job\.yml:10:3: task\.entry_script: entry script not found: \/.*\/src\/score\.mjs$/m,
  },
  {
    name: 'an unknown engine argument value',
    yaml: base({ task: '  program_arguments: --allowed_failed_percent lots' }),
    code: 2,
    message: /task\.program_arguments: --allowed_failed_percent: expected a number >= 0 and <= 100, got "lots"/,
  },
  {
    name: '--set on a value of the wrong type points at --set',
    yaml: base(),
    args: ['--set', 'retry_settings.timeout=soon'],
    code: 2,
    message: /^minibatch: --set retry_settings\.timeout=soon: retry_settings\.timeout: expected a number of seconds > 0 and <= 259200, got "soon"$/m,
  },
  {
    name: 'a script without run',
    yaml: base({ script: 'fixture_no_run.mjs' }),
    script: 'fixture_no_run.mjs',
    code: 2,
    started: true,
    message: /Reason: entry script \/.*\/fixture_no_run\.mjs does not export a run function; expected `export async function run\(miniBatch, ctx\)` \(it exports: init, score\)/,
  },
  {
    name: 'a script with a syntax error',
    yaml: base({ script: 'fixture_syntax_error.mjs' }),
    script: 'fixture_syntax_error.mjs',
    code: 2,
    started: true,
    message: /Reason: entry script \/.*\/fixture_syntax_error\.mjs failed to load: missing \) after argument list/,
  },
  {
    name: 'a script that throws in init',
    yaml: base({ script: 'fixture_init_throws.mjs' }),
    script: 'fixture_init_throws.mjs',
    code: 1,
    started: true,
    message: /Reason: no worker could initialise: init\(\) failed \d+ times on node-0; the node stops\. Last error: cannot load the model: weights file missing/,
  },
];

describe('bad input: one clear message, the right exit code, nothing half-written', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const job = jobWith(testCase.yaml, testCase.script);
      const result = await runCli(['run', 'job.yml', ...(testCase.args ?? [])], { cwd: job.dir, home: job.home });
      assert.equal(result.code, testCase.code, result.stderr);
      assert.match(result.stderr, testCase.message);
      assert.doesNotMatch(result.stderr, /internal error|\n\s+at .*minibatch\/(dist|src)\/spec/, 'no stack trace for a user error');
      assert.equal(existsSync(join(job.dir, 'out', 'rows.txt')), false, 'no output file');
      if (existsSync(join(job.dir, 'out'))) assert.deepEqual(readdirSync(join(job.dir, 'out')), [], 'no partial output either');
      if (testCase.started) {
        const jobResult = readFileSync(join(onlyRunDir(job.home), 'logs', 'job_result.txt'), 'utf8');
        assert.match(jobResult, /^Status: Failed\n/);
      } else {
        assert.equal(existsSync(job.home), false, 'an invalid job leaves no run directory');
      }
    });
  }

  it('run() returning undefined fails its mini-batches with the reason, and validate says the same as run', async () => {
    const job = jobWith(base({ script: 'fixture_return_undefined.mjs', top: 'mini_batch_size: "2"\nmini_batch_error_threshold: 0\nretry_settings: {max_retries: 0}' }), 'fixture_return_undefined.mjs');
    const result = await runCli(['run', 'job.yml'], { cwd: job.dir, home: job.home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /First error \(mini-batch 0, try 1, node-0\/process-\d\): run\(\) returned undefined; expected an array with one element per successful item \(return \[\] when nothing succeeded\)/);
    assert.equal(existsSync(join(job.dir, 'out', 'rows.txt')), false);
  });

  it('validate reports the same problems as run, without running', async () => {
    const job = jobWith(base({ top: 'mini_batch_size: "10xb"' }));
    const result = await runCli(['validate', 'job.yml'], { cwd: job.dir, home: job.home });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /job\.yml:7:1: mini_batch_size: expected a file count/);
  });

  it('an unknown command or a missing job file is a usage error (exit 2)', async () => {
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = await runCli(['run', '/nonexistent/job.yml']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^minibatch: \/nonexistent\/job\.yml: cannot read the job file: no such file$/m);
  });
});
