import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunFingerprint } from '../store/run-store.js';
import type { ResolvedInput } from '../spec/resolve-job.js';
import { describeChanges, fingerprintInput, fingerprintInputsApart, inProcessFingerprintFiles } from './fingerprint.js';
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

  it('beside the run: small inputs in this process, past 500 files in all in a child process, with the same result', async () => {
    const asset = (name: string, path: string) => ({ kind: 'asset', name, path, sourcePath: path }) as unknown as ResolvedInput;
    const small = folder(3);
    const large = folder(499);
    // 3 + 499 files: the second input goes past the budget, so both are fingerprinted by the child
    const inputs = { a: asset('a', small), b: asset('b', large) };
    const apart = await fingerprintInputsApart(inputs);
    assert.deepEqual(apart, [await fingerprintInput('a', small), await fingerprintInput('b', large)]);
    assert.deepEqual(await fingerprintInputsApart({ a: asset('a', small) }), [await fingerprintInput('a', small)]);
    assert.deepEqual(await fingerprintInputsApart({ missing: asset('missing', join(small, 'nope')) }), [await fingerprintInput('missing', join(small, 'nope'))]);
    // A larger budget keeps both here, walked in slices (499 files: several of 128): the same result.
    assert.deepEqual(await fingerprintInputsApart(inputs, 1_000), apart);
  });

  it('walks up to 25,000 files in the controller when the workers take every core but its own, 500 when a core is free for a child', () => {
    assert.equal(inProcessFingerprintFiles(2, 2), 25_000);
    assert.equal(inProcessFingerprintFiles(2, 3), 25_000);
    assert.equal(inProcessFingerprintFiles(2, 4), 500);
    assert.equal(inProcessFingerprintFiles(0, 2), 500, 'workers elsewhere (a Redis compute)');
  });
});
