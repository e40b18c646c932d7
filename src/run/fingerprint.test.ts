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

  it('beside the run: small inputs in this thread, past 500 files in all in a worker thread, with the same result', async () => {
    const asset = (name: string, path: string) => ({ kind: 'asset', name, path, sourcePath: path }) as unknown as ResolvedInput;
    const small = folder(3);
    const large = folder(499);
    // 3 + 499 files: the second input goes past the budget, so both are fingerprinted by the thread
    const inputs = { a: asset('a', small), b: asset('b', large) };
    const apart = await fingerprintInputsApart(inputs);
    assert.deepEqual(apart, [await fingerprintInput('a', small), await fingerprintInput('b', large)]);
    assert.deepEqual(await fingerprintInputsApart({ a: asset('a', small) }), [await fingerprintInput('a', small)]);
    assert.deepEqual(await fingerprintInputsApart({ missing: asset('missing', join(small, 'nope')) }), [await fingerprintInput('missing', join(small, 'nope'))]);
    // A missing input beside a large one: the thread answers for both.
    assert.deepEqual(await fingerprintInputsApart({ missing: asset('missing', join(small, 'nope')), b: asset('b', large) }, 10), [
      await fingerprintInput('missing', join(small, 'nope')),
      await fingerprintInput('b', large),
    ]);
    // A larger budget keeps both here, walked in slices (499 files: several of 128): the same result.
    assert.deepEqual(await fingerprintInputsApart(inputs, 1_000), apart);
  });

  it('an input the thread cannot list is an input error that names what is wrong', async () => {
    const asset = (name: string, path: string) => ({ kind: 'asset', name, path, sourcePath: path }) as unknown as ResolvedInput;
    const dir = folder(20);
    // Past the budget before the folder with the bad name is listed: the thread meets it.
    mkdirSync(join(dir, 'z'));
    writeFileSync(Buffer.concat([Buffer.from(join(dir, 'z/')), Buffer.from([0xff, 0x2e, 0x74, 0x78, 0x74])]), 'x');
    await assert.rejects(fingerprintInputsApart({ data: asset('data', dir) }, 5), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'E_JOB_INVALID', 'the code of the error met in the thread');
      assert.match(error.message, /z: the file name "\\xff.txt" is not valid UTF-8/);
      return true;
    });
  });
});
