import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';
import { NO_REDIS, RedisHarness, type AgentProcess } from '../support/redis-harness.js';

/*
 * Chaos on the Redis compute: three agents serve a job; one of them, chosen at random, is
 * killed with SIGKILL at a random moment and started again. Every round must end with the
 * output of a clean local run, byte for byte: 0 rows lost, 0 duplicated.
 * CHAOS_ROUNDS (npm run test:chaos: 20 here) sets the count; `npm test` runs 2.
 */
const ROUNDS = Math.min(Number(process.env.CHAOS_ROUNDS ?? 2), 20);

describe('chaos: kill -9 one of three agents mid-job', { skip: NO_REDIS, timeout: 30 * 60_000 }, () => {
  let harness: RedisHarness;
  const agents: AgentProcess[] = [];
  before(async () => {
    harness = await RedisHarness.start();
    agents.push(...(await Promise.all(['chaos-a', 'chaos-b', 'chaos-c'].map((name) => harness.startAgent(name, 1)))));
  });
  after(async () => {
    await harness.stop();
  });

  it(`${ROUNDS} round(s): 0 rows lost, 0 duplicated, output identical to a clean run`, async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 120, size: 2, programArguments: '--ms 60', retry: { max_retries: 0 }, extra: { resources: { instance_count: 3 } } });
    const clean = await runCli(['run', job.jobFile], { home: join(job.dir, 'clean-home') });
    assert.equal(clean.code, 0, clean.stderr);
    const expected = readFileSync(job.output);
    const expectedRows = readLines(job.output);
    let identical = 0;
    let lost = 0;
    let duplicated = 0;
    for (let round = 0; round < ROUNDS; round++) {
      rmSync(job.output, { force: true });
      const home = join(job.dir, `home-${round}`);
      const running = runCli(['run', job.jobFile, '--compute', harness.compute], { home, env: harness.env });
      // Somewhere between just after the agents joined and near the end of a ~2-4 s job.
      await sleep(300 + Math.random() * 2_500);
      const index = Math.floor(Math.random() * agents.length);
      const victim = agents[index];
      if (victim) {
        await harness.killAgent(victim);
        harness.agents.splice(harness.agents.indexOf(victim), 1);
        agents[index] = await harness.startAgent(victim.name, 1);
      }
      const result = await running;
      assert.equal(result.code, 0, `round ${round}: ${result.stderr}`);
      const rows = readLines(job.output);
      const seen = new Map<string, number>();
      for (const row of rows) seen.set(row, (seen.get(row) ?? 0) + 1);
      lost += expectedRows.filter((row) => !seen.has(row)).length;
      duplicated += [...seen.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
      if (readFileSync(job.output).equals(expected)) identical++;
      const processed = readLines(join(onlyRunDir(home), 'logs', 'sys', 'job_report', 'processed_mini-batches.csv')).slice(1);
      assert.equal(processed.length, 60, `round ${round}: every mini-batch committed exactly once`);
    }
    console.log(`chaos redis kill-agent: ${ROUNDS} rounds, ${identical} identical, ${lost} rows lost, ${duplicated} rows duplicated`);
    assert.equal(lost, 0);
    assert.equal(duplicated, 0);
    assert.equal(identical, ROUNDS);
  });
});
