import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile, type ColumnSource } from 'hyparquet-writer';
import { stringify } from 'yaml';
import { FIXTURE_SCRIPTS, readLines, runCli, tempDir } from '../helpers.js';

/*
 * Tabular input end to end: the real CLI over tables generated in temp folders (MLTable
 * folders, bare CSV/TSV/JSONL/Parquet files), checking how the table is split, what the entry
 * script receives, and what is written. Fixture scripts: tabular_*.mjs in test/fixtures/scripts.
 */

interface TableJobOptions {
  /** Files to write under `data/`, by path relative to it. */
  files?: Record<string, string | Buffer>;
  /** Text of `data/MLTable`; the job's input is then `{type: mltable, path: ./data}`. */
  mltable?: string;
  /** The job's input instead of the MLTable (paths relative to the job folder). */
  input?: Record<string, unknown>;
  script: string;
  /** File name of the append_row output under `out/`. */
  output?: string;
  /** mini_batch_size; left out when undefined. */
  size?: string;
  partitionKeys?: string[];
  processes?: number;
  extra?: Record<string, unknown>;
}

interface TableJob {
  dir: string;
  data: string;
  jobFile: string;
  output: string;
  home: string;
}

function tableJob(options: TableJobOptions): TableJob {
  const dir = tempDir('mb-table-');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  for (const [name, content] of Object.entries(options.files ?? {})) writeData(data, name, content);
  if (options.mltable !== undefined) writeFileSync(join(data, 'MLTable'), options.mltable);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', options.script), readFileSync(join(FIXTURE_SCRIPTS, options.script)));
  const outputName = options.output ?? 'rows.jsonl';
  const job: Record<string, unknown> = {
    type: 'parallel',
    inputs: { table: options.input ?? { type: 'mltable', path: './data' } },
    outputs: { rows: { type: 'uri_file', path: `./out/${outputName}` } },
    input_data: '${{inputs.table}}',
    ...(options.size !== undefined ? { mini_batch_size: options.size } : {}),
    ...(options.partitionKeys ? { partition_keys: options.partitionKeys } : {}),
    max_concurrency_per_instance: options.processes ?? 2,
    resource_monitor_interval: 0,
    mini_batch_error_threshold: 0,
    retry_settings: { max_retries: 1, timeout: 30 },
    task: { code: './src', entry_script: options.script, append_row_to: '${{outputs.rows}}' },
    ...options.extra,
  };
  const jobFile = join(dir, 'job.yml');
  writeFileSync(jobFile, stringify(job));
  return { dir, data, jobFile, output: join(dir, 'out', outputName), home: join(dir, 'home') };
}

function writeData(folder: string, name: string, content: string | Buffer): string {
  const path = join(folder, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

interface Summary {
  status: string;
  miniBatches: { total: number; succeeded: number; failed: number; retries: number };
  items: { succeeded: number; failed: number };
  output: { path: string; rows: number };
}

/** Runs the job with --json; it must succeed. */
async function runJob(job: TableJob, args: string[] = []): Promise<Summary> {
  const result = await runCli(['run', job.jobFile, '--json', ...args], { home: job.home, cwd: job.dir });
  assert.equal(result.code, 0, `exit ${result.code}\n${result.stderr}`);
  return JSON.parse(result.stdout) as Summary;
}

type Row = Record<string, unknown>;

function readJsonl(path: string): Row[] {
  return readLines(path).map((line) => JSON.parse(line) as Row);
}

/** Rows without the tags tabular_tag_rows.mjs adds. */
function untagged(rows: Row[]): Row[] {
  return rows.map(({ _batch, _columns, ...row }) => row);
}

/** Rows per mini-batch, in mini-batch order; asserts the output holds the mini-batches in order, each in one run. */
function batchSizes(rows: Row[]): number[] {
  const sizes: number[] = [];
  let previous = -1;
  for (const row of rows) {
    const batch = row._batch as number;
    if (batch !== previous) {
      assert.equal(batch, previous + 1, `mini-batch ${batch} follows ${previous} in the output`);
      sizes.push(0);
      previous = batch;
    }
    sizes[sizes.length - 1] = (sizes[sizes.length - 1] ?? 0) + 1;
  }
  return sizes;
}

/**
 * Records per part when records of these byte lengths are cut into parts of about `target`
 * bytes: a part ends after the record that brings it to `target` bytes or more.
 */
function expectedParts(recordBytes: readonly number[], target: number): number[] {
  const parts: number[] = [];
  let bytes = 0;
  let records = 0;
  for (const length of recordBytes) {
    bytes += length;
    records++;
    if (bytes >= target) {
      parts.push(records);
      bytes = 0;
      records = 0;
    }
  }
  if (records > 0) parts.push(records);
  return parts;
}

/** `id,tag` with `count` records of exactly 10 bytes each (`00042,t42\n`), ids from `first`. */
function fixedWidthCsv(first: number, count: number): string {
  let text = 'id,tag\n';
  for (let id = first; id < first + count; id++) text += `${String(id).padStart(5, '0')},t${String(id % 100).padStart(2, '0')}\n`;
  return text;
}

function ids(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}

const READ_CSV = `transformations:
  - read_delimited:
      delimiter: ","
      encoding: utf8
      header: all_files_same_headers
`;

describe('tabular input: an MLTable with read_delimited', () => {
  it('reads typed rows (numbers, booleans, strings, null for empty), quoted commas and line breaks, a Path column, files matched by a ** pattern', async () => {
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: {
        'a/one.csv': 'id,name,price,ok,note\n1,apple,1.5,true,\n2,"pear, big",2,false,"say ""hi"""\n',
        'b/c/two.csv': 'id,name,price,ok,note\r\n3,plum,,TRUE,"two\nlines"\r\n',
        'top.csv': 'id,name,price,ok,note\n4,fig,-0.25,false,x\n',
        'notes.txt': 'not a table\n',
        'b/skip.json': '{}\n',
      },
      mltable: `paths:\n  - pattern: ./**/*.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n      include_path_column: true\n`,
    });
    const summary = await runJob(job);
    // Default mini_batch_size for a table: 1 MB, so the three small files share one mini-batch.
    assert.deepEqual(summary.miniBatches, { total: 1, succeeded: 1, failed: 0, retries: 0 });
    assert.deepEqual(summary.items, { succeeded: 4, failed: 0 });
    assert.equal(summary.output.rows, 4);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows, [
      { id: 1, name: 'apple', price: 1.5, ok: true, note: null, Path: 'a/one.csv', _batch: 0, _columns: 'id|name|price|ok|note|Path' },
      { id: 2, name: 'pear, big', price: 2, ok: false, note: 'say "hi"', Path: 'a/one.csv', _batch: 0, _columns: 'id|name|price|ok|note|Path' },
      { id: 3, name: 'plum', price: null, ok: true, note: 'two\nlines', Path: 'b/c/two.csv', _batch: 0, _columns: 'id|name|price|ok|note|Path' },
      { id: 4, name: 'fig', price: -0.25, ok: false, note: 'x', Path: 'top.csv', _batch: 0, _columns: 'id|name|price|ok|note|Path' },
    ]);
  });

  it('header: no_header names the columns Column1…; from_first_file takes the first file\'s header for every file', async () => {
    const noHeader = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: { 'a.csv': '1,x,true\n2,y,false\n', 'b.csv': '3,z,true\n' },
      mltable: 'paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n      header: no_header\n',
    });
    await runJob(noHeader);
    assert.deepEqual(readJsonl(noHeader.output), [
      { Column1: 1, Column2: 'x', Column3: true, _batch: 0, _columns: 'Column1|Column2|Column3' },
      { Column1: 2, Column2: 'y', Column3: false, _batch: 0, _columns: 'Column1|Column2|Column3' },
      { Column1: 3, Column2: 'z', Column3: true, _batch: 0, _columns: 'Column1|Column2|Column3' },
    ]);

    const fromFirst = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'a.csv': 'id,name\n1,x\n2,y\n', 'b.csv': '3,z\n4,w\n' },
      mltable: 'paths:\n  - file: ./a.csv\n  - file: ./b.csv\ntransformations:\n  - read_delimited:\n      header: from_first_file\n',
    });
    await runJob(fromFirst);
    assert.deepEqual(readJsonl(fromFirst.output), [
      { id: 1, name: 'x' },
      { id: 2, name: 'y' },
      { id: 3, name: 'z' },
      { id: 4, name: 'w' },
    ]);
  });

  it('delimiter, encoding and empty_as_string', async () => {
    // Semicolons, Latin-1 bytes (é = 0xE9), an empty text field and an empty number field.
    const latin1 = Buffer.from('city;name;pop\nParis;café;2100\nLyon;;\n', 'latin1');
    const mltable = (emptyAsString: boolean) =>
      `paths:\n  - file: ./cities.csv\ntransformations:\n  - read_delimited:\n      delimiter: ";"\n      encoding: latin1\n      empty_as_string: ${emptyAsString}\n`;
    const asString = tableJob({ script: 'tabular_echo_rows.mjs', files: { 'cities.csv': latin1 }, mltable: mltable(true) });
    await runJob(asString);
    assert.deepEqual(readJsonl(asString.output), [
      { city: 'Paris', name: 'café', pop: 2100 },
      { city: 'Lyon', name: '', pop: null },
    ]);
    const asNull = tableJob({ script: 'tabular_echo_rows.mjs', files: { 'cities.csv': latin1 }, mltable: mltable(false) });
    await runJob(asNull);
    assert.deepEqual(readJsonl(asNull.output), [
      { city: 'Paris', name: 'café', pop: 2100 },
      { city: 'Lyon', name: null, pop: null },
    ]);
  });

  it('keep_columns and drop_columns shape every row and miniBatch.columns', async () => {
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: { 'a.csv': 'id,name,price,note,secret\n1,a,1.5,n1,s1\n2,b,2.5,n2,s2\n' },
      mltable: `paths:\n  - file: ./a.csv\n${READ_CSV}  - keep_columns: [id, name, price, note]\n  - drop_columns: note\n`,
    });
    await runJob(job);
    assert.deepEqual(readJsonl(job.output), [
      { id: 1, name: 'a', price: 1.5, _batch: 0, _columns: 'id|name|price' },
      { id: 2, name: 'b', price: 2.5, _batch: 0, _columns: 'id|name|price' },
    ]);
  });

  it('skip and take count rows of the whole table, in file order, across files and mini-batches', async () => {
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: { 'a.csv': fixedWidthCsv(1, 5), 'b.csv': fixedWidthCsv(6, 5), 'c.csv': fixedWidthCsv(11, 5) },
      mltable: `paths:\n  - pattern: ./*.csv\n${READ_CSV}  - skip: 3\n  - take: 6\n`,
      size: '20',
    });
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.id), [4, 5, 6, 7, 8, 9]);
    assert.equal(summary.items.succeeded, 6);
    // 20-byte mini-batches (two 10-byte records), never across a file: a.csv [4,5], b.csv [6,7] [8,9]
    assert.deepEqual(batchSizes(rows), [2, 2, 2]);

    // Applied in sequence: take 12 then skip 9 leaves rows 10-12 (c.csv's first two rows among them).
    const takeThenSkip = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'a.csv': fixedWidthCsv(1, 5), 'b.csv': fixedWidthCsv(6, 5), 'c.csv': fixedWidthCsv(11, 5) },
      mltable: `paths:\n  - pattern: ./*.csv\n${READ_CSV}  - take: 12\n  - skip: 9\n`,
    });
    await runJob(takeThenSkip);
    assert.deepEqual(readJsonl(takeThenSkip.output).map((row) => row.id), [10, 11, 12]);
  });

  it('extract_columns_from_partition_format turns path parts into columns', async () => {
    const files: Record<string, string> = {};
    for (const store of ['s1', 's2']) for (const brand of ['acme', 'zeta']) files[`${store}/${brand}/sales.csv`] = `week,qty\n1,${store.length}\n`;
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files,
      mltable: `paths:\n  - pattern: ./**/sales.csv\n${READ_CSV}  - extract_columns_from_partition_format: "{Store}/{Brand}/{file_name}.{extension}"\n`,
    });
    await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(
      rows.map((row) => [row.Store, row.Brand, row.file_name, row.extension, row.week]),
      [
        ['s1', 'acme', 'sales', 'csv', 1],
        ['s1', 'zeta', 'sales', 'csv', 1],
        ['s2', 'acme', 'sales', 'csv', 1],
        ['s2', 'zeta', 'sales', 'csv', 1],
      ],
    );
    const columns = String(rows[0]?._columns).split('|');
    for (const column of ['week', 'qty', 'Store', 'Brand']) assert.ok(columns.includes(column), `${column} in miniBatch.columns (${columns.join(', ')})`);
  });

  it('several paths in one input (file, folder, pattern): read in the order given, each file once', async () => {
    const job = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: {
        'z-first.csv': 'id,src\n1,first\n',
        'more/b.csv': 'id,src\n3,more-b\n',
        'more/a.csv': 'id,src\n2,more-a\n',
        'extra/y.csv': 'id,src\n5,extra-y\n',
        'extra/x/deep.csv': 'id,src\n4,extra-x-deep\n',
        'extra/x/ignored.tsv': 'id\tsrc\n99\tno\n',
      },
      mltable: `paths:\n  - file: ./z-first.csv\n  - folder: ./more\n  - pattern: ./extra/**/*.csv\n  - file: ./z-first.csv\n${READ_CSV}`,
      size: '1kb',
    });
    const summary = await runJob(job);
    assert.deepEqual(readJsonl(job.output).map((row) => row.src), ['first', 'more-a', 'more-b', 'extra-x-deep', 'extra-y']);
    assert.equal(summary.output.rows, 5);
  });
});

describe('tabular input: splitting by approximate size', () => {
  it('digits alone are bytes: mini-batches of whole records, ~N bytes each, rows out in input order', async () => {
    const job = tableJob({ script: 'tabular_tag_rows.mjs', files: { 'numbers.csv': fixedWidthCsv(0, 95) }, mltable: `paths:\n  - file: ./numbers.csv\n${READ_CSV}`, size: '100', processes: 3 });
    const summary = await runJob(job);
    assert.deepEqual(summary.miniBatches, { total: 10, succeeded: 10, failed: 0, retries: 0 });
    assert.deepEqual(summary.items, { succeeded: 95, failed: 0 });
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.id), ids(0, 95));
    assert.deepEqual(batchSizes(rows), [10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
  });

  it('"1kb": a large file is cut into ranges, a mini-batch never crosses a file boundary, small whole files share one', async () => {
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: { 'a.csv': fixedWidthCsv(0, 250), 'b.csv': fixedWidthCsv(250, 30), 'c.csv': fixedWidthCsv(280, 40), 'd.csv': fixedWidthCsv(320, 80) },
      mltable: `paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n      include_path_column: true\n`,
      size: '1kb',
      processes: 3,
    });
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.id), ids(0, 400), 'every row once, in input order');
    assert.equal(summary.output.rows, 400);
    // a.csv (2,507 bytes) in ranges of ~1,024 bytes; b.csv (307) and c.csv (407) fit together; d.csv (807) does not fit beside them.
    assert.deepEqual(batchSizes(rows), [103, 103, 44, 70, 80]);
    const filesPerBatch = new Map<number, Set<unknown>>();
    for (const row of rows) filesPerBatch.set(row._batch as number, (filesPerBatch.get(row._batch as number) ?? new Set()).add(row.Path));
    assert.deepEqual([...filesPerBatch.values()].map((files) => [...files].join('+')), ['a.csv', 'a.csv', 'a.csv', 'b.csv+c.csv', 'd.csv']);
    assert.equal(summary.miniBatches.total, 5);
  });

  it('"1MB" keeps small files whole; quoted line breaks never cut a record, whatever the size', async () => {
    let csv = 'id,note\n';
    const notes: string[] = [];
    for (let id = 0; id < 60; id++) {
      const note = id % 3 === 0 ? `line one of ${id}\nline two, "quoted"\n\nline four` : `plain ${id}`;
      notes.push(note);
      csv += `${id},"${note.replace(/"/g, '""')}"\n`;
    }
    for (const [size, batches] of [
      ['1MB', 1],
      ['64', undefined],
    ] as const) {
      const job = tableJob({ script: 'tabular_tag_rows.mjs', files: { 'notes.csv': csv }, mltable: `paths:\n  - file: ./notes.csv\n${READ_CSV}`, size });
      const summary = await runJob(job);
      const rows = readJsonl(job.output);
      assert.deepEqual(rows.map((row) => row.note), notes, `size ${size}: every note intact`);
      assert.deepEqual(rows.map((row) => row.id), ids(0, 60));
      if (batches !== undefined) assert.equal(summary.miniBatches.total, batches);
      else assert.ok(summary.miniBatches.total > 10, `size ${size}: ${summary.miniBatches.total} mini-batches`);
    }
  });

  it('JSON lines: read_json_lines splits on line boundaries and keeps JSON types', async () => {
    const lines: string[] = [];
    const expected: Row[] = [];
    for (let id = 0; id < 40; id++) {
      const row = { id, name: `n${'x'.repeat(id % 7)}`, score: id / 4, ok: id % 2 === 0, extra: id % 5 === 0 ? null : { k: id } };
      expected.push(row);
      lines.push(JSON.stringify(row));
    }
    const job = tableJob({
      script: 'tabular_tag_rows.mjs',
      files: { 'rows.jsonl': `${lines.join('\n')}\n` },
      mltable: 'paths:\n  - file: ./rows.jsonl\ntransformations:\n  - read_json_lines:\n      encoding: utf8\n',
      size: '200',
      processes: 3,
    });
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(untagged(rows), expected);
    assert.deepEqual(batchSizes(rows), expectedParts(lines.map((line) => Buffer.byteLength(line) + 1), 200));
    assert.equal(summary.items.succeeded, 40);
  });
});

describe('tabular input: bare files and folders with a tabular read hint', () => {
  it('a .csv uri_file with a byte-size mini_batch_size is read as a table', async () => {
    const job = tableJob({ script: 'tabular_tag_rows.mjs', files: { 'numbers.csv': fixedWidthCsv(0, 250) }, input: { type: 'uri_file', path: './data/numbers.csv' }, size: '1kb' });
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.id), ids(0, 250));
    assert.deepEqual(batchSizes(rows), [103, 103, 44]);
    assert.equal(rows[0]?._columns, 'id|tag');
    assert.equal(summary.items.succeeded, 250);
  });

  it('a .tsv file is tab-delimited; a uri_folder of .jsonl files with read_json_lines (include_path_column)', async () => {
    const tsv = tableJob({ script: 'tabular_echo_rows.mjs', files: { 'items.tsv': 'id\tname\tnote\n1\ta, b\tx\n2\tc\t\n' }, input: { type: 'uri_file', path: './data/items.tsv' }, size: '10kb' });
    await runJob(tsv);
    assert.deepEqual(readJsonl(tsv.output), [
      { id: 1, name: 'a, b', note: 'x' },
      { id: 2, name: 'c', note: null },
    ]);

    const jsonl = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'part-1.jsonl': '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n', 'sub/part-2.jsonl': '{"id":3,"v":"c"}\n' },
      input: { type: 'uri_folder', path: './data', read_json_lines: { include_path_column: true } },
    });
    await runJob(jsonl);
    assert.deepEqual(readJsonl(jsonl.output), [
      { id: 1, v: 'a', Path: 'part-1.jsonl' },
      { id: 2, v: 'b', Path: 'part-1.jsonl' },
      { id: 3, v: 'c', Path: 'sub/part-2.jsonl' },
    ]);
  });

  it('a read_delimited hint reads a file of any name as a table, with its delimiter and header mode', async () => {
    const job = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'export.txt': '1|alpha|true\n2|beta|false\n' },
      input: { type: 'uri_file', path: './data/export.txt', read_delimited: { delimiter: '|', header: 'no_header' } },
      size: '1kb',
    });
    await runJob(job);
    assert.deepEqual(readJsonl(job.output), [
      { Column1: 1, Column2: 'alpha', Column3: true },
      { Column1: 2, Column2: 'beta', Column3: false },
    ]);
  });
});

/** `rows` rows (`id` INT32 from `first`, `name` STRING, `score` DOUBLE, `flag` BOOLEAN) in row groups of `rowGroupSize`. */
function writeParquet(path: string, first: number, rows: number, rowGroupSize: number, extra: ColumnSource[] = []): Row[] {
  mkdirSync(dirname(path), { recursive: true });
  const id = ids(first, rows);
  const name = id.map((value) => `name-${value}`);
  const score = id.map((value) => value / 2);
  const flag = id.map((value) => value % 3 === 0);
  parquetWriteFile({
    filename: path,
    columnData: [
      { name: 'id', data: id, type: 'INT32', nullable: false },
      { name: 'name', data: name, type: 'STRING' },
      { name: 'score', data: score, type: 'DOUBLE' },
      { name: 'flag', data: flag, type: 'BOOLEAN' },
      ...extra,
    ],
    rowGroupSize,
  });
  return id.map((value, index) => ({ id: value, name: name[index], score: score[index], flag: flag[index] }));
}

/** Compressed bytes of each row group, as the splitter measures them. */
async function rowGroupBytes(path: string): Promise<number[]> {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  return metadata.row_groups.map((group) =>
    Number(group.total_compressed_size ?? group.columns.reduce((sum, column) => sum + Number(column.meta_data?.total_compressed_size ?? 0), 0)),
  );
}

describe('tabular input: Parquet', () => {
  it('read_parquet splits by whole row groups', async () => {
    const dir = tempDir('mb-parquet-src-');
    const file = join(dir, 'table.parquet');
    const expected = writeParquet(file, 0, 1000, 100);
    const groups = await rowGroupBytes(file);
    assert.equal(groups.length, 10);
    const mltable = 'paths:\n  - file: ./table.parquet\ntransformations:\n  - read_parquet:\n';
    // One row group per mini-batch, then about two and a half row groups' bytes, then everything.
    const target = Math.round(((groups[0] ?? 0) * 5) / 2);
    for (const [size, sizes] of [
      ['1', Array.from({ length: 10 }, () => 100)],
      [String(target), expectedParts(groups, target).map((count) => count * 100)],
      ['1MB', [1000]],
    ] as const) {
      const job = tableJob({ script: 'tabular_tag_rows.mjs', files: { 'table.parquet': readFileSync(file) }, mltable, size, processes: 3 });
      const summary = await runJob(job);
      const rows = readJsonl(job.output);
      assert.deepEqual(batchSizes(rows), sizes, `mini_batch_size ${size}`);
      assert.deepEqual(untagged(rows), expected, `mini_batch_size ${size}: every row once, in order, typed`);
      assert.equal(summary.items.succeeded, 1000);
    }
  });

  it('skip and take across two Parquet files; include_path_column', async () => {
    const job = tableJob({
      script: 'tabular_echo_rows.mjs',
      mltable: 'paths:\n  - pattern: ./*.parquet\ntransformations:\n  - read_parquet:\n      include_path_column: true\n  - skip: 150\n  - take: 100\n',
      size: '1',
    });
    writeParquet(join(job.data, 'a.parquet'), 0, 200, 50);
    writeParquet(join(job.data, 'b.parquet'), 200, 200, 50);
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.id), ids(150, 100));
    assert.deepEqual(rows.map((row) => row.Path), [...Array(50).fill('a.parquet'), ...Array(50).fill('b.parquet')]);
    assert.equal(summary.items.succeeded, 100);
  });
});

describe('tabular input: partition_keys', () => {
  it('keys from the path format: one mini-batch per (Store, Brand), ctx.partitionKeyValue, one item per partition', async () => {
    const files: Record<string, string> = {};
    let id = 0;
    const expected: Row[] = [];
    for (const store of ['s1', 's2']) {
      for (const brand of ['acme', 'zeta']) {
        // s1/acme has two files, both in its one mini-batch
        const names = store === 's1' && brand === 'acme' ? ['2024.csv', '2025.csv'] : ['2024.csv'];
        const partitionIds: number[] = [];
        let sum = 0;
        for (const name of names) {
          let csv = 'id,v\n';
          for (let week = 0; week < 3; week++) {
            csv += `${id},${week + 1}\n`;
            partitionIds.push(id++);
            sum += week + 1;
          }
          files[`${store}/${brand}/${name}`] = csv;
        }
        expected.push({ key: { Store: store, Brand: brand }, rows: partitionIds.length, sum_v: sum, ids: partitionIds.join(' ') });
      }
    }
    const job = tableJob({
      script: 'tabular_one_row_per_partition.mjs',
      files,
      mltable: `paths:\n  - pattern: ./**/*.csv\n${READ_CSV}  - extract_columns_from_partition_format: "{Store}/{Brand}/{file_name}.csv"\n`,
      partitionKeys: ['Store', 'Brand'],
      output: 'partitions.jsonl',
    });
    const summary = await runJob(job);
    assert.deepEqual(summary.miniBatches, { total: 4, succeeded: 4, failed: 0, retries: 0 });
    assert.deepEqual(summary.items, { succeeded: 4, failed: 0 }, 'a partition is one item');
    const rows = readJsonl(job.output);
    assert.deepEqual(
      rows.map((row) => ({ key: row.key, rows: row.rows, sum_v: row.sum_v, ids: row.ids })),
      expected,
    );
    for (const row of rows) {
      assert.deepEqual(row.batch_key, row.key, 'miniBatch.partitionKeyValue is ctx.partitionKeyValue');
      assert.equal(row.arrow_rows, row.rows);
      const columns = String(row.columns).split('|');
      for (const column of ['id', 'v', 'Store', 'Brand']) assert.ok(columns.includes(column), `${column} in ${row.columns}`);
    }
  });

  it('a key column: each distinct value is one mini-batch holding exactly its rows; numeric keys stay numbers', async () => {
    const rowsIn: { id: number; region: string; year: number; v: number }[] = [];
    const regions = ['north', 'south', 'east'];
    for (let id = 0; id < 30; id++) rowsIn.push({ id, region: regions[(id * 7) % 3] ?? 'north', year: 2023 + (id % 2), v: id });
    const csv = (slice: typeof rowsIn) => `id,region,year,v\n${slice.map((row) => `${row.id},${row.region},${row.year},${row.v}`).join('\n')}\n`;
    const job = tableJob({
      script: 'tabular_one_row_per_partition.mjs',
      files: { 'a.csv': csv(rowsIn.slice(0, 17)), 'b.csv': csv(rowsIn.slice(17)) },
      mltable: `paths:\n  - pattern: ./*.csv\n${READ_CSV}`,
      partitionKeys: ['region', 'year'],
      output: 'partitions.jsonl',
    });
    const summary = await runJob(job);
    const expected = new Map<string, { key: Row; ids: number[]; sum: number }>();
    for (const row of rowsIn) {
      const id = `${row.region}/${row.year}`;
      const group = expected.get(id) ?? { key: { region: row.region, year: row.year }, ids: [], sum: 0 };
      group.ids.push(row.id);
      group.sum += row.v;
      expected.set(id, group);
    }
    assert.equal(summary.miniBatches.total, expected.size);
    assert.deepEqual(summary.items, { succeeded: expected.size, failed: 0 });
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => row.batch), ids(0, rows.length), 'one output row per mini-batch, in mini-batch order');
    const seen = rows
      .map((row) => ({ key: row.key as Row, ids: String(row.ids).split(' ').map(Number).sort((a, b) => a - b), sum: row.sum_v, arrow: row.arrow_rows, batchKey: row.batch_key }))
      .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
    const want = [...expected.values()].sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
    assert.deepEqual(
      seen.map(({ key, ids: partitionIds, sum }) => ({ key, ids: partitionIds, sum })),
      want,
    );
    for (const partition of seen) {
      assert.deepEqual(partition.batchKey, partition.key);
      assert.equal(partition.arrow, partition.ids.length);
    }
  });

  it('a key column: the rows of each partition keep their input order (with a Path column too)', async () => {
    // A per-partition script (a time series, a running total) needs its rows in the order they were
    // written. A large file then small ones: DuckDB reads files on several threads, and a small file
    // read on another thread is done first.
    const files: Record<string, string> = {};
    const expected: Record<string, number[]> = { north: [], south: [] };
    let id = 0;
    for (const [file, count] of [['a.csv', 20_000], ['b/1.csv', 1], ['b/2.csv', 2], ['c.csv', 3]] as const) {
      let csv = 'id,region\n';
      for (let row = 0; row < count; row++, id++) {
        const region = id % 3 === 0 ? 'north' : 'south';
        csv += `${id},${region}\n`;
        expected[region]?.push(id);
      }
      files[file] = csv;
    }
    const job = tableJob({
      script: 'tabular_one_row_per_partition.mjs',
      files,
      mltable: 'paths:\n  - pattern: ./**/*.csv\ntransformations:\n  - read_delimited:\n      include_path_column: true\n',
      partitionKeys: ['region'],
      output: 'partitions.jsonl',
    });
    await runJob(job);
    const rows = readJsonl(job.output);
    assert.deepEqual(rows.map((row) => (row.key as Row).region).sort(), ['north', 'south']);
    for (const row of rows) {
      const region = String((row.key as Row).region);
      const got = String(row.ids).split(' ').map(Number);
      const want = expected[region] ?? [];
      const at = want.findIndex((value, index) => got[index] !== value);
      assert.equal(got.length, want.length, `${region}: ${got.length} rows`);
      assert.equal(at, -1, `${region}: rows out of input order from position ${at}: got ${got.slice(Math.max(0, at - 2), at + 4).join(' ')}…, expected ${want.slice(Math.max(0, at - 2), at + 4).join(' ')}…`);
    }
  });

  it('a uri_folder of .parquet files with partition_keys is read as a table and grouped by a column', async () => {
    const job = tableJob({ script: 'tabular_one_row_per_partition.mjs', input: { type: 'uri_folder', path: './data' }, partitionKeys: ['flag'], output: 'partitions.jsonl' });
    const all = [...writeParquet(join(job.data, 'p1.parquet'), 0, 30, 10), ...writeParquet(join(job.data, 'p2.parquet'), 30, 30, 10)];
    const summary = await runJob(job);
    assert.deepEqual(summary.items, { succeeded: 2, failed: 0 });
    const rows = readJsonl(job.output).sort((a, b) => String((a.key as Row).flag).localeCompare(String((b.key as Row).flag)));
    assert.deepEqual(
      rows.map((row) => [row.key, String(row.ids).split(' ').map(Number).sort((a, b) => a - b)]),
      [false, true].map((flag) => [{ flag }, all.filter((row) => row.flag === flag).map((row) => row.id)]),
    );
  });
});

describe('tabular input: what the script receives and what is written', () => {
  it('the rows reach the script as an Apache Arrow table (toArrow) and as columns (toColumns)', async () => {
    const job = tableJob({
      script: 'tabular_arrow_rows.mjs',
      files: { 'a.csv': `id,name,price,ok\n${ids(0, 30).map((id) => `${id},n${id},${id / 2},${id % 2 === 0}`).join('\n')}\n` },
      mltable: `paths:\n  - file: ./a.csv\n${READ_CSV}`,
      size: '200',
    });
    const summary = await runJob(job);
    const rows = readJsonl(job.output);
    assert.ok(summary.miniBatches.total > 1, `${summary.miniBatches.total} mini-batches`);
    assert.deepEqual(
      rows.map(({ id, name, price, ok }) => ({ id, name, price, ok })),
      ids(0, 30).map((id) => ({ id, name: `n${id}`, price: id / 2, ok: id % 2 === 0 })),
    );
    const sizes = batchSizes(rows);
    let index = 0;
    for (const size of sizes) {
      for (let i = 0; i < size; i++, index++) {
        const row = rows[index] as Row;
        assert.equal(row._arrow_rows, size, 'numRows of the Arrow table is the mini-batch size');
        assert.equal(row._arrow_fields, 'id|name|price|ok');
        assert.equal(row._column_lengths, `id:${size}|name:${size}|price:${size}|ok:${size}`);
      }
    }
  });

  it('object rows are written as CSV with a header (append_row_dataframe_header: true), in input order', async () => {
    const job = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'a.csv': 'id,name,price,ok\n1,"x, ""y""",1.5,true\n2,plain,,false\n', 'b.csv': 'id,name,price,ok\n3,"multi\nline",3,true\n' },
      mltable: `paths:\n  - pattern: ./*.csv\n${READ_CSV}`,
      size: '10',
      output: 'rows.csv',
      extra: { append_row_dataframe_header: true },
    });
    const summary = await runJob(job);
    assert.equal(summary.miniBatches.total, 3);
    assert.equal(readFileSync(job.output, 'utf8'), 'id,name,price,ok\n1,"x, ""y""",1.5,true\n2,plain,,false\n3,"multi\nline",3,true\n');
  });

  it('object rows are written as Parquet when the output ends in .parquet', async () => {
    const lines = ids(0, 50).map((id) => JSON.stringify({ id, name: `n${id}`, score: id + 0.5, ok: id % 2 === 1, note: id % 10 === 0 ? null : `note ${id}` }));
    const job = tableJob({
      script: 'tabular_echo_rows.mjs',
      files: { 'rows.jsonl': `${lines.join('\n')}\n` },
      mltable: 'paths:\n  - file: ./rows.jsonl\ntransformations:\n  - read_json_lines:\n',
      size: '300',
      output: 'rows.parquet',
      processes: 3,
    });
    const summary = await runJob(job);
    assert.ok(summary.miniBatches.total > 3, `${summary.miniBatches.total} mini-batches`);
    assert.equal(summary.output.rows, 50);
    assert.equal(existsSync(`${job.output}.minibatch-partial`), false);
    const read = await parquetReadObjects({ file: await asyncBufferFromFile(job.output) });
    const plain = read.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value])));
    assert.deepEqual(plain, lines.map((line) => JSON.parse(line) as Row));
  });
});
