import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { InvalidInputError, MinibatchError } from '../errors.js';
import { inferTabularFormat, parsePartitionFormat, readMLTable, tabularSourceFromHint } from './mltable.js';
import type { FileListSource, ResolvedDataSource, TabularSource } from './tabular-source.js';
import { tempDir } from '../../test/helpers.js';

const FIXTURES = resolve('test/fixtures/mltable');
const temps: string[] = [];

after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder holding `files` (path → content); `MLTable` is one of them when given. */
function folder(files: Record<string, string>): string {
  const dir = tempDir('mb-mltable-');
  temps.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** The default data files most tests point at. */
const DATA = { 'a.csv': 'x\n1\n', 'b.csv': 'x\n2\n', 'sub/c.csv': 'x\n3\n', 'sub/d.csv': 'x\n4\n', 'sub/e.jsonl': '{}\n' };

/** `transformations` lines appended to a one-file MLTable (the YAML header is 3 lines long). */
function tableWith(transformations: string, files: Record<string, string> = DATA): { dir: string; source: Promise<ResolvedDataSource> } {
  const dir = folder({ ...files, MLTable: `type: mltable\npaths: [{file: ./a.csv}]\ntransformations:\n${transformations}` });
  return { dir, source: readMLTable(dir) };
}

async function tabular(transformations: string): Promise<TabularSource> {
  const source = await tableWith(transformations).source;
  assert.equal(source.kind, 'tabular');
  return source;
}

/** The message readMLTable rejects with (E_JOB_INVALID unless `code` says otherwise). */
async function rejection(promise: Promise<unknown>, code = 'E_JOB_INVALID'): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected an InvalidInputError, got ${String(error)}`);
    assert.equal((error as MinibatchError).code, code, (error as Error).message);
    return (error as Error).message;
  }
  assert.fail('expected the MLTable to be rejected');
}

const NO_TRANSFORMATIONS = { includePathColumn: false, partitionFormat: undefined, dropColumns: undefined, keepColumns: undefined, skip: 0, take: undefined };

describe('readMLTable: the reference example', () => {
  it('reads the iris MLTable (read_delimited with ascii and all_files_same_headers)', async () => {
    const folderPath = join(FIXTURES, 'iris');
    const expected: TabularSource = {
      kind: 'tabular',
      format: 'delimited',
      files: [join(folderPath, 'iris.csv')],
      baseFolder: folderPath,
      delimited: { delimiter: ',', encoding: 'ascii', header: 'all_files_same_headers', emptyAsString: false },
      transformations: NO_TRANSFORMATIONS,
    };
    assert.deepEqual(await readMLTable(folderPath), expected);
    assert.deepEqual(await readMLTable(join(folderPath, 'MLTable')), expected, 'the file itself works too');
    assert.deepEqual(await readMLTable('./test/fixtures/mltable/iris/'), expected, 'a relative folder resolves against the working directory');
  });

  it('reads a file-list MLTable (a pattern and no read transformation)', async () => {
    const folderPath = join(FIXTURES, 'file-list');
    const expected: FileListSource = {
      kind: 'files',
      files: [join(folderPath, 'docs/a.txt'), join(folderPath, 'docs/more/b.txt')],
      baseFolder: folderPath,
    };
    assert.deepEqual(await readMLTable(folderPath), expected);
  });

  it('accepts an MLTable file under another name', async () => {
    const dir = folder({ ...DATA, 'table.yaml': 'paths: [{file: ./a.csv}]\n' });
    assert.deepEqual(await readMLTable(join(dir, 'table.yaml')), { kind: 'files', files: [join(dir, 'a.csv')], baseFolder: dir });
  });
});

describe('readMLTable: read transformations and their defaults', () => {
  it('read_delimited with no options (null or {}) takes every default', async () => {
    for (const value of ['', ' {}', ' null']) {
      const source = await tabular(`  - read_delimited:${value}\n`);
      assert.equal(source.format, 'delimited');
      assert.deepEqual(source.delimited, { delimiter: ',', encoding: 'utf8', header: 'all_files_same_headers', emptyAsString: false });
      assert.deepEqual(source.transformations, NO_TRANSFORMATIONS);
    }
  });

  it('read_delimited reads every option', async () => {
    const source = await tabular(
      [
        '  - read_delimited:',
        "      delimiter: ';'",
        '      encoding: latin1',
        '      header: no_header',
        '      include_path_column: true',
        '      empty_as_string: true',
        '      infer_column_types: false',
        '      support_multi_line: true',
        '',
      ].join('\n'),
    );
    assert.deepEqual(source.delimited, { delimiter: ';', encoding: 'latin1', header: 'no_header', emptyAsString: true });
    assert.equal(source.transformations.includePathColumn, true);
  });

  it('read_delimited maps every header mode', async () => {
    for (const header of ['all_files_same_headers', 'no_header', 'from_first_file']) {
      const source = await tabular(`  - read_delimited: {header: ${header}}\n`);
      assert.equal(source.delimited?.header, header);
    }
  });

  it("maps the reference's encoding names to Node's", async () => {
    const expected: Record<string, BufferEncoding> = {
      utf8: 'utf8',
      'utf-8': 'utf8',
      UTF8: 'utf8',
      utf8bom: 'utf8',
      ascii: 'ascii',
      latin1: 'latin1',
      iso88591: 'latin1',
      utf16: 'utf16le',
      windows1252: 'latin1',
    };
    for (const [name, encoding] of Object.entries(expected)) {
      const source = await tabular(`  - read_delimited: {encoding: ${name}}\n`);
      assert.equal(source.delimited?.encoding, encoding, name);
    }
  });

  it('reads a tab delimiter written as "\\t" or as a single-quoted \\t', async () => {
    assert.equal((await tabular('  - read_delimited: {delimiter: "\\t"}\n')).delimited?.delimiter, '\t');
    assert.equal((await tabular("  - read_delimited: {delimiter: '\\t'}\n")).delimited?.delimiter, '\t');
    assert.equal((await tabular("  - read_delimited: {delimiter: '||'}\n")).delimited?.delimiter, '||');
  });

  it('read_json_lines: empty, null, or with its options', async () => {
    for (const value of ['', ' {}', ' null']) {
      const source = await tabular(`  - read_json_lines:${value}\n`);
      assert.equal(source.format, 'json_lines');
      assert.equal(source.delimited, undefined);
      assert.deepEqual(source.transformations, NO_TRANSFORMATIONS);
    }
    const source = await tabular('  - read_json_lines: {encoding: utf8, include_path_column: true, invalid_lines: error}\n');
    assert.equal(source.transformations.includePathColumn, true);
    await assert.rejects(tabular('  - read_json_lines: {invalid_lines: drop}\n'), /invalid_lines: "drop" is not supported by this version of minibatch \(a line that is not JSON is reported as a failed item\); expected one of error/);
  });

  it('read_parquet: empty, null, or with include_path_column', async () => {
    for (const value of ['', ' {}', ' null']) {
      const source = await tabular(`  - read_parquet:${value}\n`);
      assert.equal(source.format, 'parquet');
      assert.equal(source.delimited, undefined);
      assert.equal(source.transformations.includePathColumn, false);
    }
    assert.equal((await tabular('  - read_parquet: {include_path_column: true}\n')).transformations.includePathColumn, true);
  });
});

describe('readMLTable: table transformations', () => {
  it('extract_columns_from_partition_format as a string or a mapping', async () => {
    const format = '{Store}/{Brand}/{file_name}.csv';
    assert.equal((await tabular(`  - read_delimited:\n  - extract_columns_from_partition_format: "${format}"\n`)).transformations.partitionFormat, format);
    const mapping = await tabular(`  - read_parquet:\n  - extract_columns_from_partition_format: {partition_format: "${format}"}\n`);
    assert.equal(mapping.transformations.partitionFormat, format);
  });

  it('drop_columns and keep_columns as a list or a single name; both together', async () => {
    const source = await tabular('  - read_delimited:\n  - keep_columns: [a, b, c]\n  - drop_columns: c\n');
    assert.deepEqual(source.transformations.keepColumns, ['a', 'b', 'c']);
    assert.deepEqual(source.transformations.dropColumns, ['c']);
    const single = await tabular('  - read_delimited:\n  - keep_columns: a\n  - drop_columns: [b, c]\n');
    assert.deepEqual(single.transformations.keepColumns, ['a']);
    assert.deepEqual(single.transformations.dropColumns, ['b', 'c']);
  });

  it('repeated drop_columns add up; repeated keep_columns keep the columns in both', async () => {
    const source = await tabular('  - read_delimited:\n  - drop_columns: [a, b]\n  - drop_columns: [b, c]\n  - keep_columns: [x, y, z]\n  - keep_columns: [z, y, w]\n');
    assert.deepEqual(source.transformations.dropColumns, ['a', 'b', 'c']);
    assert.deepEqual(source.transformations.keepColumns, ['z', 'y']);
  });

  it('skip and take, in either order and repeated, fold into one window', async () => {
    const window = async (steps: string) => {
      const { skip, take } = (await tabular(`  - read_delimited:\n${steps}`)).transformations;
      return { skip, take };
    };
    assert.deepEqual(await window('  - skip: 2\n'), { skip: 2, take: undefined });
    assert.deepEqual(await window('  - take: 10\n'), { skip: 0, take: 10 });
    assert.deepEqual(await window('  - skip: 2\n  - take: 10\n'), { skip: 2, take: 10 }, 'rows 2..11');
    assert.deepEqual(await window('  - take: 10\n  - skip: 2\n'), { skip: 2, take: 8 }, 'rows 2..9');
    assert.deepEqual(await window('  - take: 3\n  - skip: 5\n'), { skip: 5, take: 0 });
    assert.deepEqual(await window('  - take: 10\n  - take: 4\n  - skip: 1\n  - skip: 1\n'), { skip: 2, take: 2 });
    assert.deepEqual(await window('  - skip: 0\n  - take: 0\n'), { skip: 0, take: 0 });
  });

  it('ignores metadata, traits and $schema', async () => {
    const dir = folder({
      ...DATA,
      MLTable: '$schema: https://example.com/MLTable.schema.json\ntype: mltable\npaths: [{file: ./a.csv}]\nmetadata: {x: 1}\ntraits: {index_columns: [id]}\ntransformations: [{read_parquet: null}]\n',
    });
    assert.equal((await readMLTable(dir)).kind, 'tabular');
  });
});

describe('readMLTable: paths', () => {
  it('lists file, folder and pattern entries in the order of paths, dropping repeats', async () => {
    const dir = folder({
      ...DATA,
      MLTable: 'paths:\n  - file: ./b.csv\n  - folder: ./sub\n  - pattern: ./**/*.csv\n  - file: sub/c.csv\n',
    });
    const source = await readMLTable(dir);
    assert.deepEqual(source, {
      kind: 'files',
      files: ['b.csv', 'sub/c.csv', 'sub/d.csv', 'sub/e.jsonl', 'a.csv'].map((path) => join(dir, path)),
      baseFolder: dir,
    });
  });

  it('resolves paths against the MLTable folder, not the working directory, and accepts file:// and absolute paths', async () => {
    const data = folder(DATA);
    const dir = folder({ MLTable: `paths:\n  - file: ../${data.split('/').pop()}/a.csv\n  - file: ${join(data, 'b.csv')}\n  - file: ${pathToFileURL(join(data, 'sub/c.csv')).href}\n` });
    const source = await readMLTable(dir);
    assert.deepEqual(source.files, [join(data, 'a.csv'), join(data, 'b.csv'), join(data, 'sub/c.csv')]);
    assert.equal(source.baseFolder, dir);
  });

  it('leaves the MLTable file out of folders and patterns, but not out of an explicit file entry', async () => {
    const dir = folder({ ...DATA, MLTable: 'paths:\n  - pattern: ./*\n  - file: ./MLTable\n' });
    assert.deepEqual((await readMLTable(dir)).files, ['a.csv', 'b.csv', 'MLTable'].map((path) => join(dir, path)));
  });

  it('a pattern that matches nothing is an empty table, not an error', async () => {
    const dir = folder({ ...DATA, MLTable: 'paths: [{pattern: ./**/*.parquet}]\ntransformations: [read_parquet: {}]\n' });
    const source = await readMLTable(dir);
    assert.equal(source.kind, 'tabular');
    assert.deepEqual(source.files, []);
  });

  it('an MLTable without transformations (or with an empty list) is a file list', async () => {
    for (const transformations of ['', 'transformations: []\n', 'transformations:\n']) {
      const dir = folder({ ...DATA, MLTable: `paths: [{folder: .}]\n${transformations}` });
      const source = await readMLTable(dir);
      assert.equal(source.kind, 'files');
      assert.deepEqual(source.files, ['a.csv', 'b.csv', 'sub/c.csv', 'sub/d.csv', 'sub/e.jsonl'].map((path) => join(dir, path)));
    }
  });
});

describe('readMLTable: errors', () => {
  it('a missing MLTable file names the path and where it was expected', async () => {
    const dir = folder({ 'a.csv': '' });
    assert.equal(await rejection(readMLTable(dir)), `${dir}: no MLTable file found (expected ${dir}/MLTable)`);
    assert.equal(await rejection(readMLTable(`${dir}/`)), `${dir}/: no MLTable file found (expected ${dir}/MLTable)`);
    assert.equal(await rejection(readMLTable(join(dir, 'nope'))), `${dir}/nope: no MLTable file found (expected ${dir}/nope/MLTable)`);
    assert.equal(await rejection(readMLTable(join(dir, 'MLTable'))), `${dir}/MLTable: no MLTable file found (expected ${dir}/MLTable)`);
  });

  it('points at a near-miss file name', async () => {
    const dir = folder({ 'mltable.yaml': 'paths: []\n' });
    assert.equal(
      await rejection(readMLTable(dir)),
      `${dir}: no MLTable file found (expected ${dir}/MLTable) (found "mltable.yaml": the file must be named exactly MLTable)`,
    );
  });

  it('malformed YAML gives line and column', async () => {
    const dir = folder({ MLTable: 'paths:\n  - file: ./a.csv\ntransformations: [read_delimited: {delimiter: ","}\n' });
    const message = await rejection(readMLTable(dir), 'E_YAML_SYNTAX');
    assert.match(message, new RegExp(`^${dir}/MLTable:4:1: malformed YAML: `));
  });

  it('an unknown transformation gets a "did you mean"', async () => {
    const { dir, source } = tableWith('  - read_delimeted: {header: no_header}\n');
    assert.equal(await rejection(source), `${dir}/MLTable:4:5: transformations[0].read_delimeted: unknown transformation (did you mean "read_delimited"?)`);
    const withSteps = tableWith('  - read_delimeted: {header: no_header}\n  - take: 5\n');
    assert.equal(
      await rejection(withSteps.source),
      `${withSteps.dir}/MLTable:4:5: transformations[0].read_delimeted: unknown transformation (did you mean "read_delimited"?)`,
      'the take is not blamed for the misspelt read',
    );
    const far = tableWith('  - shuffle_rows: 3\n');
    assert.equal(
      await rejection(far.source),
      `${far.dir}/MLTable:4:5: transformations[0].shuffle_rows: unknown transformation; expected one of read_delimited, read_json_lines, read_parquet, extract_columns_from_partition_format, drop_columns, keep_columns, skip, take`,
    );
  });

  it('a reference transformation this engine lacks is named as unsupported', async () => {
    const { dir, source } = tableWith('  - read_delimited:\n  - convert_column_types: []\n');
    assert.equal(
      await rejection(source),
      `${dir}/MLTable:5:5: transformations[1].convert_column_types: convert_column_types is not supported by this version of minibatch: column types are inferred from the data`,
    );
  });

  it('an option with the wrong value says what was expected and what it got', async () => {
    const header = tableWith('  - read_delimited:\n      delimiter: ","\n      header: yes\n');
    assert.equal(
      await rejection(header.source),
      `${header.dir}/MLTable:6:7: transformations[0].read_delimited.header: expected one of all_files_same_headers, no_header, from_first_file, got "yes"`,
    );
    const flag = tableWith('  - read_parquet: {include_path_column: "yes"}\n');
    assert.equal(await rejection(flag.source), `${flag.dir}/MLTable:4:20: transformations[0].read_parquet.include_path_column: expected true or false, got "yes"`);
    const take = tableWith('  - read_parquet:\n  - take: -1\n');
    assert.equal(await rejection(take.source), `${take.dir}/MLTable:5:5: transformations[1].take: expected an integer >= 0, got -1`);
    const skip = tableWith('  - read_parquet:\n  - skip: 1.5\n');
    assert.equal(await rejection(skip.source), `${skip.dir}/MLTable:5:5: transformations[1].skip: expected an integer >= 0, got 1.5`);
    const drop = tableWith('  - read_parquet:\n  - drop_columns: [a, 3]\n');
    assert.equal(await rejection(drop.source), `${drop.dir}/MLTable:5:23: transformations[1].drop_columns[1]: expected a column name, got 3`);
    const keep = tableWith('  - read_parquet:\n  - keep_columns: []\n');
    assert.equal(await rejection(keep.source), `${keep.dir}/MLTable:5:5: transformations[1].keep_columns: expected at least one column name, got an empty list`);
    const delimiter = tableWith('  - read_delimited: {delimiter: ""}\n');
    assert.equal(
      await rejection(delimiter.source),
      `${delimiter.dir}/MLTable:4:22: transformations[0].read_delimited.delimiter: expected a non-empty delimiter without quotes or line breaks, got ""`,
    );
  });

  it('names the MLTable as it was given (a relative path stays relative)', async () => {
    const dir = folder({ ...DATA, MLTable: 'type: mltable\npaths: [{file: ./a.csv}]\ntransformations:\n  - read_delimited:\n      header: yes\n' });
    const given = `./${relative(process.cwd(), dir)}/MLTable`;
    assert.equal(
      await rejection(readMLTable(given)),
      `${given}:5:7: transformations[0].read_delimited.header: expected one of all_files_same_headers, no_header, from_first_file, got "yes"`,
    );
    const folderGiven = `./${relative(process.cwd(), dir)}`;
    assert.match(await rejection(readMLTable(folderGiven)), new RegExp(`^${folderGiven.replace(/[.]/g, '\\.')}/MLTable:5:7: `));
  });

  it('an unknown option gets a "did you mean"', async () => {
    const { dir, source } = tableWith('  - read_delimited: {delimeter: ";"}\n');
    assert.equal(await rejection(source), `${dir}/MLTable:4:22: transformations[0].read_delimited.delimeter: unknown field (did you mean "delimiter"?)`);
    const partition = tableWith('  - read_parquet:\n  - extract_columns_from_partition_format: {partition_formt: "{a}/x.csv"}\n');
    assert.equal(
      await rejection(partition.source),
      `${partition.dir}/MLTable:5:45: transformations[1].extract_columns_from_partition_format.partition_formt: unknown field (did you mean "partition_format"?)`,
    );
  });

  it('encodings: unsupported ones are named; JSON lines take only UTF-8-compatible ones', async () => {
    const utf32 = tableWith('  - read_delimited: {encoding: utf32}\n');
    assert.equal(
      await rejection(utf32.source),
      `${utf32.dir}/MLTable:4:22: transformations[0].read_delimited.encoding: "utf32" is not supported by this version of minibatch (Node.js has no UTF-32 decoder); expected one of utf8, utf-8, utf8bom, ascii, latin1, iso88591, utf16, windows1252`,
    );
    const json = tableWith('  - read_json_lines: {encoding: latin1}\n');
    assert.equal(
      await rejection(json.source),
      `${json.dir}/MLTable:4:23: transformations[0].read_json_lines.encoding: "latin1" is not supported by this version of minibatch (JSON lines are read as UTF-8); expected one of utf8, utf-8, utf8bom, ascii`,
    );
    const header = tableWith('  - read_delimited: {header: all_files_different_headers}\n');
    assert.match(await rejection(header.source), /header: "all_files_different_headers" is not supported by this version of minibatch \(every file must have the same columns\)/);
  });

  it('two read transformations are rejected at the second', async () => {
    const { dir, source } = tableWith('  - read_delimited:\n  - take: 5\n  - read_parquet:\n');
    assert.equal(
      await rejection(source),
      `${dir}/MLTable:6:5: transformations[2].read_parquet: only one read transformation is allowed, but transformations[0] is already read_delimited`,
    );
  });

  it('table transformations on a file list are rejected, each at its place', async () => {
    const { dir, source } = tableWith('  - extract_columns_from_partition_format: "{a}/{b}.csv"\n  - drop_columns: [a]\n');
    assert.equal(
      await rejection(source),
      [
        `${dir}/MLTable: 2 problems:`,
        `  ${dir}/MLTable:4:5: transformations[0].extract_columns_from_partition_format: extract_columns_from_partition_format needs a read transformation (read_delimited, read_json_lines or read_parquet); without one the MLTable is a file list`,
        `  ${dir}/MLTable:5:5: transformations[1].drop_columns: drop_columns needs a read transformation (read_delimited, read_json_lines or read_parquet); without one the MLTable is a file list`,
      ].join('\n'),
    );
    const take = tableWith('  - take: 1\n');
    assert.match(await rejection(take.source), /transformations\[0\]\.take: take needs a read transformation/);
  });

  it('a transformation item must be a one-key mapping', async () => {
    const bare = tableWith('  - read_parquet\n');
    assert.equal(await rejection(bare.source), `${bare.dir}/MLTable:4:5: transformations[0]: expected a mapping with one transformation, like read_parquet: …`);
    const two = tableWith('  - read_parquet: {}\n    take: 3\n');
    assert.equal(
      await rejection(two.source),
      `${two.dir}/MLTable:4:5: transformations[0]: expected one transformation per list item, got read_parquet and take (make each its own "- " item)`,
    );
  });

  it('a partition format with a date part or bad braces is rejected at its place', async () => {
    const date = tableWith('  - read_parquet:\n  - extract_columns_from_partition_format: "{Store}/{Date:yyyy/MM/dd}/{f}.parquet"\n');
    assert.equal(
      await rejection(date.source),
      `${date.dir}/MLTable:5:5: transformations[1].extract_columns_from_partition_format: {Date:yyyy/MM/dd}: date formats are not supported by this version of minibatch; expected {name} parts only (capture dates as text, e.g. {year}/{month}/{day})`,
    );
    const mapping = tableWith('  - read_parquet:\n  - extract_columns_from_partition_format:\n      partition_format: "{Store/x.csv"\n');
    assert.equal(
      await rejection(mapping.source),
      `${mapping.dir}/MLTable:6:7: transformations[1].extract_columns_from_partition_format.partition_format: expected "}" to close the "{" at character 1`,
    );
    const twice = tableWith('  - read_parquet:\n  - extract_columns_from_partition_format: "{a}/x"\n  - extract_columns_from_partition_format: "{b}/x"\n');
    assert.match(await rejection(twice.source), /:6:5: transformations\[2\]\.extract_columns_from_partition_format: only one partition format is allowed, but transformations\[1\] already sets one$/);
  });

  it('a missing file or folder names the MLTable line and the resolved path; every problem is reported at once', async () => {
    const dir = folder({ ...DATA, MLTable: 'paths:\n  - file: ./missing.csv\n  - folder: ./nope\n  - file: ./sub\n  - folder: ./a.csv\n  - pattern: ./none/*.csv\n' });
    assert.equal(
      await rejection(readMLTable(dir)),
      [
        `${dir}/MLTable: 4 problems:`,
        `  ${dir}/MLTable:2:5: paths[0].file: file not found: ${dir}/missing.csv`,
        `  ${dir}/MLTable:3:5: paths[1].folder: folder not found: ${dir}/nope`,
        `  ${dir}/MLTable:4:5: paths[2].file: expected a file, but ${dir}/sub is a folder (use folder: or pattern:)`,
        `  ${dir}/MLTable:5:5: paths[3].folder: expected a folder, but ${dir}/a.csv is a file (use file:)`,
      ].join('\n'),
    );
  });

  it('remote URIs are rejected', async () => {
    const dir = folder({ MLTable: 'paths:\n  - file: azureml://datastores/workspaceblobstore/paths/iris.csv\n' });
    assert.equal(
      await rejection(readMLTable(dir)),
      `${dir}/MLTable:2:5: paths[0].file: only local paths are supported by this version of minibatch, got "azureml://datastores/workspaceblobstore/paths/iris.csv"`,
    );
  });

  it('checks the top level: paths required and non-empty, entries with exactly one kind, unknown fields suggested', async () => {
    const cases: [string, string][] = [
      ['transformations: []\n', 'MLTable:1:1: paths: required field is missing (expected a list of {file: …}, {folder: …} or {pattern: …} entries)'],
      ['paths: []\n', 'MLTable:1:1: paths: expected at least one entry ({file: …}, {folder: …} or {pattern: …}), got an empty list'],
      ['paths: [./a.csv]\n', 'MLTable:1:9: paths[0]: expected a mapping with one of file, folder or pattern, got "./a.csv"'],
      ['paths: [{file: a.csv, folder: sub}]\n', 'MLTable:1:9: paths[0]: expected exactly one of file, folder or pattern, got file and folder'],
      ['paths: [{files: a.csv}]\n', 'MLTable:1:10: paths[0].files: unknown field (did you mean "file"?)'],
      ['path: [{file: a.csv}]\n', 'MLTable:1:1: path: unknown field (did you mean "paths"?)'],
      ['paths: [{}]\n', 'MLTable:1:9: paths[0]: expected exactly one of file, folder or pattern, got none'],
      ['type: mltable\npaths: [{file: a.csv}]\ntransformation: []\n', 'MLTable:3:1: transformation: unknown field (did you mean "transformations"?)'],
      ['type: table\npaths: [{file: a.csv}]\n', 'MLTable:1:1: type: expected mltable, got "table"'],
      ['paths: [{file: a.csv}]\ntransformations: {read_parquet: {}}\n', 'MLTable:2:1: transformations: expected a list of transformations, got an object'],
    ];
    for (const [text, expected] of cases) {
      const dir = folder({ ...DATA, MLTable: text });
      assert.equal(await rejection(readMLTable(dir)), `${dir}/${expected}`, text);
    }
    const empty = folder({ MLTable: '# nothing yet\n' });
    assert.equal(await rejection(readMLTable(empty)), `${empty}/MLTable: expected an MLTable (a YAML mapping with paths and transformations)`);
  });
});

describe('parsePartitionFormat', () => {
  it('captures each {name} and the literal text between', () => {
    const format = parsePartitionFormat('{Store}/{Brand}/{file_name}.csv');
    assert.deepEqual(format.keys, ['Store', 'Brand', 'file_name']);
    assert.deepEqual(format.extract('Contoso/Surface/sales-2024.csv'), { Store: 'Contoso', Brand: 'Surface', file_name: 'sales-2024' });
  });

  it('matches the end of the path, from the first partition folder on', () => {
    const format = parsePartitionFormat('{Store}/{Brand}/{file_name}.csv');
    assert.deepEqual(format.extract('data/2024/Contoso/Surface/a.csv'), { Store: 'Contoso', Brand: 'Surface', file_name: 'a' });
    assert.deepEqual(parsePartitionFormat('/{Country}/data.csv').extract('../USA/data.csv'), { Country: 'USA' }, 'a leading / is allowed');
    assert.deepEqual(parsePartitionFormat('./{Country}/data.csv').extract('USA/data.csv'), { Country: 'USA' });
  });

  it('returns undefined when the path does not match', () => {
    const format = parsePartitionFormat('{Store}/{Brand}/{file_name}.csv');
    assert.equal(format.extract('Contoso/a.csv'), undefined, 'too few folders');
    assert.equal(format.extract('Contoso/Surface/a.parquet'), undefined, 'another extension');
    assert.equal(format.extract('Contoso/Surface/a.csv.bak'), undefined, 'the format reaches the end of the path');
    assert.equal(format.extract('Contoso//a.csv'), undefined, 'a column is never empty');
  });

  it('literal parts must match exactly, around and inside segments', () => {
    const format = parsePartitionFormat('year={year}/month={month}/part-{n}.{extension}');
    assert.deepEqual(format.extract('year=2024/month=05/part-3.snappy.parquet'), { year: '2024', month: '05', n: '3.snappy', extension: 'parquet' });
    assert.equal(format.extract('year=2024/mon=05/part-3.parquet'), undefined);
    assert.equal(format.extract('yearx2024/month=05/part-3.parquet'), undefined);
    assert.deepEqual(parsePartitionFormat('a+b (1)/{x}.[csv]').extract('a+b (1)/v.[csv]'), { x: 'v' }, 'regex characters are literal');
    assert.equal(parsePartitionFormat('a+b/{x}.csv').extract('aab/v.csv'), undefined);
  });

  it('splits {file_name}.{extension} at the last dot', () => {
    assert.deepEqual(parsePartitionFormat('{file_name}.{extension}').extract('x/a.b.csv'), { file_name: 'a.b', extension: 'csv' });
  });

  it('rejects malformed formats and date parts with a clear message', () => {
    const cases: [string, string][] = [
      ['{Date:yyyy/MM/dd}/{f}.csv', 'partition format "{Date:yyyy/MM/dd}/{f}.csv": {Date:yyyy/MM/dd}: date formats are not supported by this version of minibatch; expected {name} parts only (capture dates as text, e.g. {year}/{month}/{day})'],
      ['{a/{b}.csv', 'partition format "{a/{b}.csv": expected "}" to close the "{" at character 1 (braces do not nest)'],
      ['{a}/b}.csv', 'partition format "{a}/b}.csv": expected "{" before the "}" at character 6'],
      ['{}/x.csv', 'partition format "{}/x.csv": expected a column name inside the "{}" at character 1'],
      ['{a}/{a}.csv', 'partition format "{a}/{a}.csv": {a} appears twice; each column can be captured once'],
      ['data/x.csv', 'partition format "data/x.csv": expected at least one {column} part, e.g. "{Store}/{file_name}.csv"'],
      ['{a}{b}.csv', 'partition format "{a}{b}.csv": {b} follows another {…} part directly; expected literal text between them, or there is no telling where one ends'],
    ];
    for (const [format, message] of cases) {
      assert.throws(() => parsePartitionFormat(format), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.code, 'E_JOB_INVALID');
        assert.equal(error.message, message);
        return true;
      });
    }
  });
});

describe('inferTabularFormat', () => {
  it('maps extensions, case-insensitively', () => {
    const cases: [string, ReturnType<typeof inferTabularFormat>][] = [
      ['a.csv', 'delimited'],
      ['a.TSV', 'delimited'],
      ['a.txt', undefined],
      ['a.jsonl', 'json_lines'],
      ['a.ndjson', 'json_lines'],
      ['dir/a.json', 'json_lines'],
      ['a.parquet', 'parquet'],
      ['a.pq', 'parquet'],
      ['a.png', undefined],
      ['README', undefined],
    ];
    for (const [file, format] of cases) assert.equal(inferTabularFormat(file), format, file);
  });
});

describe('tabularSourceFromHint', () => {
  it('reads a bare CSV file with the default options', async () => {
    const dir = folder(DATA);
    assert.deepEqual(await tabularSourceFromHint({ type: 'uri_file', path: join(dir, 'a.csv') }, 'delimited'), {
      kind: 'tabular',
      format: 'delimited',
      files: [join(dir, 'a.csv')],
      baseFolder: dir,
      delimited: { delimiter: ',', encoding: 'utf8', header: 'all_files_same_headers', emptyAsString: false },
      transformations: NO_TRANSFORMATIONS,
    });
  });

  it('defaults the delimiter to a tab for .tsv files; a given delimiter wins', async () => {
    const dir = folder({ 'x.tsv': 'a\tb\n', 'deep/y.TSV': 'a\tb\n', 'z.csv': 'a,b\n' });
    assert.equal((await tabularSourceFromHint({ type: 'uri_file', path: join(dir, 'x.tsv') }, 'delimited'))?.delimited?.delimiter, '\t');
    const tsvOnly = folder({ 'x.tsv': '', 'deep/y.TSV': '' });
    assert.equal((await tabularSourceFromHint({ type: 'uri_folder', path: tsvOnly }, 'delimited')).delimited?.delimiter, '\t');
    assert.equal((await tabularSourceFromHint({ type: 'uri_folder', path: dir }, 'delimited')).delimited?.delimiter, ',', 'mixed: comma');
    const given = await tabularSourceFromHint({ type: 'uri_file', path: join(dir, 'x.tsv') }, 'delimited', { delimiter: ';', header: 'no_header' });
    assert.deepEqual(given.delimited, { delimiter: ';', encoding: 'utf8', header: 'no_header', emptyAsString: false });
  });

  it('lists a folder recursively, sorted, hidden files excluded', async () => {
    const dir = folder({ 'b.jsonl': '', 'a/z.jsonl': '', 'a/.hidden.jsonl': '', 'c.jsonl': '' });
    const source = await tabularSourceFromHint({ type: 'uri_folder', path: dir }, 'json_lines');
    assert.deepEqual(source.files, ['a/z.jsonl', 'b.jsonl', 'c.jsonl'].map((path) => join(dir, path)));
    assert.equal(source.baseFolder, dir);
    assert.equal(source.format, 'json_lines');
    assert.equal(source.delimited, undefined);
  });

  it('names a missing path or the wrong kind of path', async () => {
    const dir = folder(DATA);
    assert.equal(await rejection(tabularSourceFromHint({ type: 'uri_file', path: join(dir, 'no.csv') }, 'delimited')), `input path does not exist: ${dir}/no.csv`);
    assert.equal(await rejection(tabularSourceFromHint({ type: 'uri_file', path: dir }, 'parquet')), `expected a file for a uri_file input, but ${dir} is a folder`);
    assert.equal(
      await rejection(tabularSourceFromHint({ type: 'uri_folder', path: join(dir, 'a.csv') }, 'parquet')),
      `expected a folder for a uri_folder input, but ${dir}/a.csv is a file (use type: uri_file)`,
    );
  });
});
