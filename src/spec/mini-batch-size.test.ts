import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors.js';
import { parseMiniBatchSize, parseMiniBatchSizeOrThrow } from './mini-batch-size.js';

const FORMAT_ERROR = 'expected a file count like "10" or a size like "10kb", "1MB" (digits, then optionally kb, mb or gb), got';

describe('parseMiniBatchSize', () => {
  it('reads digits alone as a count, whether written as a string or a number', () => {
    assert.deepEqual(parseMiniBatchSize('10'), { kind: 'count', count: 10 });
    assert.deepEqual(parseMiniBatchSize(10), { kind: 'count', count: 10 });
    assert.deepEqual(parseMiniBatchSize('1'), { kind: 'count', count: 1 });
  });

  it('reads kb, mb and gb as bytes with units of 1024, in any case', () => {
    assert.deepEqual(parseMiniBatchSize('10kb'), { kind: 'bytes', bytes: 10 * 1024 });
    assert.deepEqual(parseMiniBatchSize('10KB'), { kind: 'bytes', bytes: 10_240 });
    assert.deepEqual(parseMiniBatchSize('1MB'), { kind: 'bytes', bytes: 1_048_576 });
    assert.deepEqual(parseMiniBatchSize('1gb'), { kind: 'bytes', bytes: 1_073_741_824 });
    assert.deepEqual(parseMiniBatchSize('3Mb'), { kind: 'bytes', bytes: 3 * 1024 ** 2 });
  });

  it('reads auto in any case, and says "or auto" for a word that is not', () => {
    assert.deepEqual(parseMiniBatchSize('auto'), { kind: 'auto' });
    assert.deepEqual(parseMiniBatchSize(' Auto '), { kind: 'auto' });
    assert.equal(parseMiniBatchSize('atuo'), 'expected a file count like "10", a size like "10kb", or auto, got "atuo"');
    assert.equal(parseMiniBatchSize('automatic'), 'expected a file count like "10", a size like "10kb", or auto, got "automatic"');
  });

  it('rejects zero with its own message', () => {
    assert.equal(parseMiniBatchSize('0'), 'expected a size greater than 0, got "0"');
    assert.equal(parseMiniBatchSize(0), 'expected a size greater than 0, got 0');
    assert.equal(parseMiniBatchSize('0kb'), 'expected a size greater than 0, got "0kb"');
  });

  it('rejects text that is not digits with an optional unit, quoting what was given', () => {
    assert.equal(parseMiniBatchSize('10xb'), `${FORMAT_ERROR} "10xb"`);
    assert.equal(parseMiniBatchSize('-1'), `${FORMAT_ERROR} "-1"`);
    assert.equal(parseMiniBatchSize('1.5mb'), `${FORMAT_ERROR} "1.5mb"`);
    assert.equal(parseMiniBatchSize(''), `${FORMAT_ERROR} ""`);
    assert.equal(parseMiniBatchSize('10 kb'), `${FORMAT_ERROR} "10 kb"`);
    assert.equal(parseMiniBatchSize(-1), `${FORMAT_ERROR} -1`);
    assert.equal(parseMiniBatchSize(1.5), `${FORMAT_ERROR} 1.5`);
  });

  it('rejects values that are neither a string nor a number', () => {
    const message = 'expected a file count like "10" or a size like "10kb", "1MB", or auto, got';
    assert.equal(parseMiniBatchSize({ size: 10 }), `${message} an object`);
    assert.equal(parseMiniBatchSize(['10']), `${message} an array of 1`);
    assert.equal(parseMiniBatchSize(true), `${message} true`);
    assert.equal(parseMiniBatchSize(null), `${message} null`);
    assert.equal(parseMiniBatchSize(undefined), `${message} undefined`);
  });
});

describe('parseMiniBatchSizeOrThrow', () => {
  it('returns the parsed size', () => {
    assert.deepEqual(parseMiniBatchSizeOrThrow('2kb', 'mini_batch_size'), { kind: 'bytes', bytes: 2048 });
  });

  it('throws an InvalidInputError prefixed by where the value came from', () => {
    assert.throws(
      () => parseMiniBatchSizeOrThrow('10xb', 'job.yml:3:1: mini_batch_size'),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.code, 'E_JOB_INVALID');
        assert.equal(error.message, `job.yml:3:1: mini_batch_size: ${FORMAT_ERROR} "10xb"`);
        return true;
      },
    );
  });
});
