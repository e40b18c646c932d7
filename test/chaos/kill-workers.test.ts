import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ChaosTally, MAX_ATTEMPTS, ROUNDS, checkRows, cleanUp, childPids, cleanRun, killQuietly, makeChaosInput, makeChaosJob, readJournal, startCli, strikePhase, strikePoint, waitForRun, waitForStrike, type ChaosInput, type CleanRun, type RowCheck, type StrikePhase, type StrikePoint } from './chaos-job.js';

/*
 * kill -9 of a random worker, 1 to 3 times per round, at random moments of a job of a few
 * thousand mini-batches (from before the first commit to near the end): the run must still
 * succeed with every row exactly once, and its output must be byte for byte the clean run's.
 * A run that ends before its first kill lands is checked all the same, then run again (up to
 * MAX_ATTEMPTS), so each round counts a run that was struck.
 */

describe('chaos: kill -9 of random workers mid-job', () => {
  const tally = new ChaosTally('kill-worker');
  let input: ChaosInput;
  let clean: CleanRun;

  before(async () => {
    input = makeChaosInput();
    clean = await cleanRun(input);
    console.log(`chaos kill-worker: clean run of ${clean.miniBatches} mini-batches, ${input.expected.length} rows, ${(clean.runMs / 1000).toFixed(2)} s`);
  });
  after(() => {
    console.log(tally.summary());
    cleanUp(input);
  });

  /** One run of the job with 1–3 workers killed; every check asserted; whether a kill landed. */
  async function killRun(round: number): Promise<{ struck: boolean; check: RowCheck; phase: StrikePhase }> {
    const job = makeChaosJob(input, { processes: 2, maxRetries: 5 });
    const running = startCli(['run', job.jobFile, '--json'], job.home);
    const runDir = await waitForRun(job.home, running);
    assert.ok(runDir, `the run started: ${running.stderr()}`);
    const t0 = performance.now();
    // The workers, listed every 50 ms, so a strike does not wait for `ps` (the end of a run is quick).
    let known: number[] = [];
    const lister = setInterval(() => (known = childPids(running.child.pid ?? 0)), 50);
    // The first kill at this round's strike point, up to two more at random points after it.
    const firstPoint = strikePoint(round, clean);
    const after = firstPoint.kind === 'progress' ? firstPoint.fraction : 0;
    const more = Array.from({ length: Math.floor(Math.random() * 3) }, () => after + Math.random() * (0.995 - after)).sort((a, b) => a - b);
    const points: StrikePoint[] = [firstPoint, ...more.map((fraction) => ({ kind: 'progress' as const, fraction }))];
    let kills = 0;
    let phase: StrikePhase | undefined;
    try {
      for (const point of points) {
        if (!(await waitForStrike(point, runDir, t0, running, clean))) break;
        // Before the first commit the workers may still be starting: strike the first one that exists.
        let pids = known;
        while (running.child.exitCode === null && running.child.signalCode === null) {
          const victim = pids[Math.floor(Math.random() * pids.length)];
          if (victim !== undefined && killQuietly(victim, 'SIGKILL')) {
            kills++;
            phase ??= strikePhase(new Set(readJournal(runDir).commits).size, clean.miniBatches);
            break;
          }
          await sleep(5);
          pids = childPids(running.child.pid ?? 0);
        }
      }
    } finally {
      clearInterval(lister);
    }
    const { code, hung } = await running.exited;
    const output = code === 0 ? readFileSync(job.output) : undefined;
    const check = checkRows(output, clean.output, input.expected);
    const commits = readJournal(runDir).commits;
    const twice = commits.length - new Set(commits).size;
    tally.committedTwice += twice;
    if (hung) tally.hung++;
    process.stderr.write(
      `kill-worker round ${round}: ${kills} worker(s) killed (first ${phase ?? 'none: the run ended first'}), exit ${code}, ` +
        `${check.identical ? 'identical' : 'DIFFERENT'}, ${check.lost} lost, ${check.duplicated} duplicated, ${commits.length} commits\n`,
    );
    assert.equal(hung, false, 'the run did not hang');
    assert.equal(code, 0, running.stderr());
    assert.equal(check.lost, 0, 'no row lost');
    assert.equal(check.duplicated, 0, 'no row duplicated');
    assert.equal(check.foreign, 0, 'no foreign row');
    assert.ok(check.identical, 'output identical to the clean run');
    assert.equal(twice, 0, 'no mini-batch committed twice');
    assert.equal(commits.length, clean.miniBatches, 'one commit per mini-batch');
    const summary = JSON.parse(running.stdout()) as { miniBatches: { failed: number } };
    assert.equal(summary.miniBatches.failed, 0);
    rmSync(job.dir, { recursive: true, force: true });
    return { struck: kills > 0, check, phase: phase ?? 'after the run ended (no strike)' };
  }

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: nothing lost, nothing duplicated, output identical to a clean run`, async () => {
      let ok = false;
      tally.begin();
      try {
        // A run that ended before its first kill proved nothing: it is checked, then run again.
        for (let attempt = 1; ; attempt++) {
          const { struck, check, phase } = await killRun(round);
          if (struck || attempt === MAX_ATTEMPTS) {
            tally.add(check, phase);
            break;
          }
          tally.unstruck(check);
        }
        ok = true;
      } finally {
        if (!ok) tally.failed++;
      }
    });
  }
});
