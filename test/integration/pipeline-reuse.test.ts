import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers.js';

/** Reuse of deterministic steps: a hit, a miss after a code change, after an input change, and --force-rerun. */
describe('pipeline step reuse', () => {
  const setup = () => {
    const dir = tempDir('mb-reuse-');
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'a.txt'), 'one\n');
    // Each run of the step appends to runs.log outside its outputs, so we can count real runs.
    writeFileSync(join(dir, 'src', 'copy.mjs'), "import { appendFileSync, cpSync } from 'node:fs';\nappendFileSync(process.argv[4], 'ran\\n');\ncpSync(process.argv[2], process.argv[3], { recursive: true });\n");
    writeFileSync(
      join(dir, 'pipeline.yml'),
      `type: pipeline
inputs:
  raw: {type: uri_folder, path: ./data}
jobs:
  copy:
    type: command
    code: ./src
    command: node copy.mjs \${{inputs.raw}} \${{outputs.copied}} ${join(dir, 'runs.log')}
    inputs: {raw: "\${{parent.inputs.raw}}"}
    outputs: {copied: {type: uri_folder}}
  use:
    type: command
    command: cat \${{inputs.copied}}/a.txt > \${{outputs.out}}/seen.txt
    inputs: {copied: "\${{parent.jobs.copy.outputs.copied}}"}
    outputs: {out: {type: uri_folder}}
    is_deterministic: false
`,
    );
    return { dir, home: join(dir, 'home'), file: join(dir, 'pipeline.yml'), runs: () => readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean).length };
  };

  it('unchanged: reused instantly, says from which run, and the next step reads the reused output', async () => {
    const job = setup();
    const first = await runCli(['run', job.file, '--json'], { home: job.home });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /step copy: not reused: no earlier run of this step/);
    const firstRun = JSON.parse(first.stdout).runId as string;
    const second = await runCli(['run', job.file, '--json'], { home: job.home });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`step copy: reused from run ${firstRun}`));
    assert.equal(job.runs(), 1, 'the step ran once');
    const summary = JSON.parse(second.stdout);
    assert.equal(summary.steps.copy.reusedFrom, firstRun);
    // `use` is not deterministic: it ran again, reading the reused output through the link.
    assert.equal(summary.steps.use.reusedFrom, undefined);
    assert.equal(readFileSync(join(summary.steps.use.outputs.out, 'seen.txt'), 'utf8'), 'one\n');
  });

  it('a code change: not reused, and the changed file is named', async () => {
    const job = setup();
    assert.equal((await runCli(['run', job.file], { home: job.home })).code, 0);
    writeFileSync(join(job.dir, 'src', 'copy.mjs'), `${readFileSync(join(job.dir, 'src', 'copy.mjs'), 'utf8')}// changed\n`);
    const second = await runCli(['run', job.file], { home: job.home });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /step copy: not reused: code changed: copy\.mjs/);
    assert.equal(job.runs(), 2);
  });

  it('an input change: not reused, and the input is named', async () => {
    const job = setup();
    assert.equal((await runCli(['run', job.file], { home: job.home })).code, 0);
    writeFileSync(join(job.dir, 'data', 'a.txt'), 'two\n');
    const second = await runCli(['run', job.file, '--json'], { home: job.home });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /step copy: not reused: input raw changed/);
    assert.equal(job.runs(), 2);
    assert.equal(readFileSync(join(JSON.parse(second.stdout).steps.use.outputs.out, 'seen.txt'), 'utf8'), 'two\n');
  });

  it('--force-rerun (and settings.force_rerun) run every step', async () => {
    const job = setup();
    assert.equal((await runCli(['run', job.file], { home: job.home })).code, 0);
    const forced = await runCli(['run', job.file, '--force-rerun'], { home: job.home });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /step copy: not reused: --force-rerun/);
    assert.equal(job.runs(), 2);
    writeFileSync(job.file, readFileSync(job.file, 'utf8').replace('type: pipeline\n', 'type: pipeline\nsettings: {force_rerun: true}\n'));
    assert.equal((await runCli(['run', job.file], { home: job.home })).code, 0);
    assert.equal(job.runs(), 3);
    assert.equal(readdirSync(join(job.home, 'runs')).length, 3);
  });
});
