import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO, makeJob, onlyRunDir, readLines, runCli, tempDir } from '../helpers.js';
import { NO_REDIS, RedisHarness, freePort } from '../support/redis-harness.js';

/*
 * The Redis compute end to end: a real redis-server, agents as separate processes, the real
 * CLI as the driver. Outputs must match a local run byte for byte.
 */
/** The job's output from a local run (the reference a Redis run must match), removed for the next run. */
async function localOutput(job: ReturnType<typeof makeJob>): Promise<Buffer> {
  const local = await runCli(['run', job.jobFile, '--json'], { home: join(job.dir, 'local-home') });
  assert.equal(local.code, 0, local.stderr);
  const expected = readFileSync(job.output);
  rmSync(job.output);
  return expected;
}

describe('redis compute: driver and agents', { skip: NO_REDIS }, () => {
  let harness: RedisHarness;
  before(async () => {
    harness = await RedisHarness.start();
    await Promise.all([harness.startAgent('agent-a'), harness.startAgent('agent-b'), harness.startAgent('agent-c')]);
  });
  after(async () => {
    await harness.stop();
  });

  it('three nodes: every agent runs mini-batches, output byte-identical to a local run, nodes named in job_result.txt', async () => {
    // Long enough (~1 s per process) that an agent whose workers start late on a loaded machine still gets mini-batches.
    const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 2, programArguments: '--ms 100', extra: { resources: { instance_count: 3 } } });
    const expected = await localOutput(job);
    const result = await runCli(['run', job.jobFile, '--json', '--compute', harness.compute], { home: job.home, env: harness.env });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.compute, 'test-redis');
    assert.deepEqual(summary.miniBatches, { total: 30, succeeded: 30, failed: 0, retries: 0 });
    assert.deepEqual(readFileSync(job.output), expected);
    const runDir = onlyRunDir(job.home);
    const processed = readLines(join(runDir, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv')).slice(1);
    const nodes = new Set(processed.map((line) => /node-(\d)/.exec(line)?.[1]));
    assert.deepEqual([...nodes].sort(), ['0', '1', '2'], 'all three nodes ran mini-batches');
    const jobResult = readFileSync(join(runDir, 'logs', 'job_result.txt'), 'utf8');
    assert.match(jobResult, /Compute: test-redis \(Redis, agents\)/);
    assert.match(jobResult, /Nodes: node-0 = agent-. \(.+\), node-1 = agent-. \(.+\), node-2 = agent-. \(.+\)/);
    // Agents write the worker logs and resource usage of their node into the shared run directory.
    assert.deepEqual(readdirSync(join(runDir, 'logs', 'user', 'stdout')).sort(), ['node-0', 'node-1', 'node-2']);
  });

  it('quick mini-batches travel many to a BullMQ job: the output is still byte-identical and every mini-batch runs once', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 600, size: 1, extra: { resources: { instance_count: 2 }, logging_level: 'DEBUG' } });
    const expected = await localOutput(job);
    const result = await runCli(['run', job.jobFile, '--json', '--compute', harness.compute], { home: job.home, env: harness.env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).miniBatches, { total: 600, succeeded: 600, failed: 0, retries: 0 });
    assert.deepEqual(readFileSync(job.output), expected);
    const runDir = onlyRunDir(job.home);
    const sizes = [...readFileSync(join(runDir, 'logs', 'sys', 'minibatch.log'), 'utf8').matchAll(/mini-batches now travel (\d+) to a BullMQ job/g)].map((match) => Number(match[1]));
    assert.ok(sizes.some((size) => size > 1), `bundles of more than one mini-batch were sent (sizes logged: ${sizes.join(', ') || 'none'})`);
    const ids = readLines(join(runDir, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv')).slice(1).map((line) => Number(line.split(',')[0]));
    assert.equal(ids.length, 600, 'one report row per mini-batch');
    assert.equal(new Set(ids).size, 600, 'no mini-batch committed twice');
  });

  it('agents survive job after job, and a job asks for only as many nodes as instance_count', async () => {
    for (let round = 0; round < 2; round++) {
      const job = makeJob({ script: 'echo_names.mjs', files: 8, size: 2 });
      const result = await runCli(['run', job.jobFile, '--json', '--compute', harness.compute], { home: job.home, env: harness.env });
      assert.equal(result.code, 0, result.stderr);
      const inits = readLines(join(job.dir, 'state', 'init.log'));
      // instance_count 1 × 2 processes: one agent served, with its two processes.
      assert.ok(inits.length >= 1 && inits.length <= 2, inits.join('\n'));
      for (const line of inits) assert.match(line, /rank 0\/[01]$/);
      assert.deepEqual(readLines(job.output), Array.from({ length: 8 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`));
    }
  });

  it('an agent killed with SIGKILL mid-job: its mini-batches run elsewhere, nothing lost or duplicated', async () => {
    const victim = await harness.startAgent('victim');
    const job = makeJob({ script: 'fixture_slow.mjs', files: 80, size: 2, programArguments: '--ms 150', extra: { resources: { instance_count: 4 } } });
    const expected = await localOutput(job);
    const running = runCli(['run', job.jobFile, '--json', '--compute', harness.compute], { home: job.home, env: harness.env });
    for (let i = 0; i < 200 && !victim.output().includes('joined as node-'); i++) await sleep(50);
    await sleep(800);
    await harness.killAgent(victim);
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readFileSync(job.output), expected);
    const processed = readLines(join(onlyRunDir(job.home), 'logs', 'sys', 'job_report', 'processed_mini-batches.csv')).slice(1);
    assert.equal(processed.length, 40, 'each mini-batch committed once');
  });

  it('no agent joins: first_task_creation_timeout fails the job and says what it waited for', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 4, size: 2, extra: { resources: { instance_count: 2 }, first_task_creation_timeout: 3 } });
    const lonely = join(harness.dir, 'lonely.yml');
    writeFileSync(lonely, readFileSync(harness.configFile, 'utf8').replace('prefix: mbtest', 'prefix: nobody-here'));
    const result = await runCli(['run', job.jobFile, '--compute', harness.compute], { home: job.home, env: { MINIBATCH_CONFIG: lonely } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /first_task_creation_timeout exceeded: .*0 of 2 agent\(s\) joined on compute "test-redis".*minibatch agent --compute test-redis/);
  });

  it('the driver killed with SIGKILL: job resume reattaches to the agents and completes the run exactly', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 2, programArguments: '--ms 120', extra: { resources: { instance_count: 2 } } });
    const expected = await localOutput(job);
    const driver = spawn(process.execPath, [CLI, 'run', job.jobFile, '--compute', harness.compute], { cwd: REPO, env: { ...process.env, ...harness.env, MINIBATCH_HOME: job.home }, stdio: 'ignore' });
    const runDir = await waitFor(() => {
      const runs = join(job.home, 'runs');
      const found = existsSync(runs) ? readdirSync(runs)[0] : undefined;
      const csv = found ? join(runs, found, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv') : undefined;
      return csv && existsSync(csv) && readLines(csv).length > 6 ? join(runs, found ?? '') : undefined;
    });
    driver.kill('SIGKILL');
    await new Promise((resolve) => driver.once('exit', resolve));
    assert.ok(!existsSync(job.output), 'no output from the killed driver');
    const result = await runCli(['job', 'resume', runDir, '--json'], { home: job.home, env: harness.env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readFileSync(job.output), expected);
  });
});

describe('redis compute: configuration errors', { skip: NO_REDIS }, () => {
  it('Redis unreachable: exit 2 naming the compute and the URL, and no run directory', async () => {
    const dir = tempDir();
    const port = await freePort();
    const config = join(dir, 'minibatch.config.yml');
    writeFileSync(config, `computes:\n  - name: far-away\n    type: redis\n    url: redis://user:s3cret@127.0.0.1:${port}\n`);
    const job = makeJob({ script: 'echo_names.mjs', files: 2, extra: { compute: 'azureml:far-away' } });
    const result = await runCli(['run', job.jobFile], { home: job.home, env: { MINIBATCH_CONFIG: config } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /compute "far-away" \(.*minibatch.config.yml:2:5\): cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+/);
    assert.doesNotMatch(result.stderr, /s3cret/);
    assert.ok(!existsSync(join(job.home, 'runs')), 'nothing written');
  });

  it('a compute name missing from the config: exit 2 with the closest name', async () => {
    const dir = tempDir();
    const config = join(dir, 'minibatch.config.yml');
    writeFileSync(config, 'computes:\n  - name: cpu-cluster\n    type: redis\n    url: redis://127.0.0.1:1\n');
    const job = makeJob({ script: 'echo_names.mjs', files: 2, extra: { compute: 'cpu-clustr' } });
    const result = await runCli(['run', job.jobFile], { home: job.home, env: { MINIBATCH_CONFIG: config } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /job\.yml:\d+:\d+: compute: compute "cpu-clustr" is not defined in .*minibatch\.config\.yml \(did you mean "cpu-cluster"\?\)/);
  });

  it('a bad config file: exit 2 with file:line and the field', async () => {
    const dir = tempDir();
    const config = join(dir, 'minibatch.config.yml');
    writeFileSync(config, 'computes:\n  - name: cpu-cluster\n    type: redis\n    url: http://127.0.0.1:6379\n    lock_duraton: 5\n');
    const result = await runCli(['agent', '--compute', 'cpu-cluster'], { env: { MINIBATCH_CONFIG: config } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /minibatch\.config\.yml:4:\d+: computes\[0\]\.url: expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.match(result.stderr, /computes\[0\]\.lock_duraton: unknown field \(did you mean "lock_duration"\?\)/);
  });

  it('a job naming a compute with no config file anywhere runs locally, with a notice', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 2, extra: { compute: 'azureml:cpu-cluster' } });
    const result = await runCli(['run', job.jobFile, '--json'], { home: job.home, env: { HOME: tempDir() }, cwd: tempDir() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).compute, 'local');
    assert.match(result.stderr, /compute "azureml:cpu-cluster" is not configured on this machine/);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error('timed out waiting');
}

describe('redis compute: Redis restarts', { skip: NO_REDIS }, () => {
  it('Redis restarted empty mid-job: the driver says so, queues its running mini-batches again, and the run completes exactly', async () => {
    const harness = await RedisHarness.start();
    try {
      await Promise.all([harness.startAgent('restart-a'), harness.startAgent('restart-b')]);
      const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 2, programArguments: '--ms 100', extra: { resources: { instance_count: 2 } } });
      const expected = await localOutput(job);
      const running = runCli(['run', job.jobFile, '--compute', harness.compute], { home: job.home, env: harness.env });
      await waitFor(() => {
        const runs = join(job.home, 'runs');
        const found = existsSync(runs) ? readdirSync(runs)[0] : undefined;
        const csv = found ? join(runs, found, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv') : undefined;
        return csv && existsSync(csv) && readLines(csv).length > 4 ? true : undefined;
      });
      await harness.restartServer();
      const result = await running;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Redis no longer knows run .* \(was it restarted without persistence\?\); registering it again and re-queueing \d+ mini-batch\(es\)/);
      assert.deepEqual(readFileSync(job.output), expected);
    } finally {
      await harness.stop();
    }
  });

  it('Redis restarted while the agents are frozen, so the driver registers the run again first: the agents see their claim is gone and rejoin', async () => {
    // The order that once hung a job until progress_update_timeout: the driver forgot its nodes,
    // and the agents, finding the run registered again, went on as if they were still joined.
    const harness = await RedisHarness.start();
    try {
      const agents = await Promise.all([harness.startAgent('frozen-a'), harness.startAgent('frozen-b')]);
      const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 2, programArguments: '--ms 100', extra: { resources: { instance_count: 2 }, progress_update_timeout: 60 } });
      const expected = await localOutput(job);
      const running = runCli(['run', job.jobFile, '--compute', harness.compute], { home: job.home, env: harness.env });
      const runDir = await waitFor(() => {
        const runs = join(job.home, 'runs');
        const found = existsSync(runs) ? readdirSync(runs)[0] : undefined;
        const csv = found ? join(runs, found, 'logs', 'sys', 'job_report', 'processed_mini-batches.csv') : undefined;
        return found && csv && existsSync(csv) && readLines(csv).length > 4 ? join(runs, found) : undefined;
      });
      for (const agent of agents) agent.child.kill('SIGSTOP');
      try {
        await harness.restartServer();
        await waitFor(() => (readFileSync(join(runDir, 'logs', 'sys', 'minibatch.log'), 'utf8').includes('registering it again') ? true : undefined));
      } finally {
        for (const agent of agents) agent.child.kill('SIGCONT');
      }
      const result = await running;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(readFileSync(job.output), expected);
      assert.ok(agents.some((agent) => agent.output().includes('joining again')), agents.map((agent) => agent.output()).join('\n'));
    } finally {
      await harness.stop();
    }
  });
});
