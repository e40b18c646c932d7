import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OverheadTimeoutError, loadMiniBatch, withinTime } from './load-mini-batch.js';

describe('loadMiniBatch', () => {
  it('passes the paths of existing files through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-load-'));
    writeFileSync(join(dir, 'a.txt'), 'a');
    assert.deepEqual(await loadMiniBatch({ kind: 'files', files: [join(dir, 'a.txt')] }, 1000), { data: [join(dir, 'a.txt')], problems: [] });
  });

  it('names a file that vanished or became a folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-load-'));
    await assert.rejects(loadMiniBatch({ kind: 'files', files: [join(dir, 'gone.txt')] }, 1000), {
      message: `input file ${join(dir, 'gone.txt')} cannot be read: it no longer exists`,
    });
    mkdirSync(join(dir, 'folder'));
    await assert.rejects(loadMiniBatch({ kind: 'files', files: [join(dir, 'folder')] }, 1000), {
      message: `input file ${join(dir, 'folder')} is no longer a file`,
    });
  });

  it('fails with OverheadTimeoutError when loading outlasts overhead_timeout', async () => {
    const never = new Promise<string[]>(() => {});
    await assert.rejects(withinTime(never, 20), (error: unknown) => {
      assert.ok(error instanceof OverheadTimeoutError);
      assert.equal(error.message, 'loading the mini-batch exceeded overhead_timeout (0.02s)');
      return true;
    });
  });
});
