import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { readParquetPart } from '../data/parquet-reader.js';
import { IllegalStateError } from '../errors.js';
import { ParquetRowWriter } from './parquet-output.js';
import { tempDir } from '../../test/helpers.js';

const dir = tempDir('mb-parquet-out-');
let files = 0;

async function write(rows: unknown[], options?: { rowGroupRows?: number; batch?: number }) {
  const path = join(dir, `out-${files++}.parquet`);
  const writer = new ParquetRowWriter(path, options);
  const batch = options?.batch ?? rows.length;
  for (let start = 0; start < rows.length; start += batch) writer.add(rows.slice(start, start + batch));
  const result = await writer.finish();
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const types = Object.fromEntries(metadata.schema.slice(1).map((element) => [element.name, element.converted_type ?? element.type]));
  return { path, result, metadata, types, rows: await parquetReadObjects({ file }) };
}

describe('ParquetRowWriter', () => {
  it('round-trips object rows with types inferred from all their values', async () => {
    const input = [
      { id: 1, score: 0.5, ok: true, name: 'a', mixed: 1, nested: { x: [1, 2] }, none: null },
      { id: 2, score: 2, ok: false, name: 'é', mixed: 'two', nested: [true], none: null },
      { id: null, score: null, ok: null, name: null, mixed: false, nested: null, none: null },
      { id: 2 ** 53 - 1, score: -1e300, ok: true, name: '', mixed: null, nested: 'text', none: null },
    ];
    const { result, types, rows } = await write(input);
    assert.deepEqual(result, { rows: 4 });
    assert.deepEqual(types, { id: 'INT64', score: 'DOUBLE', ok: 'BOOLEAN', name: 'UTF8', mixed: 'UTF8', nested: 'UTF8', none: 'UTF8' });
    assert.deepEqual(rows, [
      { id: 1n, score: 0.5, ok: true, name: 'a', mixed: '1', nested: '{"x":[1,2]}', none: null },
      { id: 2n, score: 2, ok: false, name: 'é', mixed: 'two', nested: '[true]', none: null },
      { id: null, score: null, ok: null, name: null, mixed: 'false', nested: null, none: null },
      { id: 9007199254740991n, score: -1e300, ok: true, name: '', mixed: null, nested: 'text', none: null },
    ]);
  });

  it('maps later objects to the first object\'s columns: missing keys null, extra keys dropped', async () => {
    const { rows } = await write([{ b: 1, a: 'x' }, { a: 'y', c: 3 }, {}]);
    assert.deepEqual(rows, [
      { b: 1n, a: 'x' },
      { b: null, a: 'y' },
      { b: null, a: null },
    ]);
  });

  it('reads back through readParquetPart as the JSON values it was given', async () => {
    const input = Array.from({ length: 2_500 }, (_, i) => ({ i, half: i / 2, even: i % 2 === 0, label: i % 3 === 0 ? null : `row ${i}` }));
    const { path } = await write(input, { rowGroupRows: 1_000 });
    const read = await readParquetPart({ format: 'parquet', file: path, rowStart: 0, rowEnd: 2_500 });
    assert.deepEqual(read.columns, ['i', 'half', 'even', 'label']);
    assert.deepEqual(read.rows, input);
  });

  it('writes rows that are not objects to one column named value', async () => {
    const strings = await write(['a', 'b', null]);
    assert.deepEqual(strings.types, { value: 'UTF8' });
    assert.deepEqual(strings.rows, [{ value: 'a' }, { value: 'b' }, { value: null }]);

    const numbers = await write([1, 2.5, 3]);
    assert.deepEqual(numbers.types, { value: 'DOUBLE' });
    assert.deepEqual(numbers.rows, [{ value: 1 }, { value: 2.5 }, { value: 3 }]);

    const arrays = await write([[1, 'a'], [], ['x', { y: null }]]);
    assert.deepEqual(arrays.types, { value: 'UTF8' });
    assert.deepEqual(arrays.rows, [{ value: '[1,"a"]' }, { value: '[]' }, { value: '["x",{"y":null}]' }]);
  });

  it('adds a value column when objects and other rows are mixed, or shares one named value', async () => {
    const mixed = await write([{ a: 1 }, 'loose line', { a: 2 }]);
    assert.deepEqual(mixed.rows, [
      { a: 1n, value: null },
      { a: null, value: 'loose line' },
      { a: 2n, value: null },
    ]);
    const shared = await write([7, { value: 8, b: true }]);
    assert.deepEqual(shared.rows, [
      { value: 7n, b: null },
      { value: 8n, b: true },
    ]);
  });

  it('writes a valid file with no rows', async () => {
    const { result, metadata, rows, types } = await write([]);
    assert.deepEqual(result, { rows: 0 });
    assert.equal(metadata.num_rows, 0n);
    assert.deepEqual(types, { value: 'UTF8' });
    assert.deepEqual(rows, []);
  });

  it('bounds row groups, spills past one group, and types columns from the last rows too', async () => {
    const input: Record<string, unknown>[] = Array.from({ length: 10_500 }, (_, i) => ({ n: i, s: i % 2 === 0, t: `t${i}` }));
    input.push({ n: 2.5, s: 'late string', t: null });
    const { path, result, metadata, types, rows } = await write(input, { rowGroupRows: 1_000, batch: 333 });
    assert.deepEqual(result, { rows: 10_501 });
    assert.deepEqual(
      metadata.row_groups.map((group) => Number(group.num_rows)),
      [...Array(10).fill(1_000), 501],
    );
    assert.deepEqual(types, { n: 'DOUBLE', s: 'UTF8', t: 'UTF8' });
    assert.deepEqual(rows.at(0), { n: 0, s: 'true', t: 't0' });
    assert.deepEqual(rows.at(-1), { n: 2.5, s: 'late string', t: null });
    assert.equal(rows.length, 10_501);
    assert.equal(existsSync(`${path}.spill`), false, 'the spill is removed');
  });

  it('refuses rows after finish, and abort removes the spill', async () => {
    const path = join(dir, 'aborted.parquet');
    const writer = new ParquetRowWriter(path, { rowGroupRows: 10 });
    writer.add(Array.from({ length: 25 }, (_, i) => i));
    assert.equal(existsSync(`${path}.spill`), true);
    writer.abort();
    assert.equal(existsSync(`${path}.spill`), false);
    assert.throws(() => writer.add([1]), IllegalStateError);

    const finished = new ParquetRowWriter(join(dir, 'finished.parquet'));
    finished.add([1]);
    await finished.finish();
    assert.throws(() => finished.add([2]), IllegalStateError);
    await assert.rejects(finished.finish(), IllegalStateError);
  });
});
