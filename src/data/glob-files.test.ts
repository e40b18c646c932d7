import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { globFiles } from './glob-files.js';
import { tempDir } from '../../test/helpers.js';

/*
 * One tree for every test:
 *   root/a.csv  root/b.txt  root/.hidden.csv  root/.cache/x.csv
 *   root/data/c.csv  root/data/d.parquet  root/data/e.parquet  root/data/deep/f.parquet
 *   root/data/part-1.jsonl  root/logs/2024/part-2.jsonl  root/logs/2024/other.jsonl
 *   other/g.csv (beside root)
 */
let dir: string;
let root: string;

function write(path: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), 'x\n');
}

before(() => {
  dir = tempDir('mb-glob-');
  root = join(dir, 'root');
  for (const path of [
    'root/a.csv',
    'root/b.txt',
    'root/.hidden.csv',
    'root/.cache/x.csv',
    'root/data/c.csv',
    'root/data/d.parquet',
    'root/data/e.parquet',
    'root/data/deep/f.parquet',
    'root/data/part-1.jsonl',
    'root/logs/2024/part-2.jsonl',
    'root/logs/2024/other.jsonl',
    'other/g.csv',
  ]) {
    write(path);
  }
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Matches as paths relative to root, for readable assertions. */
async function glob(pattern: string, base = root): Promise<string[]> {
  const files = await globFiles(base, pattern);
  for (const file of files) assert.ok(file.startsWith('/'), `expected an absolute path, got ${file}`);
  return files.map((file) => relative(root, file));
}

describe('globFiles', () => {
  it('matches ** at any depth, including the top level, in listing order', async () => {
    assert.deepEqual(await glob('./**/*.csv'), ['a.csv', 'data/c.csv']);
    assert.deepEqual(await glob('**/*.csv'), ['a.csv', 'data/c.csv']);
  });

  it('matches * within one folder only', async () => {
    assert.deepEqual(await glob('data/*.parquet'), ['data/d.parquet', 'data/e.parquet']);
    assert.deepEqual(await glob('./data/**/*.parquet'), ['data/d.parquet', 'data/deep/f.parquet', 'data/e.parquet']);
  });

  it('matches name parts under **', async () => {
    assert.deepEqual(await glob('**/part-*.jsonl'), ['data/part-1.jsonl', 'logs/2024/part-2.jsonl']);
  });

  it('supports ?, character classes and braces', async () => {
    assert.deepEqual(await glob('data/[de].parquet'), ['data/d.parquet', 'data/e.parquet']);
    assert.deepEqual(await glob('?.{csv,txt}'), ['a.csv', 'b.txt']);
  });

  it('never lists hidden files or folders', async () => {
    assert.deepEqual(await glob('**/*'), [
      'a.csv',
      'b.txt',
      'data/c.csv',
      'data/d.parquet',
      'data/deep/f.parquet',
      'data/e.parquet',
      'data/part-1.jsonl',
      'logs/2024/other.jsonl',
      'logs/2024/part-2.jsonl',
    ]);
  });

  it('gives an empty list when nothing matches or the fixed folders do not exist', async () => {
    assert.deepEqual(await glob('**/*.xlsx'), []);
    assert.deepEqual(await glob('missing/**/*.csv'), []);
    assert.deepEqual(await glob('a.csv/*'), []);
  });

  it('treats a pattern without wildcards as one file name', async () => {
    assert.deepEqual(await glob('./data/c.csv'), ['data/c.csv']);
    assert.deepEqual(await glob('data/missing.csv'), []);
    assert.deepEqual(await glob('data'), [], 'a folder is not a file');
  });

  it('follows a pattern out of the base folder', async () => {
    assert.deepEqual(await glob('../other/*.csv'), ['../other/g.csv']);
  });

  it('supports negated patterns', async () => {
    assert.deepEqual(await glob('!**/*.{parquet,jsonl}'), ['a.csv', 'b.txt', 'data/c.csv']);
  });

  it('returns absolute paths for a relative base folder', async () => {
    assert.deepEqual(await glob('*.csv', relative(process.cwd(), root)), ['a.csv']);
  });
});
