import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RunStore, type CommittedBatch } from '../store/run-store.js';
import { AppendRowWriter } from './append-row-writer.js';
import { tempDir } from '../../test/helpers.js';

const root = tempDir('mb-append-row-');
after(() => rmSync(root, { recursive: true, force: true }));

function batch(id: number, rows: number): CommittedBatch {
  return { id, status: 'succeeded', tries: 1, items: rows, returned: rows, failedItems: 0, formatted: {}, worker: 'node-0/process-0', startedAt: 0, durationMs: 1 };
}

/** `count` text rows of mini-batch `id`, each `width` characters and a newline. */
function rowsOf(id: number, count: number, width: number): string {
  return Array.from({ length: count }, (_, row) => `${id}:${row}:`.padEnd(width, String.fromCharCode(97 + (id % 26)))).join('\n') + '\n';
}

describe('AppendRowWriter', () => {
  it('writes rows in mini-batch order whatever the commit order, small and multi-megabyte mini-batches alike', async () => {
    const store = RunStore.create(join(root, 'state'), { runId: 'run', jobFile: '/jobs/job.yml' }, 5);
    const target = join(root, 'out', 'rows.txt');
    const writer = new AppendRowWriter(store, { path: target, format: 'text', header: false });
    // 1 and 3 are larger than the writer's 1 MB chunk: they go out unbuffered, between buffered ones.
    const sizes = [3, 30_000, 2, 40_000, 5];
    const texts = sizes.map((count, id) => rowsOf(id, count, 60));
    for (const id of [4, 1, 3, 0, 2]) {
      const committed = batch(id, sizes[id] ?? 0);
      store.commit(committed, texts[id] ?? '');
      await store.flush();
      writer.committed(committed);
    }
    const written = await writer.finish(sizes.length);
    await store.close();
    assert.equal(readFileSync(target, 'utf8'), texts.join(''));
    assert.equal(written.rows, sizes.reduce((sum, count) => sum + count, 0));
    assert.equal(written.bytes, Buffer.byteLength(texts.join('')));
    assert.equal(existsSync(`${target}.minibatch-partial`), false);
  });
});
