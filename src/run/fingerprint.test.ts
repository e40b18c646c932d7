import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunFingerprint } from '../store/run-store.js';
import type { ResolvedInput } from '../spec/resolve-job.js';
import { describeChanges, fingerprintInput, fingerprintInputsApart } from './fingerprint.js';
import { tempDir } from '../../test/helpers.js';

const base: RunFingerprint = { sets: [], jobSha256: 'j', codeSha256: 'c' };

function folder(files: number): string {
  const dir = join(tempDir('mb-fingerprint-'), 'data');
  mkdirSync(dir);
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f-${i}.txt`), `${i}\n`);
  return dir;
}

describe('input fingerprint', () => {
  it('counts files added, removed and modified (by size or mtime)', async () => {
    const dir = folder(4);
    const before = await fingerprintInput('data', dir);
    assert.equal(before.files, 4);
    assert.deepEqual(describeChanges({ ...base, inputs: [before] }, { ...base, inputs: [await fingerprintInput('data', dir)] }, 'job.yml', 'src'), []);
    writeFileSync(join(dir, 'new.txt'), 'x');
    rmSync(join(dir, 'f-0.txt'));
    writeFileSync(join(dir, 'f-1.txt'), 'longer\n');
    const now = await fingerprintInput('data', dir);
    assert.deepEqual(describeChanges({ ...base, inputs: [before] }, { ...base, inputs: [now] }, 'job.yml', 'src'), [
      `input data (${dir}) changed: 3 files added/removed/modified (1 added, 1 removed, 1 modified)`,
    ]);
  });

  it('a missing (optional) input has no files; a single file is fingerprinted too', async () => {
    const dir = folder(1);
    assert.equal((await fingerprintInput('gone', join(dir, 'nope'))).files, 0);
    const file = await fingerprintInput('one', join(dir, 'f-0.txt'));
    assert.equal(file.files, 1);
  });

  it('a run journaled without inputs compares nothing about them', async () => {
    const now = await fingerprintInput('data', folder(2));
    assert.deepEqual(describeChanges(base, { ...base, inputs: [now] }, 'job.yml', 'src'), []);
  });

  it('an input of many files keeps only its hash and says the counts', async () => {
    const dir = folder(5_001);
    const before = await fingerprintInput('data', dir);
    assert.equal(before.entries, undefined);
    writeFileSync(join(dir, 'new.txt'), 'x');
    const now = await fingerprintInput('data', dir);
    assert.deepEqual(describeChanges({ ...base, inputs: [before] }, { ...base, inputs: [now] }, 'job.yml', 'src'), [`input data (${dir}) changed: 5001 files before, 5002 now`]);
  });

  it('beside the run: the same result walked here (up to 500 files in all), in a thread given the listing, or in a child process (past 25,000)', async () => {
    const asset = (name: string, path: string) => ({ kind: 'asset', name, path, sourcePath: path }) as unknown as ResolvedInput;
    const small = folder(3);
    const large = folder(499);
    const missing = join(small, 'nope');
    const expected = [await fingerprintInput('a', small), await fingerprintInput('b', large)];
    // 3 + 499 files: past the in-process budget, so both go to the thread.
    const inputs = { a: asset('a', small), b: asset('b', large) };
    assert.deepEqual(await fingerprintInputsApart(inputs), expected);
    assert.deepEqual(await fingerprintInputsApart({ a: asset('a', small) }), [expected[0]]);
    assert.deepEqual(await fingerprintInputsApart({ missing: asset('missing', missing) }), [await fingerprintInput('missing', missing)]);
    // Past the thread's budget: a child process lists and stats them.
    assert.deepEqual(await fingerprintInputsApart(inputs, { inProcessFiles: 10, threadFiles: 100 }), expected);
    // A missing input beside a large one, in the thread and in the child.
    for (const placement of [{ inProcessFiles: 10, threadFiles: 1_000 }, { inProcessFiles: 10, threadFiles: 100 }]) {
      assert.deepEqual(await fingerprintInputsApart({ missing: asset('missing', missing), b: asset('b', large) }, placement), [await fingerprintInput('missing', missing), expected[1]]);
    }
    // A larger budget keeps both here, walked in slices (499 files: several of 128).
    assert.deepEqual(await fingerprintInputsApart(inputs, { inProcessFiles: 1_000, threadFiles: 2_000 }), expected);
  });

  it('an input the child process cannot list is an input error that names what is wrong', async () => {
    const asset = (name: string, path: string) => ({ kind: 'asset', name, path, sourcePath: path }) as unknown as ResolvedInput;
    const dir = folder(20);
    // Past the thread's budget before the folder with the bad name is listed: the child meets it.
    mkdirSync(join(dir, 'z'));
    writeFileSync(Buffer.concat([Buffer.from(join(dir, 'z/')), Buffer.from([0xff, 0x2e, 0x74, 0x78, 0x74])]), 'x');
    await assert.rejects(fingerprintInputsApart({ data: asset('data', dir) }, { inProcessFiles: 1, threadFiles: 5 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'E_JOB_INVALID', 'the code of the error met in the child');
      assert.match(error.message, /z: the file name "\\xff.txt" is not valid UTF-8/);
      return true;
    });
  });
});
