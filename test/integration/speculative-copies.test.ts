import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';

const names = (count: number) => Array.from({ length: count }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);

async function runJson(jobFile: string, home: string) {
  const result = await runCli(['run', jobFile, '--json'], { home });
  return { ...result, summary: result.stdout ? JSON.parse(result.stdout) : undefined };
}

describe('speculative copies (straggler mitigation)', () => {
  it('a mini-batch stuck in its first process is copied to an idle one; the copy wins, rows are kept exactly once', async () => {
    // Without a copy this job would wait 30 s on f-0001 (timeout 60 s): the copy ends it early.
    const job = makeJob({ script: 'fixture_straggler_once.mjs', files: 8, size: 1, processes: 2, programArguments: '--slow f-0001.txt --ms 30000', retry: { timeout: 60 } });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 8, succeeded: 8, failed: 0, retries: 0 });
    assert.ok(summary.speculativeCopies.won >= 1, JSON.stringify(summary.speculativeCopies));
    assert.ok(summary.speculativeCopies.started >= summary.speculativeCopies.won);
    assert.deepEqual(readLines(job.output), names(8), 'every row once, in input order');
    const runDir = onlyRunDir(job.home);
    const log = readFileSync(join(runDir, 'logs/sys/minibatch.log'), 'utf8');
    assert.match(log, /mini-batch 1 has run \d+(\.\d)? s, \d+× the median \(\d+ ms\); starting a copy on an idle worker/);
    assert.match(log, /mini-batch 1: the copy won \(on node-0\/process-\d\); the other copy is cancelled/);
    const result = readFileSync(join(runDir, 'logs/job_result.txt'), 'utf8');
    assert.match(result, new RegExp(`\\nSpeculative copies: ${summary.speculativeCopies.started} started, ${summary.speculativeCopies.won} won\\n`));
    const journal = readFileSync(join(runDir, 'state/journal.log'), 'utf8');
    assert.equal((journal.match(/"k":"commit"/g) ?? []).length, 8, 'each mini-batch committed once');
    assert.equal((journal.match(/"k":"attempt"/g) ?? []).length, 0, 'the cancelled original is no failed try');
  });

  it('speculative_copies: false runs the straggler to its end, with no copy', async () => {
    const job = makeJob({
      script: 'fixture_straggler_once.mjs',
      files: 8,
      size: 1,
      processes: 2,
      programArguments: '--slow f-0001.txt --ms 2500',
      extra: { speculative_copies: false },
    });
    const { code, summary, stderr } = await runJson(job.jobFile, job.home);
    assert.equal(code, 0, stderr);
    assert.deepEqual(summary.miniBatches, { total: 8, succeeded: 8, failed: 0, retries: 0 });
    assert.deepEqual(summary.speculativeCopies, { started: 0, won: 0 });
    assert.deepEqual(readLines(job.output), names(8));
    const runDir = onlyRunDir(job.home);
    assert.doesNotMatch(readFileSync(join(runDir, 'logs/sys/minibatch.log'), 'utf8'), /copy/);
    assert.match(readFileSync(join(runDir, 'logs/job_result.txt'), 'utf8'), /\nSpeculative copies: off \(speculative_copies: false\)\n/);
  });
});
