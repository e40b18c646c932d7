import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { CLI, makeJob, onlyRunDir, readLines, runCli } from '../helpers.js';
import { ChaosTally, MAX_ATTEMPTS, ROUNDS, checkRows, cleanUp, childPids, cleanRun, isLiveWorker, makeChaosInput, makeChaosJob, readJournal, runDirOf, startCli, strikePhase, strikePoint, waitForRun, waitForStrike, type ChaosInput, type CleanRun, type RowCheck, type RunningCli, type StrikePhase } from './chaos-job.js';

/*
 * The controller killed (kill -9) or stopped (SIGTERM) at a random moment of a job of a few
 * thousand mini-batches, then `job resume`: the resumed output must be byte for byte a clean
 * run's, every row exactly once, and no mini-batch committed twice across the two processes.
 */

let shared: Promise<{ input: ChaosInput; clean: CleanRun }> | undefined;
/** The input and its clean run, made once for both scenarios. */
function cleanOnce() {
  shared ??= (async () => {
    const input = makeChaosInput();
    const clean = await cleanRun(input);
    console.log(`chaos resume: clean run of ${clean.miniBatches} mini-batches, ${input.expected.length} rows, ${(clean.runMs / 1000).toFixed(2)} s`);
    return { input, clean };
  })();
  return shared;
}

/** Starts a run, and sends `signal` to the controller after a random moment while it works. */
async function interrupt(jobFile: string, home: string, signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, 'run', jobFile], { env: { ...process.env, MINIBATCH_HOME: home }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
  // Wait for the run to exist (a loaded machine starts slowly), then strike at a random moment.
  for (let waited = 0; waited < 15_000 && !runDirOf(home); waited += 20) await sleep(20);
  await sleep(100 + Math.floor(Math.random() * 700));
  child.kill(signal);
  return exited;
}

after(async () => cleanUp(shared ? (await shared.catch(() => undefined))?.input : undefined));

for (const [scenario, signal] of [['kill-controller', 'SIGKILL'], ['sigterm', 'SIGTERM']] as const) {
  describe(`chaos: the controller ${signal === 'SIGKILL' ? 'killed (kill -9)' : 'stopped (SIGTERM)'} at a random moment, then resumed`, () => {
    const tally = new ChaosTally(`${scenario}+resume`);
    let orphans = 0;
    after(() => console.log(`${tally.summary()}; ${orphans} workers left running`));

    /** One run struck by `signal`, then resumed; every check asserted; whether the strike landed. */
    async function strikeAndResume(round: number): Promise<{ struck: boolean; check: RowCheck; phase: StrikePhase }> {
      const { input, clean } = await cleanOnce();
      const job = makeChaosJob(input, { processes: 2 });
      const first = startCli(['run', job.jobFile], job.home);
      const runDir = await waitForRun(job.home, first);
      assert.ok(runDir, `the run started: ${first.stderr()}`);
      // The workers, listed every 50 ms (after a kill -9 they are no longer the controller's children).
      let workers: number[] = [];
      const lister = setInterval(() => (workers = childPids(first.child.pid ?? 0)), 50);
      let reached: boolean;
      try {
        reached = await waitForStrike(strikePoint(round, clean), runDir, performance.now(), first, clean);
        first.child.kill(signal);
      } finally {
        clearInterval(lister);
      }
      const stopped = await first.exited;
      const kept = readJournal(runDir);
      const before = new Set(kept.commits).size;
      // A run that exited on its own before the signal reached it was not struck.
      const struck = reached && stopped.code !== 0;
      const phase: StrikePhase = struck ? strikePhase(before, clean.miniBatches) : 'after the run ended (no strike)';
      if (signal === 'SIGTERM' && stopped.code !== 0) {
        assert.equal(stopped.code, 143, `a stopped run exits 143: ${first.stderr()}`);
        assert.match(readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8'), /^Status: Cancelled/);
      }
      // A strike after the run recorded its success leaves nothing to resume.
      let resumed: Awaited<RunningCli['exited']> | undefined;
      let resumeStderr = '';
      if (kept.ended !== 'succeeded') {
        const resume = startCli(['job', 'resume', runDir.split('/').at(-1) ?? '', '--json'], job.home);
        resumed = await resume.exited;
        resumeStderr = resume.stderr();
      }
      const output = existsSync(job.output) ? readFileSync(job.output) : undefined;
      const check = checkRows(output, clean.output, input.expected);
      const commits = readJournal(runDir).commits;
      const twice = commits.length - new Set(commits).size;
      tally.committedTwice += twice;
      if (resumed?.hung || stopped.hung) tally.hung++;
      const left = workers.filter(isLiveWorker);
      orphans += left.length;
      process.stderr.write(
        `${scenario} round ${round}: ${signal} ${phase} (${before} of ${clean.miniBatches} kept, exit ${stopped.code ?? stopped.signal}), ` +
          `${resumed ? `resumed exit ${resumed.code}` : 'nothing to resume'}, ${check.identical ? 'identical' : 'DIFFERENT'}, ` +
          `${check.lost} lost, ${check.duplicated} duplicated, ${commits.length} commits\n`,
      );
      if (resumed) {
        assert.equal(resumed.hung, false, 'the resume did not hang');
        assert.equal(resumed.code, 0, resumeStderr);
      }
      assert.equal(check.lost, 0, 'no row lost');
      assert.equal(check.duplicated, 0, 'no row duplicated');
      assert.equal(check.foreign, 0, 'no foreign row');
      assert.ok(check.identical, 'output identical to the clean run');
      assert.equal(twice, 0, 'no mini-batch committed twice');
      assert.equal(commits.length, clean.miniBatches, 'one commit per mini-batch');
      assert.deepEqual(readdirSync(join(job.dir, 'out')), ['result.csv'], 'no partial output left over');
      assert.deepEqual(left, [], 'no worker of the interrupted run left running');
      rmSync(job.dir, { recursive: true, force: true });
      return { struck, check, phase };
    }

    for (let round = 1; round <= ROUNDS; round++) {
      it(`${signal}, round ${round}: the resumed output is identical to a clean run`, async () => {
        let ok = false;
        tally.begin();
        try {
          // A run that ended before the signal reached it proved nothing: it is checked, then run again.
          for (let attempt = 1; ; attempt++) {
            const { struck, check, phase } = await strikeAndResume(round);
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
}

describe('resume: refusals', () => {
  it('refuses to resume after the code changed, unless --allow-changes', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 20, size: 2, processes: 1, programArguments: '--ms 300' });
    await interrupt(job.jobFile, job.home, 'SIGKILL');
    const id = onlyRunDir(job.home).split('/').at(-1) ?? '';
    appendFileSync(join(job.dir, 'src', 'fixture_slow.mjs'), '\n// changed\n');
    const refused = await runCli(['job', 'resume', id], { home: job.home });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`run ${id} cannot be resumed as it was: the code folder .*/src changed since it started; .*--allow-changes`));
    const allowed = await runCli(['job', 'resume', id, '--allow-changes'], { home: job.home });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /warning: resuming with changes \(--allow-changes\): the code folder .* changed/);
    assert.equal(readLines(job.output).length, 20);
  });

  it('an unknown run id is a usage error', async () => {
    const result = await runCli(['job', 'resume', 'no-such-run']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^minibatch: no run no-such-run under /m);
  });
});

describe('rerun-failed', () => {
  const expected = Array.from({ length: 10 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);
  it('re-runs only the mini-batches whose final try failed; the output becomes complete and in order', async () => {
    const job = makeJob({ script: 'fixture_fail_while_broken.mjs', files: 10, size: 2, retry: { max_retries: 0 } });
    writeFileSync(join(job.dir, 'state', 'broken.txt'), 'f-0003.txt\nf-0008.txt\n');
    const first = await runCli(['run', job.jobFile, '--json'], { home: job.home });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).miniBatches.failed, 2);
    assert.deepEqual(readLines(job.output), ['f-0000.txt', 'f-0001.txt', 'f-0004.txt', 'f-0005.txt', 'f-0006.txt', 'f-0007.txt']);

    rmSync(join(job.dir, 'state', 'broken.txt'));
    writeFileSync(join(job.dir, 'state', 'runs.log'), '');
    const id = onlyRunDir(job.home).split('/').at(-1) ?? '';
    const again = await runCli(['job', 'rerun-failed', id, '--json'], { home: job.home });
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout);
    assert.deepEqual(summary.miniBatches, { total: 5, succeeded: 5, failed: 0, retries: 0 });
    assert.deepEqual(readLines(join(job.dir, 'state', 'runs.log')).sort(), ['1', '4'], 'only the failed mini-batches ran');
    assert.deepEqual(readLines(job.output), expected);
  });
});

describe('graceful stop', () => {
  it('SIGINT lets running mini-batches finish and commit, starts no new one, says how to resume (exit 130)', async () => {
    const job = makeJob({ script: 'fixture_slow_logged.mjs', files: 10, size: 1, processes: 2, programArguments: '--ms 1500' });
    const started = () => (existsSync(join(job.dir, 'state', 'runs.log')) ? readLines(join(job.dir, 'state', 'runs.log')).length : 0);
    const child = spawn(process.execPath, [CLI, 'run', job.jobFile], { env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let waited = 0; waited < 20_000 && started() === 0; waited += 20) await sleep(20);
    await sleep(200); // a mini-batch is running (1.5 s each)
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const runDir = onlyRunDir(job.home);
    const commits = (readFileSync(join(runDir, 'state', 'journal.log'), 'utf8').match(/"k":"commit"/g) ?? []).length;
    assert.ok(commits >= 1 && commits < 10, `the running mini-batches finished and committed (${commits})`);
    assert.equal(commits, started(), 'every mini-batch that started was let finish and committed; no other started');
    const result = readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8');
    assert.match(result, /^Status: Cancelled\nReason: cancelled by the user\nResumable: minibatch job resume /);
    assert.equal(existsSync(job.output), false);
    assert.deepEqual(readdirSync(join(job.dir, 'out')), [], 'no partial output');
  });
});
