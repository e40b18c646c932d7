import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors.js';
import { listFiles } from './file-list.js';

async function list(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const file of listFiles(folder)) files.push(file);
  return files;
}

describe('listFiles: names that are not UTF-8', () => {
  it('refuses a name that is not UTF-8, naming the folder and the name with its bad bytes escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-list-'));
    writeFileSync(join(dir, 'ok.txt'), 'x');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('-été.txt')]), 'x');
    await assert.rejects(list(dir), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.equal(error.message, `${dir}: the file name "caf\\xe9-été.txt" is not valid UTF-8; minibatch hands paths to scripts as text, so rename it (e.g. convmv -f latin1 -t utf8 --notest)`);
      return true;
    });
  });

  it('lists a name that really holds U+FFFD, and ignores a hidden name that is not UTF-8', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-list-'));
    writeFileSync(join(dir, 'a\uFFFD.txt'), 'x');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/.hidden`), Buffer.from([0xff])]), 'x');
    assert.deepEqual(await list(dir), [join(dir, 'a\uFFFD.txt')]);
  });
});
