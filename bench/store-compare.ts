/*
 * Run store cost per mini-batch commit: the project's RunStore (journal + row spool, group
 * flush with fsync every 20 ms) against SQLite in WAL mode (better-sqlite3, one transaction
 * per 20 ms, checkpoint at the end), on the same 10,000 commits.
 *
 * Two arrival patterns: "burst" hands the store commits as fast as it takes them (one per
 * event-loop turn, like IPC messages); "paced" hands it 10 per millisecond, about the rate a
 * busy controller commits, so flushes are as frequent as in a real run.
 */
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommittedBatch, RunStore } from '../src/store/run-store.ts';
import { formatTable, median, round, writeResults } from './bench-utils.ts';

const COMMITS = 10_000;
const RUNS = 3;
const FLUSH_INTERVAL_MS = 20;
const PACED_PER_MS = 10;
const INSTALL_HINT = 'npm install --no-save better-sqlite3@12.6.2';

// Every fsync the RunStore makes goes through here, so its count and latency can be shown.
// Patched before run-store.ts is loaded: its promisify(fsync) captures the function at import.
const fsyncMs: number[] = [];
const realFsync = fs.fsync;
fs.fsync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
  const started = performance.now();
  realFsync(fd, (error) => {
    fsyncMs.push(performance.now() - started);
    callback(error);
  });
}) as typeof fs.fsync;
syncBuiltinESMExports();
const { RunStore: RunStoreClass } = await import('../src/store/run-store.ts');

/** The part of better-sqlite3 used here; typed locally since it is not a dependency. */
interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare(source: string): { run(...params: unknown[]): unknown };
  close(): void;
}
type OpenSqlite = (path: string) => SqliteDatabase;

/** A store under test: commit() is what the scheduler calls, finish() makes everything durable. */
interface BenchStore {
  commit(batch: CommittedBatch, rows: string): void;
  finish(): Promise<void>;
  close(): Promise<void>;
  /** Group commits made, and how long each durable write (fsync or COMMIT) took. */
  syncStats(): { flushes: number; syncs: number; syncMs: number[] };
}

function openRunStore(dir: string): BenchStore {
  const store: RunStore = RunStoreClass.create(dir, { runId: 'bench', jobFile: 'bench.yml' }, FLUSH_INTERVAL_MS);
  const firstFsync = fsyncMs.length;
  let flushes = 0;
  // Counts the timer's flushes too: it calls flush() through `this`, so the own property wins.
  const flush = store.flush.bind(store);
  store.flush = () => {
    flushes++;
    return flush();
  };
  return {
    commit: (batch, rows) => void store.commit(batch, rows),
    finish: () => store.flush(),
    close: () => store.close(),
    syncStats: () => ({ flushes, syncs: fsyncMs.length - firstFsync, syncMs: fsyncMs.slice(firstFsync) }),
  };
}

/** SQLite used the way the RunStore works: a transaction open for 20 ms, then COMMIT. */
function openSqliteStore(open: OpenSqlite, dir: string, synchronous: 'FULL' | 'NORMAL'): BenchStore {
  const db = open(join(dir, 'run.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE commits (id INTEGER PRIMARY KEY, record TEXT NOT NULL, rows TEXT NOT NULL)');
  // OR IGNORE: a second commit of the same id is dropped, as RunStore.commit() does.
  const insert = db.prepare('INSERT OR IGNORE INTO commits (id, record, rows) VALUES (?, ?, ?)');
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const commitMs: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const commitNow = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = undefined;
    const started = performance.now();
    commit.run();
    commitMs.push(performance.now() - started);
  };
  return {
    commit: (batch, rows) => {
      if (!timer) {
        begin.run();
        timer = setTimeout(commitNow, FLUSH_INTERVAL_MS);
      }
      insert.run(batch.id, JSON.stringify({ k: 'commit', r: batch }), rows);
    },
    finish: async () => {
      commitNow();
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close: async () => db.close(),
    syncStats: () => ({ flushes: commitMs.length, syncs: Number.NaN, syncMs: commitMs }),
  };
}

async function loadSqlite(): Promise<OpenSqlite | undefined> {
  // A variable specifier keeps tsc from resolving a package that is usually not installed.
  const specifier = 'better-sqlite3';
  try {
    const module = (await import(specifier)) as { default: new (path: string) => SqliteDatabase };
    const open: OpenSqlite = (path) => new module.default(path);
    open(':memory:').close(); // the native addon loads here, not at import
    return open;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    console.log(`better-sqlite3 not installed: ${INSTALL_HINT}`);
    console.log(`  (${reason})`);
    return undefined;
  }
}

/** The same workload for every store, built before timing: ~180-byte records, 20 bytes of rows. */
function workload(): { batch: CommittedBatch; rows: string }[] {
  const now = Date.now();
  return Array.from({ length: COMMITS }, (_, id) => ({
    batch: { id, status: 'succeeded', tries: 1, items: 2, returned: 2, failedItems: 0, worker: `node-0/process-${id % 2}`, startedAt: now + id, durationMs: 0.137 },
    rows: `{"file":"f-${String(id).padStart(6, '0')}"}\n`,
  }));
}

interface Sample {
  wallMs: number;
  loopBusyMs: number;
  cpuMs: number;
  flushes: number;
  syncs: number;
  syncMs: number[];
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function drive(store: BenchStore, commits: ReturnType<typeof workload>, pattern: 'burst' | 'paced'): Promise<Sample> {
  const loopBefore = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const perTurn = pattern === 'burst' ? 1 : PACED_PER_MS;
  for (let id = 0; id < commits.length; ) {
    for (const end = Math.min(id + perTurn, commits.length); id < end; id++) {
      const next = commits[id] as (typeof commits)[number];
      store.commit(next.batch, next.rows);
    }
    await (pattern === 'burst' ? nextTurn() : sleep(1));
  }
  await store.finish();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const loop = performance.eventLoopUtilization(loopBefore);
  return { wallMs, loopBusyMs: loop.active, cpuMs: (cpu.user + cpu.system) / 1000, ...store.syncStats() };
}

/** What the driver itself costs (loop turns, timers): the floor under every store's figures. */
function openNothing(): BenchStore {
  return { commit: () => {}, finish: async () => {}, close: async () => {}, syncStats: () => ({ flushes: 0, syncs: 0, syncMs: [] }) };
}

const contenders: { name: string; open: (dir: string) => BenchStore }[] = [
  { name: 'driver only (no store)', open: openNothing },
  { name: 'RunStore (journal)', open: openRunStore },
];
const sqlite = await loadSqlite();
if (sqlite) {
  contenders.push({ name: 'SQLite WAL, sync=FULL', open: (dir) => openSqliteStore(sqlite, dir, 'FULL') });
  contenders.push({ name: 'SQLite WAL, sync=NORMAL', open: (dir) => openSqliteStore(sqlite, dir, 'NORMAL') });
}

const commits = workload();
const recordBytes = Buffer.byteLength(JSON.stringify({ k: 'commit', r: commits[0]?.batch, offset: 0, length: 20 }));
console.log(`run store: ${COMMITS.toLocaleString('en')} commits (~${recordBytes}-byte record + ${commits[0]?.rows.length}-byte rows each), flush every ${FLUSH_INTERVAL_MS} ms, median of ${RUNS}`);

const root = mkdtempSync(join(tmpdir(), 'minibatch-store-bench-'));
const results: Record<string, Record<string, Sample[]>> = {};
try {
  for (const pattern of ['burst', 'paced'] as const) {
    for (let run = 0; run < RUNS; run++) {
      // Interleaved, so a noisy spell on a shared machine does not land on one store only.
      for (const contender of contenders) {
        const dir = mkdtempSync(join(root, 'run-'));
        const store = contender.open(dir);
        const sample = await drive(store, commits, pattern);
        await store.close();
        rmSync(dir, { recursive: true, force: true });
        ((results[pattern] ??= {})[contender.name] ??= []).push(sample);
      }
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const us = (ms: number) => ((ms * 1000) / COMMITS).toFixed(1);
const summary: Record<string, Record<string, unknown>> = {};
for (const [pattern, byStore] of Object.entries(results)) {
  console.log(`\n${pattern === 'burst' ? 'burst: as fast as the store takes them' : `paced: ${PACED_PER_MS} commits per ms`}`);
  const rows: string[][] = [];
  for (const [name, samples] of Object.entries(byStore)) {
    const wall = median(samples.map((s) => s.wallMs));
    const busy = median(samples.map((s) => s.loopBusyMs));
    const cpu = median(samples.map((s) => s.cpuMs));
    const flushes = median(samples.map((s) => s.flushes));
    const syncs = median(samples.map((s) => s.syncs));
    const syncMs = median(samples.flatMap((s) => s.syncMs));
    const dash = (value: number, text: string) => (Number.isNaN(value) ? '-' : text);
    rows.push([name, us(wall), us(busy), us(cpu), String(flushes), dash(syncs, String(syncs)), dash(syncMs, syncMs.toFixed(2))]);
    (summary[pattern] ??= {})[name] = {
      usPerCommit: { wall: round(wall * 1000 / COMMITS, 1), loopBusy: round(busy * 1000 / COMMITS, 1), cpu: round(cpu * 1000 / COMMITS, 1) },
      flushes,
      ...(Number.isNaN(syncs) ? {} : { fsyncs: syncs }),
      ...(Number.isNaN(syncMs) ? {} : { medianSyncMs: round(syncMs, 2) }),
    };
  }
  console.log(formatTable(['store', 'wall µs/commit', 'loop-busy µs/commit', 'cpu µs/commit', 'flushes', 'fsyncs', 'fsync|COMMIT ms (median)'], rows));
}
console.log('\nflushes: group commits (RunStore flushes, SQLite transactions). The last column is the median fsync');
console.log('for RunStore (up to 2 per flush: spool, journal; off the event loop) and the median COMMIT for SQLite (on the');
console.log('event loop; with FULL it includes the WAL fsync, with NORMAL nothing is synced until the checkpoint).');
if (!sqlite) console.log(`SQLite not measured: ${INSTALL_HINT}`);
console.log(`results: ${writeResults('store', { commits: COMMITS, runs: RUNS, flushIntervalMs: FLUSH_INTERVAL_MS, pacedPerMs: PACED_PER_MS, ...summary })}`);
