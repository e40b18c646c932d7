import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MinibatchError } from '../errors.js';
import { groupAdaptively, type AdaptiveSizing } from './adaptive-partition.js';
import type { MiniBatch, MiniBatchBoundary, TablePart } from './descriptors.js';
import { tabularSourceFromHint } from './mltable.js';
import { partitionTableAdaptively } from './table-partition.js';
import { writeMixedParquet } from '../../test/fixtures/parquet/make-parquet.js';
import { tempDir } from '../../test/helpers.js';

async function* names(count: number): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) yield `f${i}`;
}

const files = (id: number, group: string[]): MiniBatch => ({ id, descriptor: { kind: 'files', files: group }, items: group.length });

/** A sizing that asks for `sizes` in turn (the last one after that) and records what it was told. */
function scripted(sizes: number[], replay: MiniBatchBoundary[] = []): AdaptiveSizing & { journal: MiniBatchBoundary[]; asked: (number | undefined)[] } {
  const journal: MiniBatchBoundary[] = [];
  const asked: (number | undefined)[] = [];
  let at = 0;
  return {
    journal,
    asked,
    replay,
    nextAmount: (remaining) => {
      asked.push(remaining);
      return sizes[Math.min(at++, sizes.length - 1)] ?? 1;
    },
    onBoundary: (boundary) => journal.push(boundary),
  };
}

async function collect(batches: AsyncIterable<MiniBatch>): Promise<MiniBatch[]> {
  const all: MiniBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

const filesOf = (batch: MiniBatch) => (batch.descriptor.kind === 'files' ? batch.descriptor.files : []);

describe('groupAdaptively', () => {
  it('asks for each size as the mini-batch is pulled and journals its boundary before handing it out', async () => {
    const sizing = scripted([1, 3, 2]);
    const batches = groupAdaptively(names(8), () => 1, 8, sizing, files);
    const first = await batches.next();
    assert.deepEqual(first.value && filesOf(first.value), ['f0']);
    assert.deepEqual(sizing.journal, [{ id: 0, first: 0, count: 1, amount: 1 }], 'journaled before it was handed out');
    const rest = await collect(batches);
    assert.deepEqual(rest.map(filesOf), [['f1', 'f2', 'f3'], ['f4', 'f5'], ['f6', 'f7']]);
    assert.deepEqual(sizing.journal.map((b) => [b.id, b.first, b.count]), [[0, 0, 1], [1, 1, 3], [2, 4, 2], [3, 6, 2]]);
    assert.deepEqual(sizing.asked.slice(0, 4), [8, 7, 4, 2], 'told what remains when the total is known');
  });

  it('replays journaled boundaries first (same ids, same items, not journaled again), then goes on adaptively', async () => {
    const replay = [
      { id: 0, first: 0, count: 1, amount: 1 },
      { id: 1, first: 1, count: 4, amount: 4 },
    ];
    const sizing = scripted([2], replay);
    const batches = await collect(groupAdaptively(names(9), () => 1, undefined, sizing, files));
    assert.deepEqual(batches.map((b) => b.id), [0, 1, 2, 3]);
    assert.deepEqual(batches.map(filesOf), [['f0'], ['f1', 'f2', 'f3', 'f4'], ['f5', 'f6'], ['f7', 'f8']]);
    assert.deepEqual(sizing.journal.map((b) => b.id), [2, 3]);
    assert.equal(sizing.asked[0], undefined, 'a folder being listed has no known total');
  });

  it('refuses boundaries that do not follow each other', async () => {
    const sizing = scripted([1], [
      { id: 0, first: 0, count: 2, amount: 2 },
      { id: 1, first: 3, count: 1, amount: 1 },
    ]);
    await assert.rejects(collect(groupAdaptively(names(5), () => 1, 5, sizing, files)), (error: unknown) => error instanceof MinibatchError && error.code === 'E_STORE_CORRUPT');
  });

  it('fills a mini-batch by amount: grains are added until the size is reached', async () => {
    async function* grains() {
      yield* [10, 10, 30, 5, 50];
    }
    const sizing = scripted([15, 40, 1]);
    const made = await collect(groupAdaptively(grains(), (grain) => grain, 105, sizing, (id, group) => ({ id, descriptor: { kind: 'files', files: group.map(String) }, items: group.length })));
    assert.deepEqual(made.map(filesOf), [['10', '10'], ['30', '5', '50']]);
    assert.deepEqual(sizing.journal.map((b) => b.amount), [20, 85]);
  });
});

describe('partitionTableAdaptively', () => {
  const dir = tempDir('mb-auto-table-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('cuts a CSV in grains, merges adjacent ones of a file into one range, and covers every row once', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},${'x'.repeat(40)}`);
    writeFileSync(join(dir, 'a.csv'), `id,text\n${rows.slice(0, 2000).join('\n')}\n`);
    writeFileSync(join(dir, 'b.csv'), `id,text\n${rows.slice(2000).join('\n')}\n`);
    const source = await tabularSourceFromHint({ type: 'uri_folder', path: dir }, 'delimited');
    const sizing = scripted([1, 4096, 60_000, 1_000_000]);
    const batches = await collect(partitionTableAdaptively(source, 4096, sizing));
    const parts = batches.flatMap((b) => (b.descriptor.kind === 'table' ? b.descriptor.parts : []));
    const ranges = (part: TablePart) => (part.format === 'parquet' ? [part.rowStart, part.rowEnd] : [part.start, part.end]);
    // Within a file the ranges follow each other without overlap; rows add up to the table.
    for (const file of ['a.csv', 'b.csv']) {
      const own = parts.filter((part) => part.file.endsWith(file)).map(ranges);
      for (let i = 1; i < own.length; i++) assert.ok((own[i]?.[0] ?? 0) >= (own[i - 1]?.[1] ?? 0));
    }
    assert.equal(batches.reduce((sum, b) => sum + b.items, 0), 3000);
    assert.ok(batches.length >= 3);
    const first = batches[0];
    assert.ok(first && first.descriptor.kind === 'table' && first.descriptor.parts.length === 1, 'the first mini-batch is one grain');
    assert.ok((batches[1]?.items ?? 0) < (batches[2]?.items ?? 0), 'a bigger size, more rows');
    // The 60 000-byte mini-batch spans many grains of a.csv: one merged range, not one per grain.
    const third = batches[2];
    assert.ok(third && third.descriptor.kind === 'table');
    assert.equal(new Set(third.descriptor.parts.map((part) => part.file)).size, third.descriptor.parts.length);
    assert.deepEqual(sizing.journal.map((b) => b.id), batches.map((b) => b.id));
    assert.equal(sizing.asked[0], statSync(join(dir, 'a.csv')).size + statSync(join(dir, 'b.csv')).size, 'told the table\'s size');
  });

  it('grows a Parquet file by whole row groups, adjacent ones merged', async () => {
    const folder = join(dir, 'pq');
    mkdirSync(folder);
    writeMixedParquet(join(folder, 't.parquet'), 1000, 100);
    const source = await tabularSourceFromHint({ type: 'uri_folder', path: folder }, 'parquet');
    const sizing = scripted([1, 1, 3 * statSync(join(folder, 't.parquet')).size / 10, Number.POSITIVE_INFINITY]);
    const batches = await collect(partitionTableAdaptively(source, 1, sizing));
    const parts = batches.map((b) => (b.descriptor.kind === 'table' ? b.descriptor.parts : []));
    assert.ok(parts.every((own) => own.length === 1), 'one merged part per mini-batch (one file)');
    const rows = parts.map((own) => (own[0]?.format === 'parquet' ? [own[0].rowStart, own[0].rowEnd] : []));
    assert.deepEqual(rows.slice(0, 2), [[0, 100], [100, 200]], 'one row group each at first');
    for (const [start, end] of rows) assert.ok((start ?? 1) % 100 === 0 && ((end ?? 1) % 100 === 0 || end === 1000), `whole row groups: ${start}-${end}`);
    assert.equal(rows.at(-1)?.[1], 1000);
    assert.ok((rows[2]?.[1] ?? 0) - (rows[2]?.[0] ?? 0) >= 200, 'a bigger size takes several row groups');
  });
});
