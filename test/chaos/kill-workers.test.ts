import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CLI, makeJob, onlyRunDir, readLines } from '../helpers.js';

/** Pids of the worker processes under a controller. */
function workerPids(controllerPid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(controllerPid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 3);

describe('chaos: kill -9 of random workers mid-job', () => {
  for (let round = 0; round < ROUNDS; round++) {
    it(`round ${round + 1}: nothing lost, nothing duplicated, output identical to a clean run`, async () => {
      const files = 60;
      const job = makeJob({ script: 'fixture_slow.mjs', files, size: 2, processes: 2, programArguments: '--ms 40', retry: { max_retries: 5 } });
      const child = spawn(process.execPath, [CLI, 'run', job.jobFile, '--json'], {
        env: { ...process.env, MINIBATCH_HOME: job.home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let kills = 0;
      // Kill a random worker at random moments while the job runs.
      for (let attempt = 0; attempt < 40 && kills < 3 && child.exitCode === null; attempt++) {
        await sleep(80 + Math.floor(Math.random() * 120));
        const pids = workerPids(child.pid ?? 0);
        const victim = pids[Math.floor(Math.random() * pids.length)];
        if (victim === undefined) continue;
        try {
          process.kill(victim, 'SIGKILL');
          kills++;
        } catch {
          // already gone
        }
      }
      const code = await exited;
      assert.equal(code, 0, stdout);
      assert.ok(kills > 0, 'at least one worker was killed');
      const expected = Array.from({ length: files }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);
      assert.deepEqual(readLines(job.output), expected, 'every row once, in input order');
      const journal = readFileSync(join(onlyRunDir(job.home), 'state', 'journal.log'), 'utf8');
      const committed = [...journal.matchAll(/"k":"commit","r":\{"id":(\d+)/g)].map((match) => Number(match[1]));
      assert.equal(committed.length, files / 2, 'one commit per mini-batch');
      assert.equal(new Set(committed).size, files / 2, 'no mini-batch committed twice');
      const summary = JSON.parse(stdout);
      assert.equal(summary.miniBatches.failed, 0);
      process.stderr.write(`chaos round ${round + 1}: ${kills} workers killed, ${summary.miniBatches.retries} retries, ${files} rows exact\n`);
    });
  }
});
