import assert from 'node:assert/strict';
import { openSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parquetWriteFile } from 'hyparquet-writer';
import { writeEmptyParquet, writeMixedParquet } from '../../test/fixtures/parquet/make-parquet.js';
import { InvalidInputError } from '../errors.js';
import type { ParquetPart } from './descriptors.js';
import { parquetColumns, parquetRowCount, readParquetMetadata, splitParquet } from './parquet-splitter.js';
import { tempDir } from '../../test/helpers.js';

async function collect(parts: AsyncGenerator<ParquetPart>): Promise<ParquetPart[]> {
  const out: ParquetPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

describe('splitParquet', () => {
  const dir = tempDir('mb-parquet-split-');
  const file = join(dir, 'mixed.parquet');
  /** Row index where each row group starts, plus the total at the end. */
  let boundaries: number[] = [];
  let groupBytes: number[] = [];

  before(async () => {
    writeMixedParquet(file, 10_000, 1_000);
    const metadata = await readParquetMetadata(file);
    boundaries = [0];
    for (const group of metadata.row_groups) {
      boundaries.push((boundaries.at(-1) as number) + Number(group.num_rows));
      groupBytes.push(Number(group.total_compressed_size));
    }
  });

  it('covers every row once, in order, in whole row groups, for any target', async () => {
    assert.equal(boundaries.length, 11);
    const totalBytes = groupBytes.reduce((sum, bytes) => sum + bytes, 0);
    const average = totalBytes / groupBytes.length;
    for (const target of [1, average, average * 2.5, average * 4, totalBytes - 1, totalBytes, Infinity]) {
      const parts = await collect(splitParquet(file, target));
      assert.ok(parts.length > 0);
      let next = 0;
      for (const part of parts) {
        assert.equal(part.format, 'parquet');
        assert.equal(part.file, file);
        assert.equal(part.rowStart, next, `target ${target}: parts are consecutive`);
        assert.ok(part.rowEnd > part.rowStart);
        assert.ok(boundaries.includes(part.rowStart) && boundaries.includes(part.rowEnd), `target ${target}: aligned to row groups`);
        next = part.rowEnd;
      }
      assert.equal(next, 10_000, `target ${target}: every row`);
      // A part closes at the first row group that brings it to the target, never later.
      parts.forEach((part, index) => {
        const first = boundaries.indexOf(part.rowStart);
        const last = boundaries.indexOf(part.rowEnd);
        const bytes = groupBytes.slice(first, last).reduce((sum, value) => sum + value, 0);
        const withoutLast = bytes - (groupBytes[last - 1] as number);
        assert.ok(withoutLast < target, `target ${target}: part ${index} is not bigger than needed`);
        if (index < parts.length - 1) assert.ok(bytes >= target, `target ${target}: part ${index} reaches the target`);
      });
    }
    assert.equal((await collect(splitParquet(file, 1))).length, 10, 'a tiny target gives one part per row group');
    assert.deepEqual(await collect(splitParquet(file, Infinity)), [{ format: 'parquet', file, rowStart: 0, rowEnd: 10_000 }]);
  });

  it('makes one part of a file with a single row group, however small the target', async () => {
    const single = join(dir, 'single.parquet');
    writeMixedParquet(single, 5_000, 100_000);
    assert.deepEqual(await collect(splitParquet(single, 1)), [{ format: 'parquet', file: single, rowStart: 0, rowEnd: 5_000 }]);
  });

  it('yields no part for a file without rows', async () => {
    const empty = join(dir, 'empty.parquet');
    writeEmptyParquet(empty);
    assert.deepEqual(await collect(splitParquet(empty, 1024)), []);
    assert.equal(await parquetRowCount(empty), 0);
    assert.deepEqual(await parquetColumns(empty), [
      { name: 'a', type: 'number' },
      { name: 'b', type: 'string' },
    ]);
  });

  it('reads only the footer: a file whose data pages are garbage still splits', async () => {
    const damaged = join(dir, 'damaged.parquet');
    writeFileSync(damaged, readFileSync(file));
    const size = statSync(damaged).size;
    const metadata = await readParquetMetadata(file);
    const footerStart = size - 8 - metadata.metadata_length;
    const fd = openSync(damaged, 'r+');
    // everything between the leading magic and the footer (data pages and page indexes)
    writeSync(fd, Buffer.alloc(footerStart - 4, 0xff), 0, footerStart - 4, 4);
    closeSync(fd);
    const parts = await collect(splitParquet(damaged, 1));
    assert.equal(parts.length, 10);
    assert.equal(await parquetRowCount(damaged), 10_000);
  });

  it('counts rows and types the columns as the reader returns them', async () => {
    assert.equal(await parquetRowCount(file), 10_000);
    assert.deepEqual(await parquetColumns(file), [
      { name: 'id', type: 'number' },
      { name: 'big', type: 'number' },
      { name: 'price', type: 'number' },
      { name: 'name', type: 'string' },
      { name: 'flag', type: 'boolean' },
      { name: 'ts', type: 'string' },
      { name: 'micros', type: 'string' },
      { name: 'day', type: 'string' },
      { name: 'tags', type: 'other' },
    ]);
  });

  it('fails a file compressed with a codec the reader cannot decode, before any mini-batch runs', async () => {
    const gzip = join(dir, 'gzip.parquet');
    // the "compressor" only has to exist for the footer to say GZIP; nothing reads the pages
    parquetWriteFile({ filename: gzip, codec: 'GZIP', compressors: { GZIP: (input) => input }, columnData: [{ name: 'a', data: [1, 2], type: 'INT32' }] });
    await assert.rejects(collect(splitParquet(gzip, 1024)), {
      code: 'E_JOB_INVALID',
      message: `${gzip}: compressed with GZIP, which minibatch cannot read yet (it reads SNAPPY and uncompressed Parquet files)`,
    });
  });

  it('rejects a target that is not positive', async () => {
    await assert.rejects(collect(splitParquet(file, 0)), RangeError);
    await assert.rejects(collect(splitParquet(file, Number.NaN)), RangeError);
  });

  describe('a file that is not Parquet', () => {
    const cases: [string, () => string, string][] = [
      ['a text file', () => write('notes.parquet', 'id,name\n1,a\n2,b\n3,c\n'), 'it does not start with "PAR1"'],
      ['an empty file', () => write('empty-bytes.parquet', ''), 'the file is empty'],
      ['a file of a few bytes', () => write('tiny.parquet', 'PAR1PAR1'), 'the file has only 8 bytes'],
      ['a truncated file', () => write('truncated.parquet', readFileSync(file).subarray(0, 20_000)), 'it does not end with "PAR1" (truncated, or not Parquet)'],
    ];
    function write(name: string, content: string | Buffer): string {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    }

    for (const [label, make, reason] of cases) {
      it(`fails ${label} with E_JOB_INVALID naming the file`, async () => {
        const path = make();
        const expected = (error: unknown) => {
          assert.ok(error instanceof InvalidInputError);
          assert.equal(error.code, 'E_JOB_INVALID');
          assert.equal(error.message, `${path}: not a valid Parquet file: ${reason}`);
          return true;
        };
        await assert.rejects(collect(splitParquet(path, 1024)), expected);
        await assert.rejects(parquetRowCount(path), expected);
        await assert.rejects(parquetColumns(path), expected);
      });
    }

    it('fails a file with both magics but a garbage footer', async () => {
      const path = write('garbage.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 0x7f), Buffer.from([16, 0, 0, 0]), Buffer.from('PAR1')]));
      await assert.rejects(collect(splitParquet(path, 1024)), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.code, 'E_JOB_INVALID');
        assert.match(error.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid Parquet file: its footer cannot be read \\(.+\\)$`));
        return true;
      });
    });
  });
});
