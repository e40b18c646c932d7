import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors.js';
import { listFileChunks, listFiles } from './file-list.js';
import { tempDir } from '../../test/helpers.js';

async function list(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const file of listFiles(folder)) files.push(file);
  return files;
}

describe('listFiles: names that are not UTF-8', () => {
  it('refuses a name that is not UTF-8, naming the folder and the name with its bad bytes escaped', async () => {
    const dir = tempDir('mb-list-');
    writeFileSync(join(dir, 'ok.txt'), 'x');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('-été.txt')]), 'x');
    await assert.rejects(list(dir), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.message, `${dir}: the file name "caf\\xe9-été.txt" is not valid UTF-8; minibatch hands paths to scripts as text, so rename it (e.g. convmv -f latin1 -t utf8 --notest)`);
      return true;
    });
  });

  it('lists a name that really holds U+FFFD, and ignores a hidden name that is not UTF-8', async () => {
    const dir = tempDir('mb-list-');
    writeFileSync(join(dir, 'a\uFFFD.txt'), 'x');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/.hidden`), Buffer.from([0xff])]), 'x');
    assert.deepEqual(await list(dir), [join(dir, 'a\uFFFD.txt')]);
  });
});

describe('listFiles: order and runs', () => {
  it('lists depth first with entries sorted at each level, hidden ones left out, symlink loops cut; runs hold consecutive files of one folder', async () => {
    const dir = tempDir('mb-list-');
    for (const folder of ['b', 'b/d', 'c', '.hidden']) mkdirSync(join(dir, folder));
    for (const file of ['a.txt', 'b/a.txt', 'b/d/x.txt', 'b/e.txt', 'c.txt', 'c/1.txt', '.hidden/no.txt', 'b/.no.txt']) writeFileSync(join(dir, file), 'x');
    symlinkSync(join(dir, 'b', 'd'), join(dir, 'z-link')); // listed under its own name
    symlinkSync(dir, join(dir, 'c', 'loop')); // back to the root: cut
    const expected = ['a.txt', 'b/a.txt', 'b/d/x.txt', 'b/e.txt', 'c/1.txt', 'c.txt', 'z-link/x.txt'].map((name) => join(dir, name));
    assert.deepEqual(await list(dir), expected);
    const runs: string[][] = [];
    for await (const run of listFileChunks(dir)) runs.push(run);
    assert.deepEqual(runs.flat(), expected);
    assert.ok(runs.every((run) => new Set(run.map((path) => path.slice(0, path.lastIndexOf('/')))).size === 1), 'a run never spans folders');
  });

  it('cuts a large folder into runs of at most 1,024 files, in order', async () => {
    const dir = tempDir('mb-list-');
    const names = Array.from({ length: 2_500 }, (_, i) => `f-${String(i).padStart(5, '0')}.txt`);
    for (const name of names) writeFileSync(join(dir, name), 'x');
    const runs: string[][] = [];
    for await (const run of listFileChunks(dir)) runs.push(run);
    assert.deepEqual(runs.map((run) => run.length), [1024, 1024, 452]);
    assert.deepEqual(runs.flat(), names.map((name) => join(dir, name)));
  });
});
