import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { commandStepSchema, pipelineSchema } from '../pipeline/pipeline-schema.js';
import { parallelJobSchema } from '../spec/job-schema.js';
import { CommandJob, ParallelJob, command, parallelRunFunction } from './sdk-jobs.js';
import { PipelineJob, pipeline, pipelineInput, pipelineOutput } from './sdk-pipeline.js';
import { ParallelRunConfig, ParallelRunStep, type ParallelRunConfigOptions } from './v1.js';
import { tempDir } from '../../test/helpers.js';

const scratch = () => tempDir('mb-sdk-');

/** Every field of the parallel job, set (not defaults): the round trip must keep each. */
const EVERY_FIELD = {
  $schema: 'https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json',
  type: 'parallel',
  name: 'score',
  display_name: 'Score',
  description: 'scores things',
  tags: { team: 'ml' },
  properties: { p: 1 },
  experiment_name: 'exp',
  identity: { type: 'user_identity' },
  compute: 'azureml:cpu-cluster',
  inputs: { data: { type: 'mltable', path: './data', mode: 'direct', description: 'd', optional: false }, model: { type: 'uri_folder', path: './model', mode: 'download' }, rate: 0.5, label: 'x', flag: true },
  outputs: { scores: { type: 'uri_folder', path: './out', mode: 'rw_mount', description: 's' } },
  input_data: '${{inputs.data}}',
  mini_batch_size: '10kb',
  target_mini_batch_seconds: 5,
  partition_keys: ['store'],
  resources: { instance_count: 2, instance_type: 'STANDARD_D2', shm_size: '2g', docker_args: '--x', properties: { a: 1 }, locations: ['westeurope'] },
  max_concurrency_per_instance: 2,
  error_threshold: 5,
  mini_batch_error_threshold: 3,
  allowed_failed_count: 3,
  allowed_failed_percent: 30,
  overhead_timeout: 1200,
  progress_update_timeout: 600,
  first_task_creation_timeout: 300,
  resource_monitor_interval: 20,
  copy_logs_to_parent: true,
  append_row_dataframe_header: true,
  append_row_format: 'csv',
  max_worker_memory: '2GB',
  logging_level: 'DEBUG',
  retry_settings: { max_retries: 4, timeout: 90 },
  speculative_copies: false,
  environment_variables: { A: '1', B: 2, C: true },
  is_deterministic: false,
  task: { type: 'run_function', code: './src', entry_script: 'score.py', environment: { name: 'env', version: 1, image: 'img', conda_file: './conda.yml', python: '/usr/bin/python3' }, program_arguments: '--model ${{inputs.model}}', append_row_to: '${{outputs.scores}}' },
} as const;

describe('SDK ↔ YAML', () => {
  it('the round-trip case sets every field the schema knows (a new field must be added here)', () => {
    assert.deepEqual(Object.keys(EVERY_FIELD).sort(), Object.keys(parallelJobSchema.shape).sort());
  });

  it('a parallel job with every field: saveToYaml then loadYaml gives the same job', () => {
    const job = new ParallelJob(structuredClone(EVERY_FIELD) as never);
    const file = join(scratch(), 'job.yml');
    job.saveToYaml(file);
    assert.deepEqual(parse(readFileSync(file, 'utf8')), EVERY_FIELD);
    assert.deepEqual(ParallelJob.loadYaml(file).toYamlObject(), EVERY_FIELD);
  });

  it('parallelRunFunction takes the reference keyword arguments, snake_case or camelCase, and instance_count', () => {
    const snake = parallelRunFunction({ name: 'x', input_data: '${{inputs.d}}', inputs: { d: { type: 'uri_folder', path: './d' } }, outputs: { out: { type: 'uri_folder' } }, instance_count: 3, mini_batch_size: '5', retry_settings: { max_retries: 1, timeout: 10 }, task: { code: '.', entry_script: 's.mjs', append_row_to: '${{outputs.out}}' } });
    const camel = parallelRunFunction({ name: 'x', inputData: '${{inputs.d}}', inputs: { d: { type: 'uri_folder', path: './d' } }, outputs: { out: { type: 'uri_folder' } }, instanceCount: 3, miniBatchSize: '5', retrySettings: { maxRetries: 1, timeout: 10 }, task: { code: '.', entryScript: 's.mjs', appendRowTo: '${{outputs.out}}' } } as never);
    assert.deepEqual(camel.toYamlObject(), snake.toYamlObject());
    assert.deepEqual((snake.toYamlObject() as { resources: unknown }).resources, { instance_count: 3 });
    // Typed outputs: `snake.outputs.out` exists for the compiler and at run time.
    assert.equal(snake.outputs.out.output, 'out');
  });

  it('a job built with a wrong field is refused with the YAML message', () => {
    assert.throws(() => parallelRunFunction({ input_data: '${{inputs.d}}', retry_settings: { max_retries: -1 }, task: { code: '.', entry_script: 's.mjs' } }), /retry_settings\.max_retries: expected an integer >= 0, got -1/);
    assert.throws(() => command({ command: '' }), /command: expected a command line/);
  });

  it('a pipeline built in code: typed step outputs become bindings, and the file round-trips', () => {
    const prep = command({ command: 'node prep.mjs --out ${{outputs.data}}', code: './src', outputs: { data: { type: 'uri_folder' } } });
    const score = parallelRunFunction({ input_data: '${{inputs.data}}', inputs: {}, outputs: { scores: { type: 'uri_folder' } }, mini_batch_size: '10', task: { code: './src', entry_script: 'score.mjs', append_row_to: '${{outputs.scores}}' } }).bind({ data: prep.outputs.data });
    const report = command({ command: 'node report.mjs ${{inputs.scores}} ${{outputs.report}}', inputs: {}, outputs: { report: { type: 'uri_file' } }, is_deterministic: false }).bind({ scores: score.outputs.scores, rows: pipelineInput('rows') }, { report: pipelineOutput('report') });
    const built = pipeline({ name: 'p', settings: { default_compute: 'local' }, inputs: { rows: 100 }, outputs: { report: { type: 'uri_file', path: './out/report.txt' } }, jobs: { prep, score, report } });
    const document = built.toYamlObject() as { jobs: Record<string, { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }> };
    assert.equal(document.jobs.score?.inputs?.data, '${{parent.jobs.prep.outputs.data}}');
    assert.equal(document.jobs.report?.inputs?.scores, '${{parent.jobs.score.outputs.scores}}');
    assert.equal(document.jobs.report?.inputs?.rows, '${{parent.inputs.rows}}');
    assert.equal(document.jobs.report?.outputs?.report, '${{parent.outputs.report}}');
    assert.ok(pipelineSchema.safeParse(document).success);
    assert.ok(commandStepSchema.safeParse(document.jobs.prep).success);
    const file = join(scratch(), 'pipeline.yml');
    built.saveToYaml(file);
    const loaded = PipelineJob.loadYaml(file);
    assert.deepEqual(loaded.toYamlObject(), document);
    assert.ok(loaded.jobs.prep instanceof CommandJob && loaded.jobs.score instanceof ParallelJob);
  });

  it('binding to a step outside the pipeline is an error naming the input', () => {
    const outside = command({ command: 'true', outputs: { o: { type: 'uri_folder' } } });
    const user = command({ command: 'true' }).bind({ x: outside.outputs.o });
    assert.throws(() => pipeline({ jobs: { user } }), /jobs\.user\.inputs\.x: bound to an output of a step that is not in this pipeline's jobs/);
  });
});

describe('SDK v1: ParallelRunConfig and ParallelRunStep', () => {
  const base: ParallelRunConfigOptions = { entry_script: 'score.py', error_threshold: 10, output_action: 'append_row', node_count: 2, source_directory: './scripts' };

  it('maps the v1 names one to one', () => {
    const config = new ParallelRunConfig({ ...base, process_count_per_node: 3, mini_batch_size: '5', run_invocation_timeout: 90, run_max_try: 4, allowed_failed_count: 15, allowed_failed_percent: 10, append_row_file_name: 'scores.txt', logging_level: 'DEBUG', environment_variables: { A: '1' }, compute_target: 'cpu-cluster', description: 'd' });
    const step = ParallelRunStep({ name: 'predict', parallel_run_config: config, inputs: ['./data'], output: './out', arguments: ['--extra_arg', 'example value'], allow_reuse: false });
    const job = step.toYamlObject() as Record<string, unknown> & { task: Record<string, unknown>; resources: unknown; retry_settings: unknown };
    assert.deepEqual(job.resources, { instance_count: 2 });
    assert.equal(job.max_concurrency_per_instance, 3);
    assert.deepEqual(job.retry_settings, { timeout: 90, max_retries: 3 });
    assert.equal(job.mini_batch_error_threshold, 15);
    assert.equal(job.allowed_failed_percent, 10);
    assert.equal(job.error_threshold, 10);
    assert.equal(job.is_deterministic, false);
    assert.equal(job.compute, 'cpu-cluster');
    assert.equal(job.task.code, './scripts');
    assert.equal(job.task.program_arguments, "--extra_arg 'example value'");
    assert.equal(job.task.append_row_to, '${{outputs.output}}/scores.txt');
    assert.deepEqual(job.outputs, { output: { type: 'uri_folder', path: './out' } });
  });

  it('saveToYaml / loadYaml round-trip the config', () => {
    const config = new ParallelRunConfig({ ...base, partition_keys: ['store'], run_max_try: 2 });
    const file = join(scratch(), 'config.yml');
    config.saveToYaml(file);
    assert.deepEqual(ParallelRunConfig.loadYaml(file).options, config.options);
  });

  const invalid: [Partial<ParallelRunConfigOptions>, RegExp][] = [
    [{ output_action: 'append' as never }, /output_action: expected 'append_row' or 'summary_only', got "append"/],
    [{ error_threshold: -2 }, /error_threshold: expected an integer >= -1, got -2/],
    [{ allowed_failed_count: -5 }, /allowed_failed_count: expected an integer >= -1, got -5/],
    [{ allowed_failed_percent: 101 }, /allowed_failed_percent: expected a number from 0 to 100, got 101/],
    [{ process_count_per_node: 0 }, /process_count_per_node: expected an integer >= 1, got 0/],
    [{ run_invocation_timeout: 0 }, /run_invocation_timeout: expected a number of seconds > 0, got 0/],
    [{ run_max_try: 0 }, /run_max_try: expected an integer >= 1, got 0/],
    [{ append_row_file_name: 'a/b.txt' }, /append_row_file_name: expected a file name without any of/],
    [{ partition_keys: ['k'], mini_batch_size: '5' }, /partition_keys and mini_batch_size: set one/],
    [{ node_count: 0 }, /node_count: expected an integer >= 1, got 0/],
  ];
  for (const [change, message] of invalid) {
    it(`v1 validation: ${Object.keys(change).join(', ')}`, () => {
      assert.throws(() => new ParallelRunConfig({ ...base, ...change }), message);
    });
  }
});

describe('pipeline JSON Schema', () => {
  it('the committed schema/pipeline.schema.json is the one the zod schemas generate (run `npm run schema`)', async () => {
    const { pipelineJsonSchema } = await import('../pipeline/pipeline-schema.js');
    const committed = JSON.parse(readFileSync(new URL('../../schema/pipeline.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(pipelineJsonSchema())));
  });
});
