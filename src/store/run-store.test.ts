import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { AppendOnlyLog } from './run-journal.js';
import { RunStore, type CommittedBatch, type StoreRecord } from './run-store.js';
import { tempDir } from '../../test/helpers.js';

let root: string;
let counter = 0;
const open: RunStore[] = [];

before(() => {
  root = tempDir('mb-run-store-');
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => undefined);
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A store in a fresh directory; a long flush interval so only explicit flushes write. */
function createStore(flushIntervalMs = 60_000): RunStore {
  counter++;
  const store = RunStore.create(join(root, `run-${counter}`, 'state'), { runId: `run-${counter}`, jobFile: '/jobs/job.yml' }, flushIntervalMs);
  open.push(store);
  return store;
}

async function closeStore(store: RunStore): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

function batch(id: number, extra: Partial<CommittedBatch> = {}): CommittedBatch {
  return { id, status: 'succeeded', tries: 1, items: 2, returned: 2, failedItems: 0, worker: 'node-0/process-0', startedAt: 1_700_000_000_000, durationMs: 12, ...extra };
}

/** The journal records on disk, parsed without opening the log (which could truncate it). */
function journalOnDisk(dir: string): StoreRecord[] {
  const text = readFileSync(join(dir, 'journal.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line.slice(line.indexOf('\t') + 1)) as StoreRecord);
}

describe('RunStore.commit', () => {
  it('commits a mini-batch once: a second commit of the same id returns false and keeps the first rows', async () => {
    const store = createStore();
    assert.equal(store.isCommitted(0), false);
    assert.equal(store.commit(batch(0), '"a"\n"b"\n'), true);
    assert.equal(store.isCommitted(0), true);
    assert.equal(store.commit(batch(0, { tries: 2 }), '"other"\n'), false);
    await store.flush();
    assert.equal(store.readRows(0).toString('utf8'), '"a"\n"b"\n');
  });

  it('records one commit in the journal for a duplicated id', async () => {
    const store = createStore();
    store.commit(batch(3), '"x"\n');
    store.commit(batch(3, { status: 'failed' }), '"y"\n');
    await closeStore(store);
    const commits = journalOnDisk(store.dir).filter((record) => record.k === 'commit');
    assert.equal(commits.length, 1);
    assert.deepEqual(commits[0], { k: 'commit', r: batch(3), offset: 0, length: 4 });
  });
});

describe('RunStore.readRows', () => {
  it('returns the rows of each mini-batch after a flush', async () => {
    const store = createStore();
    store.commit(batch(0), '{"a":1}\n{"a":2}\n');
    store.commit(batch(1), '"ünïcode ✓"\n');
    store.commit(batch(2), '3\n');
    await store.flush();
    assert.equal(store.readRows(0).toString('utf8'), '{"a":1}\n{"a":2}\n');
    assert.equal(store.readRows(1).toString('utf8'), '"ünïcode ✓"\n');
    assert.equal(store.readRows(2).toString('utf8'), '3\n');
  });

  it('ends the rows with a newline when they lack one', async () => {
    const store = createStore();
    store.commit(batch(0), '"a"\n"b"');
    store.commit(batch(1), '"c"');
    await store.flush();
    assert.equal(store.readRows(0).toString('utf8'), '"a"\n"b"\n');
    assert.equal(store.readRows(1).toString('utf8'), '"c"\n');
  });

  it('refuses to read rows that are not flushed yet', async () => {
    const store = createStore();
    store.commit(batch(0), '"a"\n');
    assert.throws(() => store.readRows(0), /RunStore\.readRows\(\) before flush/);
    await store.flush();
    assert.equal(store.readRows(0).toString('utf8'), '"a"\n');
    store.commit(batch(1), '"b"\n');
    assert.throws(() => store.readRows(1), /before flush/);
    assert.equal(store.readRows(0).toString('utf8'), '"a"\n', 'flushed rows stay readable');
  });

  it('returns nothing for a mini-batch without rows, or not committed', async () => {
    const store = createStore();
    store.commit(batch(0, { status: 'failed', returned: 0 }), '');
    assert.equal(store.readRows(0).length, 0);
    assert.equal(store.readRows(7).length, 0);
    assert.equal(store.readRows(100_000).length, 0);
    await store.flush();
    assert.equal(store.readRows(0).length, 0);
  });

  it('flushes by itself after the flush interval', async () => {
    const store = createStore(5);
    store.commit(batch(0), '"a"\n');
    for (let waited = 0; waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      try {
        store.readRows(0);
        break;
      } catch {
        // not flushed yet
      }
    }
    assert.equal(store.readRows(0).toString('utf8'), '"a"\n');
  });
});

describe('RunStore ids', () => {
  it('accepts ids beyond the initial capacity of 1024, and keeps the earlier ones', async () => {
    const store = createStore();
    const ids = [0, 5, 1023, 1024, 1025, 2048, 5000, 100_000];
    for (const id of ids) assert.equal(store.commit(batch(id), `"row ${id}"\n`), true, `commit ${id}`);
    for (const id of ids) assert.equal(store.commit(batch(id), '"again"\n'), false, `second commit ${id}`);
    assert.equal(store.isCommitted(4999), false);
    assert.equal(store.isCommitted(100_001), false);
    await store.flush();
    for (const id of ids) assert.equal(store.readRows(id).toString('utf8'), `"row ${id}"\n`, `rows of ${id}`);
  });
});

describe('RunStore journal', () => {
  it('records the run, attempts, commits and the end, in order', async () => {
    const store = createStore();
    store.recordAttempt({ id: 0, attempt: 1, worker: 'node-0/process-1', failureKind: 'timeout', error: 'run() timed out' });
    store.commit(batch(0, { tries: 2 }), '"a"\n"b"\n');
    store.commit(batch(1), '"c"\n');
    store.recordEnd('failed', 'error_threshold exceeded');
    await closeStore(store);

    const records = journalOnDisk(store.dir);
    assert.deepEqual(
      records.map((record) => record.k),
      ['run', 'attempt', 'commit', 'commit', 'end'],
    );
    const [run, attempt, first, second, end] = records;
    assert.equal(run?.k === 'run' && run.runId, `run-${counter}`);
    assert.equal(run?.k === 'run' && run.jobFile, '/jobs/job.yml');
    assert.deepEqual(attempt, { k: 'attempt', r: { id: 0, attempt: 1, worker: 'node-0/process-1', failureKind: 'timeout', error: 'run() timed out' } });
    assert.deepEqual(first, { k: 'commit', r: batch(0, { tries: 2 }), offset: 0, length: 8 });
    assert.deepEqual(second, { k: 'commit', r: batch(1), offset: 8, length: 4 });
    assert.equal(end?.k === 'end' && end.status, 'failed');
    assert.equal(end?.k === 'end' && end.reason, 'error_threshold exceeded');

    // the journal is a valid append-only log, and the spool holds the rows at the recorded offsets
    const { log, records: replayed } = AppendOnlyLog.open<StoreRecord>(join(store.dir, 'journal.log'));
    await log.close();
    assert.deepEqual(replayed, records);
    assert.equal(readFileSync(join(store.dir, 'rows.spool'), 'utf8'), '"a"\n"b"\n"c"\n');
  });

  it('never has a commit on disk whose rows are not on disk, even when a commit arrives during a flush', async () => {
    const store = createStore();
    store.commit(batch(0), '"first batch"\n');
    const flushing = store.flush();
    store.commit(batch(1), '"second batch, committed while the first flush is writing"\n');
    await flushing;

    const spoolSize = statSync(join(store.dir, 'rows.spool')).size;
    for (const record of journalOnDisk(store.dir)) {
      if (record.k !== 'commit') continue;
      assert.ok(
        record.offset + record.length <= spoolSize,
        `commit of mini-batch ${record.r.id} points at bytes ${record.offset}..${record.offset + record.length} but the spool has ${spoolSize}`,
      );
    }
  });
});

describe('RunStore: multi-megabyte rows, written to the spool as they commit', () => {
  const big = (tag: string) => `${`"${tag}"\n`.repeat(300_000)}`; // ~2 MB: written through
  it('reads back each mini-batch whatever the mix of written-through and pending rows, also after a reopen', async () => {
    const store = createStore();
    const rows = ['"a"\n', big('b'), '"c"\n"d"\n', big('é'), '"e"\n'];
    rows.forEach((text, id) => store.commit(batch(id), text));
    await store.flush();
    rows.forEach((text, id) => assert.equal(store.readRows(id).toString('utf8'), text, `mini-batch ${id}`));
    assert.equal(statSync(join(store.dir, 'rows.spool')).size, rows.reduce((sum, text) => sum + Buffer.byteLength(text), 0));
    await closeStore(store);
    const { store: reopened, committed } = RunStore.reopen(store.dir);
    open.push(reopened);
    assert.deepEqual(committed.map((c) => c.id), [0, 1, 2, 3, 4]);
    rows.forEach((text, id) => assert.equal(reopened.readRows(id).toString('utf8'), text, `mini-batch ${id} after reopen`));
  });

  it('rows written through but never flushed are not committed after a crash: reopen cuts them from the spool', async () => {
    const store = createStore();
    store.commit(batch(0), '"kept"\n');
    await store.flush();
    store.commit(batch(1), big('lost')); // on disk now, its commit record not yet
    assert.ok(statSync(join(store.dir, 'rows.spool')).size > 1_000_000);
    // A crash: nothing more is flushed. The store is not closed (close() would flush).
    open.splice(open.indexOf(store), 1);
    const { store: reopened, committed } = RunStore.reopen(store.dir);
    open.push(reopened);
    assert.deepEqual(committed.map((c) => c.id), [0]);
    assert.equal(statSync(join(store.dir, 'rows.spool')).size, Buffer.byteLength('"kept"\n'));
    assert.equal(reopened.readRows(0).toString('utf8'), '"kept"\n');
    assert.equal(reopened.commit(batch(1), '"again"\n'), true, 'the lost mini-batch commits anew');
    await reopened.flush();
    assert.equal(reopened.readRows(1).toString('utf8'), '"again"\n');
  });
});

describe('RunStore.writeSummary', () => {
  it('replaces summary.json whole and leaves no temporary file', async () => {
    const store = createStore();
    store.writeSummary({ status: 'running', done: 1 });
    store.writeSummary({ status: 'succeeded', done: 2 });
    assert.deepEqual(JSON.parse(readFileSync(join(store.dir, 'summary.json'), 'utf8')), { status: 'succeeded', done: 2 });
    assert.equal(existsSync(join(store.dir, 'summary.json.tmp')), false);
  });
});

describe('RunStore: auto-sized mini-batch boundaries', () => {
  it('journals boundaries before the commits that follow them, and reopen hands them back in order', async () => {
    const store = createStore();
    store.recordBoundary({ id: 0, first: 0, count: 1, amount: 1 });
    store.recordBoundary({ id: 1, first: 1, count: 4, amount: 4 });
    store.commit(batch(0, { items: 1 }), '"a"\n');
    store.recordBoundary({ id: 2, first: 5, count: 16, amount: 16 });
    await closeStore(store);
    const kinds = journalOnDisk(store.dir).map((record) => (record.k === 'boundary' ? `b${record.b.id}` : record.k === 'commit' ? `c${record.r.id}` : record.k));
    assert.deepEqual(kinds, ['run', 'b0', 'b1', 'c0', 'b2']);
    const { store: reopened, committed, boundaries } = RunStore.reopen(store.dir);
    open.push(reopened);
    assert.deepEqual(committed.map((c) => c.id), [0]);
    assert.deepEqual(boundaries, [
      { id: 0, first: 0, count: 1, amount: 1 },
      { id: 1, first: 1, count: 4, amount: 4 },
      { id: 2, first: 5, count: 16, amount: 16 },
    ]);
  });

  it('a commit is never on disk without its boundary: records appended after a flush began wait for the next', async () => {
    const store = createStore();
    store.recordBoundary({ id: 0, first: 0, count: 2, amount: 2 });
    const flushing = store.flush();
    store.commit(batch(0), '"a"\n"b"\n');
    await flushing;
    const onDisk = journalOnDisk(store.dir).map((record) => record.k);
    assert.deepEqual(onDisk, ['run', 'boundary']);
    await store.flush();
    assert.deepEqual(journalOnDisk(store.dir).map((record) => record.k), ['run', 'boundary', 'commit']);
  });
});
