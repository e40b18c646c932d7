import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OverheadTimeoutError, loadMiniBatch, vanishedInputFile, withinTime } from './load-mini-batch.js';
import { tempDir } from '../../test/helpers.js';

describe('loadMiniBatch', () => {
  it('passes the paths of existing files through', async () => {
    const dir = tempDir('mb-load-');
    writeFileSync(join(dir, 'a.txt'), 'a');
    assert.deepEqual(await loadMiniBatch({ kind: 'files', files: [join(dir, 'a.txt')] }, 1000), { data: [join(dir, 'a.txt')], problems: [] });
  });

  it('passes a file list as listed, without a stat: a vanished file is named only after run() fails', () => {
    const dir = tempDir('mb-load-');
    assert.deepEqual(loadMiniBatch({ kind: 'files', files: [join(dir, 'gone.txt')] }, 1000), { data: [join(dir, 'gone.txt')], problems: [] });
    writeFileSync(join(dir, 'a.txt'), 'a');
    assert.equal(vanishedInputFile([join(dir, 'a.txt')]), undefined);
    assert.equal(vanishedInputFile([join(dir, 'a.txt'), join(dir, 'gone.txt')])?.message, `input file ${join(dir, 'gone.txt')} cannot be read: it no longer exists`);
    mkdirSync(join(dir, 'folder'));
    assert.equal(vanishedInputFile([join(dir, 'folder')])?.message, `input file ${join(dir, 'folder')} is no longer a file`);
  });

  it('reads a table the same way before its reader is loaded (a promise) and after (at once)', async () => {
    const dir = tempDir('mb-load-');
    const file = join(dir, 'rows.csv');
    writeFileSync(file, '1,a\n2,b\n3\n');
    const part = { format: 'delimited' as const, file, start: 0, end: 10, line: 1, rows: 3, columns: [{ name: 'n', type: 'number' as const }, { name: 's', type: 'string' as const }], options: { delimiter: ',', encoding: 'utf8' as const, header: 'no_header' as const, emptyAsString: false } };
    const descriptor = { kind: 'table' as const, parts: [part], shape: { dropColumns: ['s'] }, partitionKeyValue: undefined };
    const first = loadMiniBatch(descriptor, 1000);
    assert.ok(first instanceof Promise, 'the first table mini-batch loads its reader');
    const second = loadMiniBatch(descriptor, 1000);
    const loaded = await first;
    const again = loadMiniBatch(descriptor, 1000);
    assert.ok(!(again instanceof Promise), 'once loaded, a delimited part is read at once');
    for (const result of [loaded, await second, again]) {
      assert.deepEqual([...result.data], [{ n: 1 }, { n: 2 }]);
      assert.deepEqual((result.data as { columns: readonly string[] }).columns, ['n']);
      assert.deepEqual(result.problems, [{ file, line: 3, message: 'expected 2 fields, got 1' }]);
    }
  });

  it('fails with OverheadTimeoutError when loading outlasts overhead_timeout', async () => {
    const never = new Promise<string[]>(() => {});
    await assert.rejects(withinTime(never, 20), (error: unknown) => {
      assert.ok(error instanceof OverheadTimeoutError);
      assert.equal(error.message, 'loading the mini-batch exceeded overhead_timeout (0.02s)');
      return true;
    });
  });
});
