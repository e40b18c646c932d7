import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { stringify } from 'yaml';
import { FIXTURE_SCRIPTS, onlyRunDir, readLines, runCli, tempDir } from '../helpers.js';

/*
 * Bad tabular input, through the real CLI: one clear message naming the file (and line, field),
 * exit code 2 for invalid input and 1 for a job that ran and failed, and never an output file
 * for a job that did not succeed.
 */

interface BadJobOptions {
  /** Files under `data/`. */
  files?: Record<string, string | Buffer>;
  /** Text of `data/MLTable`; the input is then `{type: mltable, path: ./data}`. */
  mltable?: string;
  input?: Record<string, unknown>;
  size?: string;
  partitionKeys?: string[];
  extra?: Record<string, unknown>;
  script?: string;
}

interface BadJob {
  dir: string;
  data: string;
  output: string;
  home: string;
}

function badJob(options: BadJobOptions): BadJob {
  const dir = tempDir('mb-table-bad-');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(data, name)), { recursive: true });
    writeFileSync(join(data, name), content);
  }
  if (options.mltable !== undefined) writeFileSync(join(data, 'MLTable'), options.mltable);
  const script = options.script ?? 'tabular_echo_rows.mjs';
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', script), readFileSync(join(FIXTURE_SCRIPTS, script)));
  const job: Record<string, unknown> = {
    type: 'parallel',
    inputs: { table: options.input ?? { type: 'mltable', path: './data' } },
    outputs: { rows: { type: 'uri_file', path: './out/rows.jsonl' } },
    input_data: '${{inputs.table}}',
    ...(options.size !== undefined ? { mini_batch_size: options.size } : {}),
    ...(options.partitionKeys ? { partition_keys: options.partitionKeys } : {}),
    max_concurrency_per_instance: 2,
    resource_monitor_interval: 0,
    retry_settings: { max_retries: 2, timeout: 30 },
    task: { code: './src', entry_script: script, append_row_to: '${{outputs.rows}}' },
    ...options.extra,
  };
  writeFileSync(join(dir, 'job.yml'), stringify(job));
  return { dir, data, output: join(dir, 'out', 'rows.jsonl'), home: join(dir, 'home') };
}

function run(job: BadJob, args: string[] = []) {
  return runCli(['run', 'job.yml', ...args], { cwd: job.dir, home: job.home });
}

function assertNoOutput(job: BadJob): void {
  assert.equal(existsSync(job.output), false, 'no output file');
  if (existsSync(join(job.dir, 'out'))) assert.deepEqual(readdirSync(join(job.dir, 'out')), [], 'no partial output either');
}

const READ_CSV = 'transformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n';
const A_CSV = { 'a.csv': 'id,region,v\n1,north,10\n2,south,20\n' };

function tinyParquet(): Buffer {
  return Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }] }));
}

interface Case {
  name: string;
  options: BadJobOptions;
  code: number;
  message: RegExp;
  /** The MLTable itself is wrong: found before the run starts, so no run directory either. */
  beforeRun?: boolean;
}

const cases: Case[] = [
  {
    name: 'a malformed MLTable (YAML syntax) names the file, line and column',
    options: { files: A_CSV, mltable: 'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: {header: all_files_same_headers\n' },
    code: 2,
    message: /^minibatch: \/.*\/data\/MLTable:5:1: malformed YAML: /m,
    beforeRun: true,
  },
  {
    name: 'a wrong value in the MLTable names the line and the field',
    options: { files: A_CSV, mltable: 'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n      header: sometimes\n' },
    code: 2,
    message: /^minibatch: \/.*\/data\/MLTable:6:7: transformations\[0\]\.read_delimited\.header: expected one of all_files_same_headers, no_header, from_first_file, got "sometimes"$/m,
    beforeRun: true,
  },
  {
    name: 'a misspelt MLTable field gets a suggestion',
    options: { files: A_CSV, mltable: 'paths:\n  - file: ./a.csv\ntransformation:\n  - read_delimited: {}\n' },
    code: 2,
    message: /^minibatch: \/.*\/data\/MLTable:3:1: transformation: unknown field \(did you mean "transformations"\?\)$/m,
    beforeRun: true,
  },
  {
    name: 'an unknown transformation gets a suggestion',
    options: { files: A_CSV, mltable: 'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimted: {delimiter: ","}\n' },
    code: 2,
    message: /^minibatch: \/.*\/data\/MLTable:4:5: transformations\[0\]\.read_delimted: unknown transformation \(did you mean "read_delimited"\?\)$/m,
    beforeRun: true,
  },
  {
    name: 'a negative take',
    options: { files: A_CSV, mltable: `paths:\n  - file: ./a.csv\n${READ_CSV}  - take: -2\n` },
    code: 2,
    message: /\/data\/MLTable:7:5: transformations\[1\]\.take: expected an integer >= 0, got -2$/m,
    beforeRun: true,
  },
  {
    name: 'a table transformation without a read transformation',
    options: { files: A_CSV, mltable: 'paths:\n  - file: ./a.csv\ntransformations:\n  - drop_columns: [v]\n' },
    code: 2,
    message: /\/data\/MLTable:4:5: transformations\[0\]\.drop_columns: drop_columns needs a read transformation \(read_delimited, read_json_lines or read_parquet\)/,
    beforeRun: true,
  },
  {
    name: 'a path in the MLTable that does not exist',
    options: { files: A_CSV, mltable: `paths:\n  - file: ./nope.csv\n${READ_CSV}` },
    code: 2,
    message: /\/data\/MLTable:2:5: paths\[0\]\.file: file not found: \/.*\/data\/nope\.csv$/m,
    beforeRun: true,
  },
  {
    name: 'an mltable input folder without an MLTable file',
    options: { files: A_CSV },
    code: 2,
    message: /^minibatch: .*data: no MLTable file found \(expected .*\/data\/MLTable\)$/m,
    beforeRun: true,
  },
  {
    name: 'partition_keys on a folder that is not a table',
    options: { files: { 'notes.txt': 'hello\n' }, input: { type: 'uri_folder', path: './data' }, partitionKeys: ['region'] },
    code: 2,
    message: /job\.yml:\d+:\d+: partition_keys: partition_keys split a table, but .*\/data is not a table minibatch recognises/,
    beforeRun: true,
  },
  {
    name: 'a partition key that is not a column',
    options: { files: A_CSV, mltable: `paths:\n  - file: ./a.csv\n${READ_CSV}`, partitionKeys: ['regoin'] },
    code: 2,
    message: /partition_keys: "regoin" is not a column of the table; did you mean "region"\? \(columns: id, region, v\)/,
  },
  {
    name: 'partition_keys with skip',
    options: { files: A_CSV, mltable: `paths:\n  - file: ./a.csv\n${READ_CSV}  - skip: 1\n`, partitionKeys: ['region'] },
    code: 2,
    message: /partition_keys cannot be combined with the MLTable skip or take transformations/,
  },
  {
    name: 'a file whose path does not match the partition format',
    options: {
      files: { 's1/a.csv': A_CSV['a.csv'], 'loose.csv': A_CSV['a.csv'] },
      mltable: `paths:\n  - pattern: ./**/*.csv\n${READ_CSV}  - extract_columns_from_partition_format: "{Store}/{file_name}.csv"\n`,
      partitionKeys: ['Store'],
    },
    code: 2,
    message: /\/data\/loose\.csv: its path loose\.csv does not match the partition format "\{Store\}\/\{file_name\}\.csv"/,
  },
  {
    name: 'an empty CSV file',
    options: { files: { 'empty.csv': '' }, mltable: `paths:\n  - file: ./empty.csv\n${READ_CSV}`, size: '1kb' },
    code: 2,
    message: /\/data\/empty\.csv: expected a header row, but the file is empty/,
  },
  {
    name: 'a .parquet file that is not Parquet',
    options: { files: { 'x.parquet': 'id,v\n1,2\n3,4\n5,6\n' }, mltable: 'paths:\n  - file: ./x.parquet\ntransformations:\n  - read_parquet:\n' },
    code: 2,
    message: /\/data\/x\.parquet: not a valid Parquet file: it does not start with "PAR1"/,
  },
  {
    name: 'a truncated Parquet file',
    options: { files: { 'cut.parquet': tinyParquet().subarray(0, 40) }, input: { type: 'uri_file', path: './data/cut.parquet' }, size: '1kb' },
    code: 2,
    message: /\/data\/cut\.parquet: not a valid Parquet file: it does not end with "PAR1" \(truncated, or not Parquet\)/,
  },
];

describe('tabular: a header-only file', () => {
  // DESIGN.md §3: an empty input is an empty job that succeeds and says so; the file is named.
  it('is an empty table: the job succeeds with zero mini-batches and a warning naming the file', async () => {
    const job = badJob({ files: { 'header.csv': 'id,region,v\n' }, input: { type: 'uri_file', path: './data/header.csv' }, size: '1kb' });
    const result = await runCli(['run', 'job.yml'], { cwd: job.dir, home: job.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: \/.*\/data\/header\.csv: no data rows \(only a header\)/);
    assert.match(result.stdout, /Succeeded: 0 of 0 mini-batches succeeded/);
  });
});

describe('tabular bad input: a clear message, the right exit code, nothing half-written', () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const job = badJob(testCase.options);
      const result = await run(job);
      assert.match(result.stderr, testCase.message);
      assert.equal(result.code, testCase.code, `exit code\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /internal error|\n\s+at .*\/(dist|src)\//, 'no stack trace for a user error');
      assertNoOutput(job);
      if (testCase.beforeRun) assert.equal(existsSync(job.home), false, 'an invalid MLTable leaves no run directory');
    });
  }
});

describe('tabular bad input: rows that cannot be read', () => {
  // Line 8 is ragged; quoted line breaks before it make line numbers and record numbers differ.
  const ragged = 'id,note,v\n1,"a\nb",10\n2,plain,20\n3,"c\nd\ne",30\n4,\n5,x,50\n6,y,60\n';
  const mltable = `paths:\n  - file: ./ragged.csv\n${READ_CSV}`;

  it('a ragged row is reported with its file and line and counted as one failed item; the mini-batch is not retried and the job goes on', async () => {
    const job = badJob({ files: { 'ragged.csv': ragged }, mltable, size: '20', extra: { retry_settings: { max_retries: 3, timeout: 30 } } });
    const result = await run(job, ['--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\/data\/ragged\.csv:8: expected 3 fields, got 2/);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(summary.items, { succeeded: 5, failed: 1 });
    assert.equal(summary.miniBatches.failed, 1);
    assert.equal(summary.miniBatches.retries, 0, 'no retry can fix a ragged row');
    assert.deepEqual(readLines(job.output).map((line) => JSON.parse(line)), [
      { id: 1, note: 'a\nb', v: 10 },
      { id: 2, note: 'plain', v: 20 },
      { id: 3, note: 'c\nd\ne', v: 30 },
      { id: 5, note: 'x', v: 50 },
      { id: 6, note: 'y', v: 60 },
    ]);
    const runDir = onlyRunDir(job.home);
    const processed = readLines(join(runDir, 'logs/sys/job_report/processed_mini-batches.csv')).slice(1);
    assert.equal(processed.filter((line) => /,failed,/.test(line)).length, 1);
    assert.match(readFileSync(join(runDir, 'logs/job_result.txt'), 'utf8'), /ragged\.csv:8: expected 3 fields, got 2/);
  });

  it('a ragged row does not change the types of the rows that can be read', async () => {
    const job = badJob({ files: { 'nums.csv': 'a,b\n1,2\noops\n3,4\n' }, mltable: `paths:\n  - file: ./nums.csv\n${READ_CSV}` });
    const result = await run(job);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\/data\/nums\.csv:3: expected 2 fields, got 1/);
    assert.deepEqual(readLines(job.output).map((line) => JSON.parse(line)), [
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
  });

  it('with error_threshold 0 a ragged row fails the job (exit 1) and no output is written', async () => {
    const job = badJob({ files: { 'ragged.csv': ragged }, mltable, size: '20', extra: { error_threshold: 0 } });
    const result = await run(job);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\/data\/ragged\.csv:8: expected 3 fields, got 2/);
    assertNoOutput(job);
    assert.match(readFileSync(join(onlyRunDir(job.home), 'logs/job_result.txt'), 'utf8'), /^Status: Failed\n/);
  });

  it('a ragged row in a partition (keys from the path) is reported with its file and line and counted as a failed item', async () => {
    const job = badJob({
      files: { 's1/a.csv': 'id,v\n1,2\n3\n4,5\n', 's2/a.csv': 'id,v\n6,7\n' },
      mltable: `paths:\n  - pattern: ./**/*.csv\n${READ_CSV}  - extract_columns_from_partition_format: "{Store}/{file_name}.csv"\n`,
      partitionKeys: ['Store'],
      script: 'tabular_one_row_per_partition.mjs',
    });
    const result = await run(job, ['--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\/data\/s1\/a\.csv:3: expected 2 fields, got 1/);
    assert.equal(JSON.parse(result.stdout).items.failed, 1, 'the row that could not be read is not silently dropped');
  });

  it('a ragged row in a partition (a key column, shuffled by DuckDB) is reported with its file and line and counted as a failed item', async () => {
    const job = badJob({
      files: { 'a.csv': 'id,region\n1,north\n3\n4,south\n', 'b.csv': 'id,region\n6,north\n' },
      mltable: `paths:\n  - pattern: ./*.csv\n${READ_CSV}`,
      partitionKeys: ['region'],
      script: 'tabular_one_row_per_partition.mjs',
    });
    const result = await run(job, ['--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\/data\/a\.csv:3/);
    assert.equal(JSON.parse(result.stdout).items.failed, 1, 'the row that could not be read is not silently dropped');
  });

  it('bytes that are not UTF-8 under encoding utf8 fail their mini-batch naming the file and line; the job fails (exit 1) without output', async () => {
    const bytes = Buffer.concat([Buffer.from('id,name\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n3,fine\n')]);
    const job = badJob({
      files: { 'latin.csv': bytes },
      mltable: 'paths:\n  - file: ./latin.csv\ntransformations:\n  - read_delimited:\n      encoding: utf8\n',
      extra: { mini_batch_error_threshold: 0 },
    });
    const result = await run(job);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\/data\/latin\.csv:3: bytes that are not valid UTF-8 \(encoding: utf8\); set read_delimited\.encoding to the file's encoding/);
    assertNoOutput(job);
  });
});
