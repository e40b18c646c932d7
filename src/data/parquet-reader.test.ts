import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parquetWriteFile } from 'hyparquet-writer';
import { writeEmptyParquet, writeMixedParquet, type MixedFile } from '../../test/fixtures/parquet/make-parquet.js';
import type { ParquetPart } from './descriptors.js';
import { readParquetPart } from './parquet-reader.js';
import { splitParquet } from './parquet-splitter.js';
import { tempDir } from '../../test/helpers.js';

describe('readParquetPart', () => {
  const dir = tempDir('mb-parquet-read-');
  const file = join(dir, 'mixed.parquet');
  let mixed: MixedFile;
  const whole = (): ParquetPart => ({ format: 'parquet', file, rowStart: 0, rowEnd: 10_000 });

  before(() => {
    mixed = writeMixedParquet(file, 10_000, 1_000);
  });

  it('reads the whole file as plain JSON-safe rows in schema order', async () => {
    const read = await readParquetPart(whole());
    assert.deepEqual(read.columns, mixed.columns);
    assert.deepEqual(read.rows, mixed.expected);
    assert.deepEqual(Object.keys(read.rows[1] as object), mixed.columns);
    // spot checks of the documented conversions
    assert.deepEqual(read.rows[11], {
      id: 11,
      big: (2n ** 60n + 11n).toString(),
      price: 2.75,
      name: 'név 11',
      flag: false,
      ts: '2024-01-01T00:00:11.000Z',
      micros: '2024-01-01T00:00:00.000011Z',
      day: '2022-01-19',
      tags: { i: 11, even: false },
    });
    assert.equal(read.rows[0]?.big, null);
    assert.equal(read.rows[1]?.big, 1000);
    assert.doesNotThrow(() => JSON.stringify(read.rows));
  });

  it('returns the same rows part by part as for the whole file, for any split', async () => {
    const all = (await readParquetPart(whole())).rows;
    for (const target of [1, 30_000, 100_000]) {
      const rows: Record<string, unknown>[] = [];
      for await (const part of splitParquet(file, target)) {
        const read = await readParquetPart(part);
        assert.equal(read.rows.length, part.rowEnd - part.rowStart);
        rows.push(...read.rows);
      }
      assert.deepEqual(rows, all, `target ${target}`);
    }
  });

  it('reads a range that is not aligned to row groups', async () => {
    const read = await readParquetPart({ format: 'parquet', file, rowStart: 1_500, rowEnd: 2_501 });
    assert.deepEqual(read.rows, mixed.expected.slice(1_500, 2_501));
  });

  it('reads only the columns asked for, in the schema order', async () => {
    const read = await readParquetPart({ format: 'parquet', file, rowStart: 10, rowEnd: 13 }, ['ts', 'id', 'name']);
    assert.deepEqual(read.columns, ['id', 'name', 'ts']);
    assert.deepEqual(read.rows, [
      { id: 10, name: 'név 10', ts: '2024-01-01T00:00:10.000Z' },
      { id: 11, name: 'név 11', ts: '2024-01-01T00:00:11.000Z' },
      { id: 12, name: null, ts: null },
    ]);
    const none = await readParquetPart({ format: 'parquet', file, rowStart: 0, rowEnd: 3 }, []);
    assert.deepEqual(none, { columns: [], rows: [{}, {}, {}] });
  });

  it('names a column the file does not have', async () => {
    await assert.rejects(readParquetPart(whole(), ['id', 'nope']), {
      message: `${file}: no column "nope" (its columns: ${mixed.columns.join(', ')})`,
    });
  });

  it('fails a part beyond the end of the file (the file changed since it was split)', async () => {
    await assert.rejects(readParquetPart({ format: 'parquet', file, rowStart: 9_000, rowEnd: 12_000 }), {
      message: `${file}: the file has 10000 rows, fewer than when it was split (this part is rows 9000-12000)`,
    });
  });

  it('reads an empty range and a file without rows', async () => {
    assert.deepEqual((await readParquetPart({ format: 'parquet', file, rowStart: 5, rowEnd: 5 })).rows, []);
    const empty = join(dir, 'empty.parquet');
    writeEmptyParquet(empty);
    assert.deepEqual(await readParquetPart({ format: 'parquet', file: empty, rowStart: 0, rowEnd: 0 }), { columns: ['a', 'b'], rows: [] });
  });

  it('keeps sub-millisecond precision and times before 1970', async () => {
    const times = join(dir, 'times.parquet');
    parquetWriteFile({
      filename: times,
      columnData: [
        { name: 'us', data: [-1n, 1_700_000_000_123_456n, 0n] },
        { name: 'ns', data: [-1n, 1_700_000_000_123_456_789n, 5n] },
        { name: 'raw', data: [2n ** 53n, -(2n ** 53n) + 1n, 7n] },
        { name: 'bytes', data: [new Uint8Array([1, 2, 3]), new Uint8Array([255, 0, 1]), null] },
      ],
      schema: [
        { name: 'root', num_children: 4 },
        { name: 'us', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'REQUIRED' },
        { name: 'ns', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' }, repetition_type: 'REQUIRED' },
        { name: 'raw', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'bytes', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 3, repetition_type: 'OPTIONAL' },
      ],
    });
    const read = await readParquetPart({ format: 'parquet', file: times, rowStart: 0, rowEnd: 3 });
    assert.deepEqual(read.rows, [
      { us: '1969-12-31T23:59:59.999999Z', ns: '1969-12-31T23:59:59.999999999Z', raw: '9007199254740992', bytes: 'AQID' },
      { us: '2023-11-14T22:13:20.123456Z', ns: '2023-11-14T22:13:20.123456789Z', raw: -9007199254740991, bytes: '/wAB' },
      { us: '1970-01-01T00:00:00.000Z', ns: '1970-01-01T00:00:00.000000005Z', raw: 7, bytes: null },
    ]);
  });

  it('fails a file that is not Parquet with the splitter\'s message', async () => {
    const text = join(dir, 'text.parquet');
    writeFileSync(text, 'hello\n'.repeat(10));
    await assert.rejects(readParquetPart({ format: 'parquet', file: text, rowStart: 0, rowEnd: 1 }), {
      code: 'E_JOB_INVALID',
      message: `${text}: not a valid Parquet file: it does not start with "PAR1"`,
    });
  });

  it('notices that a file was replaced since its footer was cached', async () => {
    const changing = join(dir, 'changing.parquet');
    writeMixedParquet(changing, 100, 50);
    assert.equal((await readParquetPart({ format: 'parquet', file: changing, rowStart: 0, rowEnd: 100 })).rows.length, 100);
    writeMixedParquet(changing, 300, 50);
    const read = await readParquetPart({ format: 'parquet', file: changing, rowStart: 250, rowEnd: 300 });
    assert.deepEqual(read.rows.map((row) => row.id), Array.from({ length: 50 }, (_, index) => 250 + index));
  });
});
