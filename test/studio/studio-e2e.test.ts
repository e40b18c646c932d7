import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createStudioServer } from '../../src/studio/studio-server.js';
import { CLI, REPO, makeJob, readLines, runCli, tempDir } from '../helpers.js';

/*
 * The studio end to end: real runs made by the real CLI, the real server, and Debian's
 * Chromium driven by playwright-core. The run page's screenshot in the README comes from here.
 */
// The callbacks given to page.waitForFunction / evaluate run in the browser, where these exist.
declare const document: { querySelector(selector: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number } };
declare const window: { scrollTo(x: number, y: number): void };

const CHROMIUM = '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install chromium)';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

describe('studio in a browser', { skip: NO_CHROMIUM, timeout: 300_000 }, () => {
  const home = join(tempDir('mb-studio-e2e-'), 'home');
  let browser: Browser;
  let server: ReturnType<typeof createStudioServer>;
  let base = '';
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    server = createStudioServer({ home, host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('the run list shows finished runs; a run page shows the first error on top, settings and the mini-batch table', async () => {
    const job = makeJob({ script: 'fixture_fail_always.mjs', files: 6, size: 2, programArguments: '--bad f-0002.txt,f-0005.txt', retry: { max_retries: 0 } });
    const failed = await runCli(['run', job.jobFile, '--json'], { home });
    assert.equal(failed.code, 0, failed.stderr);
    const runId = JSON.parse(failed.stdout).runId as string;
    await page.goto(`${base}/`);
    await page.waitForSelector(`#runs tr[data-run="${runId}"]`);
    assert.equal(await page.textContent(`#runs tr[data-run="${runId}"] .badge`), 'succeeded');
    await page.click(`#runs tr[data-run="${runId}"] a`);
    await page.waitForSelector('#batch-table tbody tr');
    // Mini-batches 1 and 2 both fail, on two processes: the first error is whichever failed first.
    assert.match((await page.textContent('#first-error')) ?? '', /First error \(mini-batch [12], try 1 of 1/);
    assert.match((await page.textContent('#settings')) ?? '', /mini_batch_size\s*2/);
    assert.equal(await page.locator('#batch-table tbody tr').count(), 3);
    await page.selectOption('#batch-status', 'failed');
    await page.waitForFunction(() => document.querySelectorAll('#batch-table tbody tr').length === 2);
    assert.match((await page.textContent("#batch-table tbody")) ?? "", /bad input in mini-batch 1/);
    assert.deepEqual(pageErrors, []);
  });

  it('a running job: progress advances without a reload, logs open, and Cancel stops it', async () => {
    const job = makeJob({ script: 'fixture_slow.mjs', files: 60, size: 1, processes: 1, programArguments: '--ms 250', extra: { resource_monitor_interval: 0.5 } });
    const driver = spawn(process.execPath, [CLI, 'run', job.jobFile], { cwd: REPO, env: { ...process.env, MINIBATCH_HOME: home }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => driver.once('exit', resolve));
    let runId = '';
    for (let i = 0; i < 400 && !runId; i++) {
      const runs = existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')) : [];
      for (const entry of runs) if (existsSync(join(home, 'runs', entry, 'state', 'driver.json')) && existsSync(join(home, 'runs', entry, 'state', 'progress.json'))) runId = entry;
      if (!runId) await sleep(50);
    }
    assert.ok(runId, 'the job started');
    await page.goto(`${base}/#/run/${runId}`);
    await page.waitForSelector('#done-count');
    const count = async () => Number(((await page.textContent('#done-count')) ?? '0').split('/')[0]?.trim());
    const first = await count();
    await page.waitForFunction((before) => Number((document.querySelector('#done-count')?.textContent ?? '0').split('/')[0]) > before + 1, first, { timeout: 30_000 });
    assert.ok((await count()) > first + 1, 'the count went up by itself');
    assert.equal(await page.textContent('#run-status .badge'), 'running');
    // The README's screenshot: the run page of a running job, rows in its mini-batch table.
    // Written into docs/ only by `npm run docs:screenshot`: a test run leaves the clone as it was.
    await page.waitForSelector('#batch-table tbody tr', { timeout: 30_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const screenshot = process.env.UPDATE_SCREENSHOTS === '1' ? join(REPO, 'docs', 'studio-run.png') : join(tempDir('mb-studio-shot-'), 'studio-run.png');
    await page.screenshot({ path: screenshot, fullPage: false });
    assert.ok(existsSync(screenshot), 'the screenshot was written');
    await page.click('#file-list a[data-path="logs/sys/minibatch.log"]');
    await page.waitForFunction(() => (document.querySelector('#file-viewer')?.textContent ?? '').includes('INFO run '));
    await page.click('#cancel');
    await page.waitForSelector('#run-status .badge[data-status="cancelled"]', { timeout: 60_000 });
    assert.equal(await exited, 143);
  });

  it('a pipeline: the graph shows its steps with their status, and a step opens its own page', async () => {
    const result = await runCli(['run', join(REPO, 'examples', 'pipeline-word-stats', 'pipeline.yml'), '--json', '--force-rerun'], { home });
    assert.equal(result.code, 0, result.stderr);
    const runId = JSON.parse(result.stdout).runId as string;
    await page.goto(`${base}/#/run/${runId}`);
    await page.waitForSelector('svg.graph g.node[data-step="count"]');
    assert.equal(await page.locator('svg.graph g.node.succeeded').count(), 3);
    assert.equal(await page.locator('svg.graph path.edge').count(), 2);
    await page.click('svg.graph g.node[data-step="count"]');
    await page.waitForSelector('#batch-table tbody tr');
    assert.match(page.url(), new RegExp(`#/run/${runId}\\.count$`));
  });

  it('10,000 mini-batches: the table pages through them 100 at a time', async () => {
    const job = makeJob({ script: 'echo_names.mjs', files: 10_000, size: 1, processes: 2, extra: { resource_monitor_interval: 0 } });
    const result = await runCli(['run', job.jobFile, '--json'], { home });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readLines(job.output).length, 10_000);
    const runId = JSON.parse(result.stdout).runId as string;
    await page.goto(`${base}/#/run/${runId}`);
    // The page before (a pipeline step's) has a batch table too: wait for this run's, not that one's
    // (matching the old table's rows, then counting the new table's before its first load, failed once).
    await page.waitForFunction(() => document.querySelector('#batch-info')?.textContent === '1–100 of 10000');
    assert.equal(await page.locator('#batch-table tbody tr').count(), 100);
    assert.equal(await page.textContent('#batch-info'), '1–100 of 10000');
    await page.click('#batch-next');
    await page.waitForFunction(() => document.querySelector('#batch-info')?.textContent === '101–200 of 10000');
    await page.click('#batch-table th[data-sort="seconds"]');
    await page.click('#batch-table th[data-sort="seconds"]');
    await page.waitForFunction(() => document.querySelector('#batch-table th[data-sort="seconds"]')?.textContent?.includes('▼'));
    assert.deepEqual(pageErrors, []);
  });
});
