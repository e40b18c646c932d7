import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO, makeJob, runCli, tempDir } from '../../test/helpers.js';
import { createStudioServer, type StudioOptions } from './studio-server.js';

/*
 * The studio's JSON API over real runs: every run here is made by the real CLI on a small real
 * job, in one minibatch home shared by the tests; the server runs in-process and is called
 * over HTTP. The live run (events, cancel, resume) is a CLI child process.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

const CSP = /default-src 'self'/;

/** A request with fetch; every response, whatever its status, carries the Content-Security-Policy. */
async function call(base: string, path: string, init?: RequestInit): Promise<Reply> {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  assert.match(response.headers.get('content-security-policy') ?? '', CSP, `Content-Security-Policy on ${init?.method ?? 'GET'} ${path} (${response.status})`);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  let json: Json = undefined;
  if ((response.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, json };
}

/** A request whose path is sent as written (fetch would normalise `..` and `%2e%2e` away). */
function raw(base: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port, path, method: 'GET' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        assert.match(String(response.headers['content-security-policy'] ?? ''), CSP, `Content-Security-Policy on raw ${path}`);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

async function startServer(options: Omit<StudioOptions, 'host' | 'port'>): Promise<{ server: Server; base: string }> {
  const server = createStudioServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface SseEvent {
  event: string;
  data: Json;
}

/** The events of a server-sent-events stream, as they come, until the server ends it. */
async function* sse(url: string, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const response = await fetch(url, signal ? { signal } : {});
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.match(response.headers.get('content-security-policy') ?? '', CSP);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      yield { event, data: data ? JSON.parse(data) : null };
    }
  }
}

/** A script whose failure message holds commas, quotes and a newline (CSV-hostile). */
const FAIL_WEIRD = `export function run(miniBatch) {
  const names = miniBatch.map((file) => file.split('/').pop());
  if (names.includes('f-0002.txt')) throw new Error('bad, "quoted" input\\nsecond line, with comma');
  return names;
}
`;
const WEIRD_ERROR = 'bad, "quoted" input\nsecond line, with comma';

/** A small pipeline: a command step writes 4 documents, a parallel step lists them, a command step follows. */
function tinyPipeline(): string {
  const dir = tempDir('mb-studio-pipe-');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'names.mjs'), "import { basename } from 'node:path';\nexport function run(miniBatch) { return miniBatch.map((file) => basename(file)); }\n");
  writeFileSync(
    join(dir, 'pipeline.yml'),
    `type: pipeline
name: studio-pipe
jobs:
  prepare:
    type: command
    command: node -e "for (let i = 0; i < 4; i++) require('fs').writeFileSync(process.argv[1] + '/d' + i + '.txt', String(i))" \${{outputs.docs}}
    outputs:
      docs: {type: uri_folder}
  names:
    type: parallel
    inputs:
      docs: \${{parent.jobs.prepare.outputs.docs}}
    outputs:
      listed: {type: uri_folder}
    input_data: \${{inputs.docs}}
    mini_batch_size: "2"
    max_concurrency_per_instance: 1
    resource_monitor_interval: 0
    task:
      type: run_function
      code: ./src
      entry_script: names.mjs
      append_row_to: \${{outputs.listed}}
  finish:
    type: command
    command: echo finished
    inputs:
      x: \${{parent.jobs.names.outputs.listed}}
`,
  );
  return join(dir, 'pipeline.yml');
}

const home = join(tempDir('mb-studio-home-'), 'home');
let studio: { server: Server; base: string } | undefined;
let base = '';
/** Run ids by the job's name. */
const ids: Record<string, string> = {};
let brokenStateDir = '';
let okOutput = '';

async function runIdNamed(name: string): Promise<string> {
  const reply = await call(base, `/api/runs?q=${encodeURIComponent(name)}`);
  const matches = (reply.json.runs as { name: string; runId: string }[]).filter((run) => run.name === name);
  assert.equal(matches.length, 1, `one run named ${name}`);
  return matches[0]!.runId;
}

before(async () => {
  const ok = makeJob({ script: 'fixture_slow.mjs', files: 12, size: 2, programArguments: '--ms 100', extra: { name: 'studio-ok', resource_monitor_interval: 0.2 } });
  okOutput = ok.output;
  const fx = tempDir('mb-studio-fx-');
  writeFileSync(join(fx, 'fail_weird.mjs'), FAIL_WEIRD);
  const bad = makeJob({ script: 'fail_weird.mjs', fixtures: fx, files: 6, size: 2, retry: { max_retries: 0 }, extra: { name: 'studio-bad', error_threshold: 0 } });
  const broken = makeJob({ script: 'fixture_fail_while_broken.mjs', files: 6, size: 2, retry: { max_retries: 0 }, extra: { name: 'studio-broken' } });
  brokenStateDir = join(broken.dir, 'state');
  writeFileSync(join(brokenStateDir, 'broken.txt'), 'f-0003.txt\n');
  const results = await Promise.all([
    runCli(['run', ok.jobFile], { home }),
    runCli(['run', bad.jobFile], { home }),
    runCli(['run', broken.jobFile], { home }),
    runCli(['run', tinyPipeline()], { home }),
  ]);
  assert.equal(results[0]!.code, 0, results[0]!.stderr);
  assert.notEqual(results[1]!.code, 0, 'error_threshold 0: the bad run fails');
  assert.equal(results[2]!.code, 0, results[2]!.stderr);
  assert.equal(results[3]!.code, 0, results[3]!.stderr);
  studio = await startServer({ home });
  base = studio.base;
  for (const name of ['studio-ok', 'studio-bad', 'studio-broken', 'studio-pipe']) ids[name] = await runIdNamed(name);
});

after(async () => {
  await stopServer(studio?.server);
});

describe('studio API: runs', () => {
  it('GET /api/runs lists every run, newest first, with status and counts', async () => {
    const reply = await call(base, '/api/runs');
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    const runs = reply.json.runs as { runId: string; name: string; kind: string; status: string; succeeded: number; failed: number; total: number; startedAt: string }[];
    assert.deepEqual(runs.map((run) => run.name).sort(), ['studio-bad', 'studio-broken', 'studio-ok', 'studio-pipe']);
    const times = runs.map((run) => Date.parse(run.startedAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    const ok = runs.find((run) => run.name === 'studio-ok')!;
    assert.deepEqual([ok.kind, ok.status, ok.succeeded, ok.failed, ok.total], ['job', 'succeeded', 6, 0, 6]);
    const pipe = runs.find((run) => run.name === 'studio-pipe')!;
    assert.deepEqual([pipe.kind, pipe.status, pipe.succeeded, pipe.total], ['pipeline', 'succeeded', 3, 3]);
    assert.equal(runs.find((run) => run.name === 'studio-bad')!.status, 'failed');
  });

  it('?status= and ?q= filter the list (q: name or id, any case)', async () => {
    const failed = await call(base, '/api/runs?status=failed');
    assert.deepEqual(failed.json.runs.map((run: { name: string }) => run.name), ['studio-bad']);
    const succeeded = await call(base, '/api/runs?status=succeeded');
    assert.deepEqual(succeeded.json.runs.map((run: { name: string }) => run.name).sort(), ['studio-broken', 'studio-ok', 'studio-pipe']);
    assert.deepEqual((await call(base, '/api/runs?status=cancelled')).json.runs, []);
    const byName = await call(base, '/api/runs?q=STUDIO-OK');
    assert.deepEqual(byName.json.runs.map((run: { runId: string }) => run.runId), [ids['studio-ok']]);
    const byId = await call(base, `/api/runs?q=${ids['studio-bad']!.slice(-6)}`);
    assert.deepEqual(byId.json.runs.map((run: { name: string }) => run.name), ['studio-bad']);
    assert.deepEqual((await call(base, '/api/runs?q=no-such-run&status=succeeded')).json.runs, []);
  });

  it('GET /api/runs/:id: the run, its progress, settings groups (Parallel…), job_result.txt, no pipeline', async () => {
    const reply = await call(base, `/api/runs/${ids['studio-ok']}`);
    assert.equal(reply.status, 200);
    const details = reply.json;
    assert.equal(details.run.id, ids['studio-ok']);
    assert.equal(details.run.status, 'succeeded');
    assert.equal(details.run.kind, 'job');
    assert.equal(details.run.driver, null, 'no live driver once ended');
    assert.equal(details.progress.totalBatches, 6);
    assert.equal(details.progress.succeededBatches, 6);
    assert.deepEqual(details.settings.map((group: { title: string }) => group.title), ['Parallel', 'Error handling', 'Timeouts and monitoring', 'Task']);
    const parallel = Object.fromEntries(details.settings[0].fields);
    assert.equal(parallel.mini_batch_size, '2');
    assert.equal(parallel.max_concurrency_per_instance, '2');
    assert.equal(parallel.instance_count, '1');
    assert.equal(Object.fromEntries(details.settings[2].fields).resource_monitor_interval, '0.2');
    assert.equal(Object.fromEntries(details.settings[3].fields).entry_script, 'fixture_slow.mjs');
    assert.match(details.jobResult, /^Status: Succeeded/);
    assert.match(details.jobYaml, /name: studio-ok/);
    assert.match(details.readme, /\S/);
    assert.equal(details.pipeline, null);
    assert.equal(details.firstError, null);
  });

  it('a failed run: status, reason and the first error block', async () => {
    const details = (await call(base, `/api/runs/${ids['studio-bad']}`)).json;
    assert.equal(details.run.status, 'failed');
    assert.match(details.jobResult, /^Status: Failed/);
    assert.match(details.firstError, /^First error \(mini-batch 1/);
    assert.ok(details.firstError.includes('bad, "quoted" input\n    second line, with comma'), details.firstError);
  });

  it('a pipeline run: the step graph with ids and edges; a step by `<pipeline-run-id>.<step>`', async () => {
    const pipeId = ids['studio-pipe']!;
    const details = (await call(base, `/api/runs/${pipeId}`)).json;
    assert.equal(details.run.kind, 'pipeline');
    assert.equal(details.run.status, 'succeeded');
    assert.match(details.jobResult, /succeeded/i, 'pipeline_result.txt');
    assert.deepEqual(
      details.pipeline.steps.map((step: { name: string; id: string; type: string; status: string; dependsOn: string[] }) => [step.name, step.id, step.type, step.status, step.dependsOn]),
      [
        ['prepare', `${pipeId}.prepare`, 'command', 'succeeded', []],
        ['names', `${pipeId}.names`, 'parallel', 'succeeded', ['prepare']],
        ['finish', `${pipeId}.finish`, 'command', 'succeeded', ['names']],
      ],
    );
    assert.deepEqual(details.pipeline.edges, [
      { from: 'prepare', to: 'names' },
      { from: 'names', to: 'finish' },
    ]);
    const step = await call(base, `/api/runs/${pipeId}.names`);
    assert.equal(step.status, 200);
    assert.equal(step.json.run.id, `${pipeId}.names`);
    assert.equal(step.json.run.kind, 'job');
    assert.equal(step.json.run.status, 'succeeded');
    assert.equal(step.json.progress.totalBatches, 2);
    assert.equal(Object.fromEntries(step.json.settings[0].fields).mini_batch_size, '2');
    const batches = await call(base, `/api/runs/${pipeId}.names/batches`);
    assert.equal(batches.json.total, 2);
    // A command step is no mini-batch run, but its logs are there.
    const files = await call(base, `/api/runs/${pipeId}.prepare/files`);
    assert.ok(files.json.files.some((file: { path: string }) => file.path === 'logs/user/std_log.txt'));
    assert.equal((await call(base, `/api/runs/${pipeId}.nosuchstep`)).status, 404);
    assert.equal((await call(base, `/api/runs/${pipeId}.`)).status, 404, 'an empty step name is no step');
    assert.equal((await call(base, `/api/runs/${pipeId}./files`)).status, 404, 'an empty step name is no step');
  });

  it('unknown runs and APIs are 404, as JSON', async () => {
    for (const path of ['/api/runs/no-such-run', '/api/runs/no-such-run/batches', '/api/runs/no-such-run/perf', '/api/runs/no-such-run/events', '/api/runs/no-such-run/files', '/api/runs/no-such-run/file?path=job.yml', '/api/runs/no-such-run/outputs', `/api/runs/${ids['studio-ok']}/nosuch`, '/api/nosuch']) {
      const reply = await call(base, path);
      assert.equal(reply.status, 404, path);
      assert.equal(typeof reply.json.error, 'string', path);
    }
    assert.equal((await call(base, `/api/runs/${ids['studio-ok']}`, { method: 'DELETE' })).status, 405);
  });
});

describe('studio API: mini-batches and perf', () => {
  it('pagination: offset and limit, total counts all rows', async () => {
    const id = ids['studio-ok']!;
    const all = (await call(base, `/api/runs/${id}/batches`)).json;
    assert.equal(all.total, 6);
    assert.deepEqual(all.rows.map((row: { id: number }) => row.id), [0, 1, 2, 3, 4, 5]);
    const row = all.rows[0];
    assert.deepEqual([row.tries, row.total, row.succeeded, row.failed, row.status, row.error], [1, 2, 2, 0, 'succeeded', '']);
    assert.match(row.process, /^node-0\/process-\d$/);
    assert.ok(Number.isFinite(Date.parse(row.start)));
    assert.ok(row.seconds >= 0.05, `fixture_slow takes 100 ms: ${row.seconds}`);
    const page = (await call(base, `/api/runs/${id}/batches?offset=2&limit=2`)).json;
    assert.equal(page.total, 6);
    assert.deepEqual(page.rows.map((one: { id: number }) => one.id), [2, 3]);
    const past = (await call(base, `/api/runs/${id}/batches?offset=10`)).json;
    assert.deepEqual([past.total, past.rows], [6, []]);
    const nonsense = (await call(base, `/api/runs/${id}/batches?offset=-5&limit=abc`)).json;
    assert.equal(nonsense.rows.length, 6, 'bad numbers fall back to the defaults');
  });

  it('sort and order; a bad sort is a 400', async () => {
    const id = ids['studio-ok']!;
    const desc = (await call(base, `/api/runs/${id}/batches?sort=id&order=desc&limit=3`)).json;
    assert.deepEqual(desc.rows.map((row: { id: number }) => row.id), [5, 4, 3]);
    const bySeconds = (await call(base, `/api/runs/${id}/batches?sort=seconds&order=desc`)).json.rows.map((row: { seconds: number }) => row.seconds);
    assert.deepEqual(bySeconds, [...bySeconds].sort((a, b) => b - a));
    const badStatus = (await call(base, `/api/runs/${ids['studio-broken']}/batches?sort=status`)).json.rows.map((row: { status: string }) => row.status);
    assert.deepEqual(badStatus, ['failed', 'succeeded', 'succeeded']);
    const bad = await call(base, `/api/runs/${id}/batches?sort=error`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /sort: expected one of/);
    assert.equal((await call(base, `/api/runs/${id}/batches?sort=constructor`)).status, 400);
  });

  it('errors holding commas, quotes and newlines parse as one field; status and q filter', async () => {
    const id = ids['studio-bad']!;
    const all = (await call(base, `/api/runs/${id}/batches`)).json;
    const failed = all.rows.filter((row: { status: string }) => row.status === 'failed');
    assert.equal(failed.length, 1);
    assert.deepEqual([failed[0].id, failed[0].total, failed[0].failed, failed[0].error], [1, 2, 2, WEIRD_ERROR]);
    for (const row of all.rows) assert.ok(['succeeded', 'failed'].includes(row.status), `status column intact: ${JSON.stringify(row)}`);
    const onlyFailed = (await call(base, `/api/runs/${id}/batches?status=failed`)).json;
    assert.deepEqual([onlyFailed.total, onlyFailed.rows[0]?.error], [1, WEIRD_ERROR]);
    const q = (await call(base, `/api/runs/${id}/batches?q=${encodeURIComponent('SECOND LINE, with')}`)).json;
    assert.deepEqual(q.rows.map((row: { id: number }) => row.id), [1]);
    // q also finds a mini-batch by id (2 processes: no process-5).
    const byId = (await call(base, `/api/runs/${ids['studio-ok']}/batches?q=5`)).json;
    assert.deepEqual(byId.rows.map((row: { id: number }) => row.id), [5]);
    assert.equal((await call(base, `/api/runs/${id}/batches?status=running`)).json.total, 0);
  });

  it('perf: node CPU/memory rows (resource_monitor_interval 0.2 s) and a throughput series', async () => {
    const perf = (await call(base, `/api/runs/${ids['studio-ok']}/perf`)).json;
    const nodes = Object.keys(perf.nodes);
    assert.deepEqual(nodes, ['node-0']);
    const rows = perf.nodes['node-0'] as Record<string, number | string>[];
    assert.ok(rows.length >= 1, 'at least one sample');
    for (const row of rows) {
      assert.ok(Number.isFinite(Date.parse(String(row.time))), `time: ${row.time}`);
      assert.equal(typeof row.cpu_percent, 'number');
      assert.ok(Number.isFinite(row.cpu_percent) && Number(row.cpu_percent) >= 0);
      assert.ok(Number(row.memory_total_mb) > 0);
    }
    assert.ok(perf.throughput.length >= 1);
    assert.equal(perf.throughput.reduce((sum: number, point: { batches: number }) => sum + point.batches, 0), 6, 'every mini-batch counted once');
    for (const point of perf.throughput) assert.ok(Number.isFinite(Date.parse(point.t)));
    // No monitor: no nodes, still a throughput series.
    const bad = (await call(base, `/api/runs/${ids['studio-broken']}/perf`)).json;
    assert.deepEqual(bad.nodes, {});
    assert.equal(bad.throughput.reduce((sum: number, point: { batches: number }) => sum + point.batches, 0), 3);
  });
});

describe('studio API: files and outputs', () => {
  it('/files lists logs/ and job.yml only (no state/)', async () => {
    const files = (await call(base, `/api/runs/${ids['studio-ok']}/files`)).json.files as { path: string; size: number; kind: string }[];
    const paths = files.map((file) => file.path);
    for (const expected of ['job.yml', 'logs', 'logs/job_result.txt', 'logs/readme.txt', 'logs/sys/job_report/processed_mini-batches.csv', 'logs/sys/perf/node-0/node_resource_usage.csv']) assert.ok(paths.includes(expected), `${expected} in ${paths.join(' ')}`);
    assert.ok(!paths.some((path) => path.startsWith('state')), 'state/ is not listed');
    assert.equal(files.find((file) => file.path === 'logs')!.kind, 'folder');
    assert.ok(files.find((file) => file.path === 'logs/job_result.txt')!.size > 0);
    const pipeFiles = (await call(base, `/api/runs/${ids['studio-pipe']}/files`)).json.files.map((file: { path: string }) => file.path);
    assert.ok(pipeFiles.includes('pipeline.yml') && pipeFiles.includes('logs/pipeline_result.txt'), pipeFiles.join(' '));
  });

  it('/file?path= is text/plain; ?download=1 an attachment; folders 400, missing 404', async () => {
    const id = ids['studio-ok']!;
    const text = await call(base, `/api/runs/${id}/file?path=logs/job_result.txt`);
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(text.headers.get('content-disposition'), null);
    assert.match(text.text, /^Status: Succeeded/);
    const csv = await call(base, `/api/runs/${id}/file?path=${encodeURIComponent('logs/sys/job_report/processed_mini-batches.csv')}`);
    assert.match(csv.text, /^id,tries,process,start,total,succeeded,failed,seconds,status,error\n/);
    const download = await call(base, `/api/runs/${id}/file?path=job.yml&download=1`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/octet-stream');
    assert.equal(download.headers.get('content-disposition'), 'attachment; filename="job.yml"');
    assert.match(download.text, /name: studio-ok/);
    assert.equal((await call(base, `/api/runs/${id}/file?path=logs`)).status, 400);
    assert.equal((await call(base, `/api/runs/${id}/file`)).status, 400, 'no path: the run folder itself');
    assert.equal((await call(base, `/api/runs/${id}/file?path=logs/nothing.txt`)).status, 404);
  });

  it('/outputs lists the declared outputs; ?name= (and &path= in a folder) serves one', async () => {
    const id = ids['studio-ok']!;
    const outputs = (await call(base, `/api/runs/${id}/outputs`)).json.outputs;
    assert.deepEqual(outputs, [{ name: 'result', path: okOutput, kind: 'file' }], 'append_row_to is the declared output, listed once');
    const result = await call(base, `/api/runs/${id}/outputs?name=result`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.deepEqual(result.text.trim().split('\n'), Array.from({ length: 12 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`));
    const download = await call(base, `/api/runs/${id}/outputs?name=result&download=1`);
    assert.equal(download.headers.get('content-disposition'), 'attachment; filename="result.txt"');
    assert.equal((await call(base, `/api/runs/${id}/outputs?name=nosuch`)).status, 404);

    const pipeId = ids['studio-pipe']!;
    const pipeOutputs = (await call(base, `/api/runs/${pipeId}/outputs`)).json.outputs as { name: string; kind: string; entries?: { path: string }[] }[];
    assert.deepEqual(pipeOutputs.map((output) => [output.name, output.kind]), [
      ['prepare.docs', 'folder'],
      ['names.listed', 'folder'],
    ]);
    assert.deepEqual(pipeOutputs[0]!.entries!.map((entry) => entry.path), ['d0.txt', 'd1.txt', 'd2.txt', 'd3.txt']);
    const doc = await call(base, `/api/runs/${pipeId}/outputs?name=prepare.docs&path=d2.txt`);
    assert.deepEqual([doc.status, doc.text], [200, '2']);
    const listed = await call(base, `/api/runs/${pipeId}/outputs?name=names.listed&path=parallel_run_step.txt`);
    assert.deepEqual(listed.text.trim().split('\n'), ['d0.txt', 'd1.txt', 'd2.txt', 'd3.txt']);
    assert.equal((await call(base, `/api/runs/${pipeId}/outputs?name=prepare.docs`)).status, 400, 'a folder is not a file');
    // The step's own view of its outputs.
    const stepOutputs = (await call(base, `/api/runs/${pipeId}.names/outputs`)).json.outputs;
    assert.deepEqual(stepOutputs.map((output: { name: string; kind: string }) => [output.name, output.kind]), [
      ['listed', 'folder'],
      ['append_row', 'file'],
    ]);
    const appended = await call(base, `/api/runs/${pipeId}.names/outputs?name=append_row`);
    assert.deepEqual(appended.text.trim().split('\n'), ['d0.txt', 'd1.txt', 'd2.txt', 'd3.txt']);
  });
});

describe('studio API: security', () => {
  const outside = tempDir('mb-studio-outside-');
  const SECRET = 'TOP-SECRET-9f3b';
  let runDir = '';
  before(() => {
    writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n`);
    runDir = join(home, 'runs', ids['studio-ok']!);
    symlinkSync(join(outside, 'secret.txt'), join(runDir, 'logs', 'escape.txt'));
    symlinkSync(outside, join(runDir, 'logs', 'outside'));
    symlinkSync('/etc/passwd', join(runDir, 'logs', 'passwd'));
    symlinkSync('/', join(runDir, 'logs', 'root'));
    writeFileSync(join(runDir, 'logs', 'evil.html'), '<!doctype html><script>alert(1)</script>\n');
    writeFileSync(join(runDir, 'logs', 'inside.txt'), 'inside\n');
  });

  const refused = (reply: { status: number; text: string }, what: string) => {
    assert.ok([400, 403, 404].includes(reply.status), `${what}: ${reply.status} ${reply.text.slice(0, 200)}`);
    assert.ok(!reply.text.includes(SECRET), `${what}: no secret`);
    assert.ok(!/root:.*:0:0:/.test(reply.text), `${what}: no /etc/passwd`);
  };

  it('file paths outside the run directory are refused: .., absolute, encoded', async () => {
    const id = ids['studio-ok']!;
    const attempts = [
      '../../../../etc/passwd',
      '/etc/passwd',
      `${outside}/secret.txt`,
      'logs/../../../../../../etc/passwd',
      '..',
      '../',
      `../../../../..${outside}/secret.txt`,
      'logs/\0/job_result.txt',
    ];
    for (const path of attempts) refused(await call(base, `/api/runs/${id}/file?path=${encodeURIComponent(path)}`), path);
    // The encodings, sent as written.
    for (const query of ['path=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'path=%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd', 'path=..%2f..%2f..%2f..%2f..%2fetc%2fpasswd', 'path=%252e%252e%252f%252e%252e%252fetc%252fpasswd', 'path=..%5c..%5c..%5cetc%5cpasswd', 'path=%2fetc%2fpasswd']) {
      refused(await raw(base, `/api/runs/${id}/file?${query}`), query);
    }
  });

  it('symbolic links inside the run directory that lead outside are refused, and not walked by /files', async () => {
    const id = ids['studio-ok']!;
    for (const path of ['logs/escape.txt', 'logs/outside/secret.txt', 'logs/passwd', 'logs/root/etc/passwd']) {
      const reply = await call(base, `/api/runs/${id}/file?path=${encodeURIComponent(path)}`);
      assert.equal(reply.status, 403, path);
      refused(reply, path);
    }
    const inside = await call(base, `/api/runs/${id}/file?path=logs/inside.txt`);
    assert.equal(inside.text, 'inside\n');
    const files = (await call(base, `/api/runs/${id}/files`)).json.files.map((file: { path: string }) => file.path) as string[];
    assert.ok(files.includes('logs/inside.txt'));
    assert.ok(!files.some((path) => path.startsWith('logs/outside/') || path.startsWith('logs/root/')), `nothing listed beyond the links: ${files.filter((path) => path.startsWith('logs/outside') || path.startsWith('logs/root')).join(' ')}`);
  });

  it('a run file that is HTML is served as text/plain (or a download), never text/html', async () => {
    const id = ids['studio-ok']!;
    const page = await call(base, `/api/runs/${id}/file?path=logs/evil.html`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const download = await call(base, `/api/runs/${id}/file?path=logs/evil.html&download=1`);
    assert.equal(download.headers.get('content-type'), 'application/octet-stream');
    assert.equal(download.headers.get('content-disposition'), 'attachment; filename="evil.html"');
  });

  it('a file that grows while it is served: the body is the length announced, the connection stays usable', async () => {
    const id = ids['studio-ok']!;
    const big = join(runDir, 'logs', 'growing.log');
    const size = 8 * 1024 * 1024;
    writeFileSync(big, Buffer.alloc(size, 'a'));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(base);
    const get = (path: string, onHeaders?: () => void) =>
      new Promise<{ status: number; length: number; announced: number }>((resolve, reject) => {
        const request = httpRequest({ host: hostname, port, path, agent }, (response) => {
          onHeaders?.();
          let length = 0;
          response.on('data', (chunk: Buffer) => (length += chunk.length));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, length, announced: Number(response.headers['content-length']) }));
          response.on('error', reject);
        });
        request.on('error', reject);
        request.end();
      });
    try {
      // The log grows (as a running job's does) once the answer has started.
      const first = await get(`/api/runs/${id}/file?path=logs/growing.log`, () => appendFileSync(big, Buffer.alloc(1024 * 1024, 'b')));
      assert.deepEqual(first, { status: 200, length: size, announced: size });
      const second = await get(`/api/runs/${id}/file?path=logs/inside.txt`);
      assert.deepEqual(second, { status: 200, length: 7, announced: 7 });
      const empty = join(runDir, 'logs', 'empty.txt');
      writeFileSync(empty, '');
      assert.deepEqual(await get(`/api/runs/${id}/file?path=logs/empty.txt`), { status: 200, length: 0, announced: 0 });
    } finally {
      agent.destroy();
      rmSync(big);
    }
  });

  it('run ids that are paths are refused: .., ../x, a/b, encoded, malformed', async () => {
    const ok = ids['studio-ok']!;
    // (A bare `.` or `..` never reaches the API as an id: the address is normalised first.)
    for (const id of ['..', '../x', 'a/b', `../runs/${ok}`, `${ok}/../${ok}`, '..x', '.hidden', 'a\\b', `..${ok}`, `${ok}/..`]) {
      for (const what of ['', '/files', '/file?path=job.yml', '/batches']) {
        const reply = await call(base, `/api/runs/${encodeURIComponent(id)}${what}`);
        assert.ok([400, 404].includes(reply.status), `${id}${what}: ${reply.status}`);
        refused(reply, `${id}${what}`);
      }
      assert.ok([400, 404].includes((await call(base, `/api/runs/${encodeURIComponent(id)}/resume`, { method: 'POST' })).status), `POST ${id}/resume`);
    }
    // Sent as written. Under /api/ they are refused; `..` segments that climb out of /api/ land
    // on the app's page (the server normalises them away), which is no file of the machine either.
    for (const path of ['/api/runs/..%2f..%2f..%2fetc/file?path=passwd', '/api/runs/%2E%2E%2F%2E%2E%2F/file?path=etc/passwd', '/api/runs/..%5c..%5c/file?path=job.yml', '/api/runs/%E0%A4%A/files', '/api/runs/%/files', `/api/runs/${ok}%2f..%2f..%2f..%2f..%2fetc/file?path=passwd`]) {
      const reply = await raw(base, path);
      assert.ok([400, 403, 404].includes(reply.status), `${path}: ${reply.status} ${reply.text.slice(0, 200)}`);
      refused(reply, path);
    }
    for (const path of ['/api/runs/../../../../etc/passwd', '/api/runs/%2e%2e/%2e%2e/file?path=etc/passwd', '/%2e%2e/package.json', '/..%2fpackage.json', '/../../../etc/passwd', '/../package.json', '/%2e%2e%2fpackage.json', '/api/../../bin/minibatch.js']) {
      const reply = await raw(base, path);
      assert.notEqual(reply.status, 500, path);
      if (reply.status === 200) assert.match(String(reply.headers['content-type']), /^text\/(html|javascript|css)/, path);
      else assert.ok([400, 403, 404].includes(reply.status), `${path}: ${reply.status}`);
      refused({ status: 404, text: reply.text }, path);
      assert.ok(!reply.text.includes('"name": "minibatch"'), `${path}: not package.json`);
      assert.ok(!reply.text.includes("import '../dist/bundle/main.js'"), `${path}: not the CLI`);
    }
    assert.equal((await raw(base, '/api/runs/%E0%A4%A/files')).status, 400, 'a malformed escape is a bad request, not a server error');
  });

  it('output paths stay inside the output folder', async () => {
    const pipeId = ids['studio-pipe']!;
    for (const path of ['../..', '..', '../../../../../../etc/passwd', '/etc/passwd', `${outside}/secret.txt`, '../names/job.yml']) {
      const reply = await call(base, `/api/runs/${pipeId}/outputs?name=prepare.docs&path=${encodeURIComponent(path)}`);
      refused(reply, `output path ${path}`);
      assert.notEqual(reply.status, 200, path);
    }
    refused(await raw(base, `/api/runs/${pipeId}/outputs?name=prepare.docs&path=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd`), 'encoded output path');
  });

  it('a studio with a token: 401 without it; Bearer, ?token= (sets an HttpOnly cookie) and the cookie work', async () => {
    const token = 'studio-test-token-0123456789';
    const guarded = await startServer({ home, token });
    try {
      for (const path of ['/api/runs', `/api/runs/${ids['studio-ok']}`, `/api/runs/${ids['studio-ok']}/file?path=job.yml`, '/', '/app.js']) {
        const reply = await call(guarded.base, path);
        assert.equal(reply.status, 401, path);
        assert.ok(!reply.text.includes('studio-ok'), `${path}: nothing of the runs`);
      }
      assert.equal((await call(guarded.base, `/api/runs/${ids['studio-ok']}/cancel`, { method: 'POST' })).status, 401);
      assert.equal((await call(guarded.base, '/api/runs', { headers: { authorization: 'Bearer wrong-token-wrong-token-0000' } })).status, 401);
      assert.equal((await call(guarded.base, '/api/runs?token=studio-test-token-012345678')).status, 401, 'one character short');
      assert.equal((await call(guarded.base, '/api/runs', { headers: { cookie: 'minibatch_token=nope' } })).status, 401);

      const bearer = await call(guarded.base, '/api/runs', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(bearer.status, 200);
      assert.equal(bearer.json.runs.length >= 4, true);
      assert.equal(bearer.headers.get('set-cookie'), null, 'no cookie for header auth');

      const query = await call(guarded.base, `/api/runs?token=${token}`);
      assert.equal(query.status, 200);
      const cookie = query.headers.get('set-cookie') ?? '';
      assert.match(cookie, new RegExp(`^minibatch_token=${token};`));
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);

      const withCookie = await call(guarded.base, `/api/runs/${ids['studio-ok']}`, { headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(withCookie.status, 200);
      assert.equal(withCookie.json.run.id, ids['studio-ok']);
      const among = await call(guarded.base, `/api/runs/${ids['studio-ok']}/file?path=job.yml`, { headers: { cookie: `theme=dark; ${cookie.split(';')[0]!}; other=1` } });
      assert.equal(among.status, 200);
    } finally {
      await stopServer(guarded.server);
    }
  });

  it('the Content-Security-Policy header is on the app page too, whatever its status', async () => {
    const page = await call(base, '/');
    assert.ok([200, 404].includes(page.status));
    if (page.status === 200) assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const missing = await call(base, '/nothing-here.js');
    assert.equal(missing.status, 404);
  });
});

describe('studio API: events', () => {
  it('a finished run: one progress event, then end', async () => {
    const events: SseEvent[] = [];
    for await (const event of sse(`${base}/api/runs/${ids['studio-ok']}/events`)) events.push(event);
    assert.deepEqual(events.map((event) => event.event), ['progress', 'end']);
    assert.equal(events[0]!.data.run.status, 'succeeded');
    assert.equal(events[0]!.data.progress.succeededBatches, 6);
    assert.equal(events[0]!.data.pipeline, null);
    const pipe: SseEvent[] = [];
    for await (const event of sse(`${base}/api/runs/${ids['studio-pipe']}/events`)) pipe.push(event);
    assert.deepEqual(pipe.map((event) => event.event), ['progress', 'end']);
    assert.equal(pipe[0]!.data.pipeline.steps.length, 3);
  });
});

describe('studio API: actions on a live run (cancel, resume) and rerun-failed', () => {
  let child: ChildProcess | undefined;
  let childExit: Promise<number | null>;
  let slowId = '';

  before(async () => {
    // 16 mini-batches of 600 ms on 2 processes: about 5 s of work.
    const slow = makeJob({ script: 'fixture_slow.mjs', files: 16, size: 1, processes: 2, programArguments: '--ms 600', extra: { name: 'studio-slow' } });
    child = spawn(process.execPath, [CLI, 'run', slow.jobFile], { cwd: REPO, env: { ...process.env, MINIBATCH_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    childExit = new Promise((resolve) => child!.on('close', (code) => resolve(code)));
    childExit.then((code) => {
      if (code !== 143 && code !== 0) process.stderr.write(`studio-slow exited ${code}: ${stderr}\n`);
    });
    slowId = await waitFor('the slow run to be running', async () => {
      // (A running run has no name in the listing yet: that comes from summary.json, written at the end.)
      const runs = (await call(base, '/api/runs?status=running&q=studio-slow')).json.runs as { runId: string }[];
      return runs.find((run) => run.runId.startsWith('studio-slow-'))?.runId;
    });
  });

  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('wrong states: cancel a finished run, resume a succeeded one or a pipeline, resume a running one → 409; unknown ids/actions → 404', async () => {
    const cancelDone = await call(base, `/api/runs/${ids['studio-ok']}/cancel`, { method: 'POST' });
    assert.equal(cancelDone.status, 409);
    assert.match(cancelDone.json.error, /not running \(status: succeeded\)/);
    assert.equal((await call(base, `/api/runs/${ids['studio-ok']}/resume`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, `/api/runs/${ids['studio-pipe']}/resume`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, `/api/runs/${ids['studio-pipe']}/rerun-failed`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, `/api/runs/${ids['studio-pipe']}/cancel`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, `/api/runs/${slowId}/resume`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, `/api/runs/${slowId}/rerun-failed`, { method: 'POST' })).status, 409);
    assert.equal((await call(base, '/api/runs/no-such-run/cancel', { method: 'POST' })).status, 404);
    assert.equal((await call(base, '/api/runs/no-such-run/resume', { method: 'POST' })).status, 404);
    const unknownAction = await call(base, `/api/runs/${slowId}/explode`, { method: 'POST' });
    assert.equal(unknownAction.status, 404);
    assert.match(unknownAction.json.error, /expected cancel, resume or rerun-failed/);
    assert.equal((await call(base, `/api/runs/${slowId}`, { method: 'POST' })).status, 404);
    const still = (await call(base, `/api/runs/${slowId}`)).json.run;
    assert.equal(still.status, 'running', 'none of that touched the live run');
    assert.equal(typeof still.driver.pid, 'number');
  });

  it('a running run: progress events with growing counts; cancel → 202, the run ends cancelled and the stream ends', async () => {
    const seen: { status: string; done: number }[] = [];
    let cancelled: Reply | undefined;
    let ended = false;
    for await (const event of sse(`${base}/api/runs/${slowId}/events`)) {
      if (event.event === 'end') {
        ended = true;
        break;
      }
      assert.equal(event.event, 'progress');
      seen.push({ status: event.data.run.status, done: event.data.run.succeeded + event.data.run.failed });
      const running = seen.filter((one) => one.status === 'running');
      if (!cancelled && running.length >= 2 && running.at(-1)!.done > running[0]!.done) {
        cancelled = await call(base, `/api/runs/${slowId}/cancel`, { method: 'POST' });
      }
    }
    assert.ok(ended, 'the stream ends with an end event');
    assert.ok(cancelled, `cancelled while running (progress seen: ${JSON.stringify(seen)})`);
    assert.equal(cancelled.status, 202);
    assert.match(cancelled.json.message, /asked the driver \(pid \d+\) to stop/);
    assert.equal(seen.at(-1)!.status, 'cancelled');
    const done = seen.at(-1)!.done;
    assert.ok(done < 16, `stopped before the end: ${done}/16`);
    assert.equal(await childExit, 143, 'the CLI driver stopped by SIGTERM');
    const details = (await call(base, `/api/runs/${slowId}`)).json;
    assert.equal(details.run.status, 'cancelled');
    assert.equal(details.run.driver, null);
    assert.deepEqual((await call(base, '/api/runs?status=cancelled')).json.runs.map((run: { runId: string }) => run.runId), [slowId]);
    assert.equal((await call(base, `/api/runs/${slowId}/cancel`, { method: 'POST' })).status, 409, 'nothing to cancel any more');
  });

  it('resume on the cancelled run → 202; it goes on and succeeds', async () => {
    const resumed = await call(base, `/api/runs/${slowId}/resume`, { method: 'POST' });
    assert.equal(resumed.status, 202);
    assert.match(resumed.json.message, /started: minibatch job resume /);
    const run = await waitFor('the resumed run to succeed', async () => {
      // driver null too: the engine records the end before it flushes processed_mini-batches.csv.
      const now = (await call(base, `/api/runs/${slowId}`)).json.run;
      return now.status === 'succeeded' && now.driver === null ? now : undefined;
    });
    assert.deepEqual([run.succeeded, run.failed, run.total], [16, 0, 16]);
    const batches = (await call(base, `/api/runs/${slowId}/batches?limit=500`)).json;
    assert.equal(batches.total, 16);
    assert.ok(batches.rows.every((row: { status: string }) => row.status === 'succeeded'));
  });

  it('rerun-failed → 202; the failed mini-batch runs again and the run has no failure left', async () => {
    const id = ids['studio-broken']!;
    const before = (await call(base, `/api/runs/${id}`)).json.run;
    assert.deepEqual([before.status, before.succeeded, before.failed], ['succeeded', 2, 1]);
    rmSync(join(brokenStateDir, 'broken.txt')); // the data is fixed
    const rerun = await call(base, `/api/runs/${id}/rerun-failed`, { method: 'POST' });
    assert.equal(rerun.status, 202);
    assert.match(rerun.json.message, /started: minibatch job rerun-failed /);
    const run = await waitFor('the re-run to end', async () => {
      const now = (await call(base, `/api/runs/${id}`)).json.run;
      return now.status !== 'running' && now.failed === 0 && now.driver === null ? now : undefined;
    });
    assert.deepEqual([run.status, run.succeeded, run.failed], ['succeeded', 3, 0]);
    assert.deepEqual(readFileSync(join(brokenStateDir, 'runs.log'), 'utf8').trim().split('\n').sort(), ['0', '1', '1', '2'], 'only mini-batch 1 ran again');
    // processed_mini-batches.csv now logs mini-batch 1 twice (failed, then succeeded): the table shows its state now.
    assert.equal((await call(base, `/api/runs/${id}/batches?status=failed`)).json.total, 0);
    const table = (await call(base, `/api/runs/${id}/batches`)).json;
    assert.deepEqual(table.rows.map((row: { id: number; status: string }) => [row.id, row.status]), [
      [0, 'succeeded'],
      [1, 'succeeded'],
      [2, 'succeeded'],
    ]);
    assert.equal(table.total, 3);
  });
});

describe('minibatch studio (the CLI)', () => {
  /** Starts `minibatch studio` and reads the address it prints. */
  async function startCli(args: string[]): Promise<{ child: ChildProcess; stdout: () => string; exit: Promise<number | null> }> {
    const env: NodeJS.ProcessEnv = { ...process.env, MINIBATCH_HOME: home };
    delete env.MINIBATCH_STUDIO_TOKEN;
    const child = spawn(process.execPath, [CLI, 'studio', ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(`minibatch studio to print its address (stderr: ${stderr})`, async () => /http:\/\/\S+:\d+\//.test(stdout) || (child.exitCode !== null && Promise.reject(new Error(`studio exited ${child.exitCode}: ${stderr}`))), 15_000);
    return { child, stdout: () => stdout, exit };
  }

  async function stopCli(started: { child: ChildProcess; exit: Promise<number | null> }): Promise<number | null> {
    started.child.kill('SIGTERM');
    const timer = setTimeout(() => started.child.kill('SIGKILL'), 5_000);
    const code = await started.exit;
    clearTimeout(timer);
    return code;
  }

  it('--host 0.0.0.0 --port 0: prints the real port and a token; requests without it get 401', async () => {
    const started = await startCli(['--port', '0', '--host', '0.0.0.0']);
    try {
      const match = /http:\/\/0\.0\.0\.0:(\d+)\/\?token=([\w-]+)\n/.exec(started.stdout());
      assert.ok(match, started.stdout());
      const port = Number(match[1]);
      assert.ok(port > 0, 'the port actually bound, not 0');
      assert.match(started.stdout(), /every request needs this token/);
      assert.match(started.stdout(), new RegExp(`runs of ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const cliBase = `http://127.0.0.1:${port}`;
      const denied = await call(cliBase, '/api/runs');
      assert.equal(denied.status, 401);
      assert.equal((await call(cliBase, `/api/runs/${ids['studio-ok']}/file?path=job.yml`)).status, 401);
      const allowed = await call(cliBase, '/api/runs', { headers: { authorization: `Bearer ${match[2]}` } });
      assert.equal(allowed.status, 200);
      assert.ok(allowed.json.runs.some((run: { runId: string }) => run.runId === ids['studio-ok']));
    } finally {
      assert.equal(await stopCli(started), 0, 'SIGTERM stops it cleanly');
    }
  });

  it('loopback by default: no token needed; a bad port is a usage error', async () => {
    const started = await startCli(['--port', '0']);
    try {
      const match = /http:\/\/127\.0\.0\.1:(\d+)\/\n/.exec(started.stdout());
      assert.ok(match, started.stdout());
      assert.doesNotMatch(started.stdout(), /token/);
      const reply = await call(`http://127.0.0.1:${match[1]}`, '/api/runs');
      assert.equal(reply.status, 200);
    } finally {
      assert.equal(await stopCli(started), 0);
    }
    const bad = await runCli(['studio', '--port', '70000'], { home });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--port: expected a port number/);
  });
});
