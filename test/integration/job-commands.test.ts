import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CLI, REPO, makeJob, readLines, runCli, tempDir } from '../helpers.js';

/** `job list`, `job show` and `job cancel`, on real runs, from separate processes. */
describe('job list / show / cancel', () => {
  it('list shows finished and interrupted runs; show gives counts, nodes and job_result.txt', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 6, size: 2 });
    const done = await runCli(['run', job.jobFile], { home: job.home });
    assert.equal(done.code, 0, done.stderr);
    // A second run whose driver is killed outright: interrupted, resumable.
    const slow = makeJob({ script: 'fixture_slow.mjs', files: 40, size: 1, programArguments: '--ms 200' });
    const driver = spawn(process.execPath, [CLI, 'run', slow.jobFile], { cwd: REPO, env: { ...process.env, MINIBATCH_HOME: job.home }, stdio: 'ignore' });
    await waitForCommits(job.home, 2);
    driver.kill('SIGKILL');
    await new Promise((resolve) => driver.once('exit', resolve));

    const list = await runCli(['job', 'list', '--json'], { home: job.home });
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as { runId: string; status: string; succeeded: number; total: number | null }[];
    assert.deepEqual(runs.map((run) => run.status).sort(), ['interrupted', 'succeeded']);
    const finished = runs.find((run) => run.status === 'succeeded');
    assert.equal(finished?.succeeded, 3);
    assert.equal(finished?.total, 3);

    const table = await runCli(['job', 'list'], { home: job.home });
    assert.match(table.stdout, /^ID\s+NAME\s+KIND\s+STATUS\s+STARTED\s+DURATION\s+PROGRESS\s+FAILED/);
    assert.match(table.stdout, /job\s+succeeded .* 3\/3 /);
    const onlyInterrupted = await runCli(['job', 'list', '--status', 'interrupted', '--json'], { home: job.home });
    assert.equal(JSON.parse(onlyInterrupted.stdout).length, 1);

    const show = await runCli(['job', 'show', finished?.runId ?? ''], { home: job.home });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Status: succeeded/);
    assert.match(show.stdout, /Mini-batches: 3\/3 committed \(3 succeeded, 0 failed\)/);
    assert.match(show.stdout, /Per node:\n  node-0: 3 mini-batch\(es\), 6 item\(s\), 0 failed/);
    assert.match(show.stdout, /--- .*job_result\.txt\nStatus: Succeeded/);

    const interrupted = runs.find((run) => run.status === 'interrupted');
    const showInterrupted = await runCli(['job', 'show', interrupted?.runId ?? ''], { home: job.home });
    assert.match(showInterrupted.stdout, /Status: interrupted — the driver stopped without ending the run \(killed\?\); job resume goes on with it/);
  });

  it('cancel from a second process stops a running job gracefully; it is then resumable', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 1, programArguments: '--ms 150' });
    const running = runCli(['run', job.jobFile], { home: job.home });
    await waitForCommits(job.home, 2);
    const runId = readdirSync(join(job.home, 'runs'))[0] ?? '';
    const cancel = await runCli(['job', 'cancel', runId], { home: job.home });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, new RegExp(`run ${runId}: cancelled`));
    const result = await running;
    assert.equal(result.code, 143, result.stderr);
    const again = await runCli(['job', 'cancel', runId], { home: job.home });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not running \(status: cancelled\); there is nothing to cancel/);
    const resumed = await runCli(['job', 'resume', runId], { home: job.home });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readLines(job.output).length, 60);
  });

  it('logs prints the engine log; --follow streams it until the run ends', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 20, size: 1, programArguments: '--ms 100' });
    const running = runCli(['run', job.jobFile], { home: job.home });
    await waitForCommits(job.home, 1);
    const runId = readdirSync(join(job.home, 'runs'))[0] ?? '';
    const follow = await runCli(['job', 'logs', runId, '--follow'], { home: job.home });
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(follow.code, 0, follow.stderr);
    // --follow returned only once the run had ended, with the log's last line.
    assert.match(follow.stdout, /INFO run .* succeeded\n$/);
    const once = await runCli(['job', 'logs', runId], { home: job.home });
    assert.equal(once.stdout, follow.stdout);
  });

  it('a pipeline: logs --step shows a step (a command step: its output); cancel stops the whole pipeline', async () => {
    const dir = tempDir('mb-pipeline-cancel-');
    writeFileSync(join(dir, 'pipeline.yml'), 'type: pipeline\njobs:\n  hello: {type: command, command: "echo hello from the step"}\n  slow: {type: command, command: "sleep 30", inputs: {}}\n');
    const home = join(dir, 'home');
    const running = runCli(['run', join(dir, 'pipeline.yml')], { home });
    let runId = '';
    for (let i = 0; i < 200 && !runId; i++) {
      const runs = existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')) : [];
      if (runs[0] && existsSync(join(home, 'runs', runs[0], 'steps', 'hello', 'logs', 'user', 'std_log.txt'))) runId = runs[0];
      else await sleep(50);
    }
    await sleep(300);
    const logs = await runCli(['job', 'logs', runId, '--step', 'hello'], { home });
    assert.equal(logs.stdout, 'hello from the step\n');
    const noStep = await runCli(['job', 'logs', runId], { home });
    assert.equal(noStep.code, 2);
    assert.match(noStep.stderr, /is a pipeline: say which step with --step \(one of: hello, slow\)/);
    const cancel = await runCli(['job', 'cancel', runId], { home });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancelled/);
    const result = await running;
    assert.equal(result.code, 130);
  });

  it('an unknown run id: exit 2 naming where it looked', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 2 });
    for (const command of ['show', 'cancel']) {
      const result = await runCli(['job', command, 'no-such-run'], { home: job.home });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /no run no-such-run under .*runs/);
    }
  });
});

async function waitForCommits(home: string, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const runs = join(home, 'runs');
    const entries = existsSync(runs) ? readdirSync(runs) : [];
    for (const entry of entries) {
      const csv = join(runs, entry, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv');
      // The newest run: the one with a live driver marker.
      if (existsSync(join(runs, entry, 'state', 'driver.json')) && existsSync(csv) && readLines(csv).length > count) return;
    }
    await sleep(50);
  }
  throw new Error(`no run under ${home} committed ${count} mini-batches`);
}

