import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MinibatchError } from '../errors.js';
import { AppendOnlyLog } from './run-journal.js';
import { tempDir } from '../../test/helpers.js';

interface Entry {
  n: number;
  text?: string;
}

let root: string;
let counter = 0;

before(() => {
  root = tempDir('mb-run-journal-');
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

function freshPath(): string {
  counter++;
  return join(root, `log-${counter}.log`);
}

/** Writes `entries` through the log and closes it; returns the file's bytes. */
async function writeLog(path: string, entries: Entry[]): Promise<Buffer> {
  const { log, records } = AppendOnlyLog.open<Entry>(path);
  assert.deepEqual(records, []);
  for (const entry of entries) log.append(entry);
  await log.close();
  return readFileSync(path);
}

async function reopen(path: string): Promise<Entry[]> {
  const { log, records } = AppendOnlyLog.open<Entry>(path);
  await log.close();
  return records;
}

/** Byte offsets where each line starts, and the file length at the end. */
function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
}

const THREE: Entry[] = [{ n: 1 }, { n: 2, text: 'two' }, { n: 3, text: 'dröi ✓' }];

describe('AppendOnlyLog', () => {
  it('starts empty when the file does not exist, and creates it', async () => {
    const path = freshPath();
    const { log, records } = AppendOnlyLog.open<Entry>(path);
    assert.deepEqual(records, []);
    assert.equal(statSync(path).size, 0);
    await log.close();
  });

  it('replays what was appended, in order', async () => {
    const path = freshPath();
    await writeLog(path, THREE);
    assert.deepEqual(await reopen(path), THREE);
  });

  it('writes one "<crc32 hex>\\t<json>\\n" line per record', async () => {
    const path = freshPath();
    const bytes = await writeLog(path, THREE);
    const lines = bytes.toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a newline');
    assert.equal(lines.length, 3);
    lines.forEach((line, index) => {
      const json = JSON.stringify(THREE[index]);
      assert.equal(line, `${crc32(json).toString(16).padStart(8, '0')}\t${json}`);
    });
  });

  it('writes nothing until flushed', async () => {
    const path = freshPath();
    const { log } = AppendOnlyLog.open<Entry>(path);
    log.append({ n: 1 });
    assert.equal(statSync(path).size, 0);
    await log.flush();
    assert.ok(statSync(path).size > 0);
    await log.close();
  });

  it('keeps appending after a reopen', async () => {
    const path = freshPath();
    await writeLog(path, THREE.slice(0, 2));
    const { log, records } = AppendOnlyLog.open<Entry>(path);
    assert.deepEqual(records, THREE.slice(0, 2));
    log.append(THREE[2] as Entry);
    await log.close();
    assert.deepEqual(await reopen(path), THREE);
  });

  it('keeps the order of appends across concurrent flushes', async () => {
    const path = freshPath();
    const { log } = AppendOnlyLog.open<Entry>(path);
    const flushes: Promise<void>[] = [];
    for (let n = 0; n < 20; n++) {
      log.append({ n });
      flushes.push(log.flush());
    }
    await Promise.all(flushes);
    await log.close();
    assert.deepEqual(
      (await reopen(path)).map((entry) => entry.n),
      Array.from({ length: 20 }, (_, n) => n),
    );
  });

  it('refuses appends after close', async () => {
    const path = freshPath();
    const { log } = AppendOnlyLog.open<Entry>(path);
    await log.close();
    assert.throws(
      () => log.append({ n: 1 }),
      (error: unknown) => error instanceof MinibatchError && error.code === 'E_ILLEGAL_STATE',
    );
  });

  describe('a torn last record', () => {
    for (const cut of [1, 5, 'half'] as const) {
      it(`is dropped and cut off when ${cut === 'half' ? 'half of it' : `${cut} byte(s)`} went missing, and appends work again`, async () => {
        const path = freshPath();
        const bytes = await writeLog(path, THREE);
        const starts = lineStarts(bytes);
        const lastStart = starts[2] as number;
        const length = cut === 'half' ? lastStart + Math.floor((bytes.length - lastStart) / 2) : bytes.length - cut;
        truncateSync(path, length);

        const { log, records } = AppendOnlyLog.open<Entry>(path);
        assert.deepEqual(records, THREE.slice(0, 2));
        assert.equal(statSync(path).size, lastStart, 'the torn bytes are cut off');
        log.append({ n: 4 });
        await log.close();
        assert.deepEqual(await reopen(path), [...THREE.slice(0, 2), { n: 4 }]);
      });
    }

    it('is dropped when its checksum is bad, and appends work again', async () => {
      const path = freshPath();
      const bytes = await writeLog(path, THREE);
      const lastStart = lineStarts(bytes)[2] as number;
      const damaged = Buffer.from(bytes);
      damaged[lastStart] = damaged[lastStart] === 0x30 ? 0x31 : 0x30; // first hex digit of the checksum
      writeFileSync(path, damaged);

      const { log, records } = AppendOnlyLog.open<Entry>(path);
      assert.deepEqual(records, THREE.slice(0, 2));
      assert.equal(statSync(path).size, lastStart);
      log.append({ n: 4 });
      await log.close();
      assert.deepEqual(await reopen(path), [...THREE.slice(0, 2), { n: 4 }]);
    });

    it('is dropped when its JSON was damaged', async () => {
      const path = freshPath();
      const bytes = await writeLog(path, THREE);
      const lastStart = lineStarts(bytes)[2] as number;
      const damaged = Buffer.from(bytes);
      damaged[damaged.length - 3] = 0x21; // a character inside the last record's JSON
      writeFileSync(path, damaged);

      const { log, records } = AppendOnlyLog.open<Entry>(path);
      assert.deepEqual(records, THREE.slice(0, 2));
      assert.equal(statSync(path).size, lastStart);
      await log.close();
    });
  });

  describe('corruption before the last record', () => {
    it('throws E_STORE_CORRUPT naming the file and the record, and leaves the file alone', async () => {
      const path = freshPath();
      const bytes = await writeLog(path, THREE);
      const secondStart = lineStarts(bytes)[1] as number;
      const damaged = Buffer.from(bytes.toString('utf8').replace('"two"', '"twx"'), 'utf8');
      writeFileSync(path, damaged);

      assert.throws(
        () => AppendOnlyLog.open<Entry>(path),
        (error: unknown) => {
          assert.ok(error instanceof MinibatchError);
          assert.equal(error.code, 'E_STORE_CORRUPT');
          assert.equal(error.message, `${path}: record at byte ${secondStart} is corrupt (checksum mismatch)`);
          return true;
        },
      );
      assert.deepEqual(readFileSync(path), damaged, 'a corrupt journal is not truncated');
    });

    it('throws for a bad first record too', async () => {
      const path = freshPath();
      const bytes = await writeLog(path, THREE);
      const damaged = Buffer.from(bytes);
      damaged[0] = damaged[0] === 0x30 ? 0x31 : 0x30;
      writeFileSync(path, damaged);
      assert.throws(
        () => AppendOnlyLog.open<Entry>(path),
        (error: unknown) => error instanceof MinibatchError && error.code === 'E_STORE_CORRUPT' && error.message.endsWith('record at byte 0 is corrupt (checksum mismatch)'),
      );
    });

    it('throws for a line without a checksum', async () => {
      const path = freshPath();
      const bytes = await writeLog(path, THREE);
      const lines = bytes.toString('utf8').split('\n');
      lines[0] = JSON.stringify(THREE[0]);
      writeFileSync(path, lines.join('\n'));
      assert.throws(
        () => AppendOnlyLog.open<Entry>(path),
        (error: unknown) => error instanceof MinibatchError && error.code === 'E_STORE_CORRUPT',
      );
    });
  });
});
