import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { command, parallelRunFunction, pipeline, pipelineInput, run, submit, MpiStep, ParallelRunConfig, ParallelRunStep } from '../../src/index.js';
import { FIXTURE_SCRIPTS, makeInputFolder, readLines, tempDir } from '../helpers.js';

/** The SDK runs what it builds: a parallel job alone, a v1 step, and a pipeline, in-process. */
describe('SDK: submit and run', () => {
  const folder = () => {
    const dir = tempDir('mb-sdk-run-');
    makeInputFolder(dir, 6);
    mkdirSync(join(dir, 'src'));
    cpSync(join(FIXTURE_SCRIPTS, 'echo_names.mjs'), join(dir, 'src', 'echo_names.mjs'));
    return dir;
  };

  it('parallelRunFunction → submit: the handle runs, then says succeeded with the output path', async () => {
    const dir = folder();
    const job = parallelRunFunction({
      name: 'sdk-echo',
      inputs: { data: { type: 'uri_folder', path: './data' } },
      outputs: { result: { type: 'uri_file', path: './out/names.txt' } },
      input_data: '${{inputs.data}}',
      mini_batch_size: '2',
      max_concurrency_per_instance: 2,
      resource_monitor_interval: 0,
      task: { code: './src', entry_script: 'echo_names.mjs', program_arguments: `--state_dir ${dir}`, append_row_to: '${{outputs.result}}' },
    });
    const handle = submit(job, { baseDir: dir, home: join(dir, 'home') });
    assert.equal(handle.status, 'running');
    const result = await handle.wait();
    assert.equal(result.status, 'succeeded');
    assert.equal(handle.status, 'succeeded');
    assert.equal(result.outputs.append_row, join(dir, 'out', 'names.txt'));
    assert.deepEqual(readLines(join(dir, 'out', 'names.txt')), ['f-0000.txt', 'f-0001.txt', 'f-0002.txt', 'f-0003.txt', 'f-0004.txt', 'f-0005.txt']);
    assert.match(readFileSync(handle.jobFile, 'utf8'), /relative paths were made absolute/);
  });

  it('ParallelRunStep (v1) runs with append_row_file_name', async () => {
    const dir = folder();
    const config = new ParallelRunConfig({ entry_script: 'echo_names.mjs', source_directory: './src', error_threshold: -1, output_action: 'append_row', append_row_file_name: 'names.txt', node_count: 1, process_count_per_node: 2, mini_batch_size: '3' });
    const step = ParallelRunStep({ name: 'v1-echo', parallel_run_config: config, inputs: ['./data'], output: './out', arguments: ['--state_dir', dir] });
    const result = await run(step, { baseDir: dir, home: join(dir, 'home') });
    assert.equal(result.status, 'succeeded');
    assert.equal(readLines(join(dir, 'out', 'names.txt')).length, 6);
  });

  it('a pipeline built in code runs its steps in order and reports every output', async () => {
    const dir = folder();
    const count = parallelRunFunction({
      inputs: {},
      outputs: { names: { type: 'uri_folder' } },
      input_data: '${{inputs.files}}',
      mini_batch_size: '2',
      max_concurrency_per_instance: 2,
      resource_monitor_interval: 0,
      task: { code: './src', entry_script: 'echo_names.mjs', program_arguments: `--state_dir ${dir}`, append_row_to: '${{outputs.names}}' },
    });
    const copy = command({ command: 'mkdir -p ${{outputs.files}} && cp ${{inputs.raw}}/* ${{outputs.files}}/', inputs: {}, outputs: { files: { type: 'uri_folder' } } });
    const total = command({ command: 'wc -l < ${{inputs.names}}/parallel_run_step.txt > ${{outputs.total}}', inputs: {}, outputs: { total: { type: 'uri_file' } } });
    const built = pipeline({
      name: 'sdk-pipeline',
      inputs: { raw: { type: 'uri_folder', path: './data' } },
      jobs: { copy: copy.bind({ raw: pipelineInput('raw') }), count: count.bind({ files: copy.outputs.files }), total: total.bind({ names: count.outputs.names }) },
    });
    const result = await run(built, { baseDir: dir, home: join(dir, 'home') });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.result));
    assert.equal(readFileSync(result.outputs['total.total'] ?? '', 'utf8').trim(), '6');
  });
});

describe('SDK: MpiStep', () => {
  it('2 nodes x 2 processes, params as AML_PARAMETER_ variables: every rank writes its rank', async () => {
    const dir = tempDir('mb-sdk-mpi-');
    mkdirSync(join(dir, 'src'));
    const { writeFileSync, readdirSync } = await import('node:fs');
    writeFileSync(join(dir, 'src', 'rank.mjs'), "import { writeFileSync } from 'node:fs';\nwriteFileSync(`${process.argv[2]}/rank-${process.env.RANK}`, `${process.env.RANK}/${process.env.WORLD_SIZE} ${process.env.AML_PARAMETER_alpha}\\n`);\n");
    const step = MpiStep({ name: 'ranks', source_directory: './src', script_name: 'rank.mjs', arguments: ['${{outputs.out}}'], node_count: 2, process_count_per_node: 2, params: { alpha: 0.5 }, outputs: { out: undefined } });
    const result = await run(pipeline({ jobs: { ranks: step } }), { baseDir: dir, home: join(dir, 'home') });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.result));
    const out = result.outputs['ranks.out'] ?? '';
    assert.deepEqual(readdirSync(out).sort().map((name) => readFileSync(join(out, name), 'utf8').trim()), ['0/4 0.5', '1/4 0.5', '2/4 0.5', '3/4 0.5']);
  });
});
