import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CommittedBatch } from '../store/run-store.js';
import { ProcessedBatchesReport } from './processed-batches.js';
import { tempDir } from '../../test/helpers.js';

describe('ProcessedBatchesReport', () => {
  it('writes each start time as its ISO text, also across seconds and with the second text kept between rows', async () => {
    const path = join(tempDir('mb-processed-'), 'processed.csv');
    const report = new ProcessedBatchesReport(path);
    const starts = [1_733_500_000_000, 1_733_500_000_007, 1_733_500_000_999, 1_733_500_001_000, 1_733_500_000_500.7, 0, 86_400_000 * 365 + 42];
    starts.forEach((startedAt, id) => {
      const batch: CommittedBatch = { id, status: id === 2 ? 'failed' : 'succeeded', tries: 1, items: 2, returned: 2, failedItems: id === 2 ? 2 : 0, worker: 'node-0/process-1', startedAt, durationMs: 12.5, ...(id === 2 ? { error: 'bad, "quoted"' } : {}) };
      report.add(batch);
    });
    await report.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'id,tries,process,start,total,succeeded,failed,seconds,status,error');
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(',')[3]),
      starts.map((ms) => new Date(Math.floor(ms)).toISOString()),
    );
    assert.equal(lines[3], `2,1,node-0/process-1,${new Date(1_733_500_000_999).toISOString()},2,0,2,0.013,failed,"bad, ""quoted"""`);
  });
});
