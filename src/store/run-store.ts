import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { fsync, write } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MiniBatchBoundary } from '../data/descriptors.js';
import { AppendOnlyLog } from './run-journal.js';

const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);

const READ_WINDOW_BYTES = 4 << 20;
/**
 * A mini-batch's rows of this many characters or more (as many bytes at least) are written to
 * the spool as they commit (not fsynced until the flush): held as a Buffer until the flush, two
 * or three of a table job's multi-megabyte mini-batches were a sixth of the controller's peak memory.
 */
const WRITE_THROUGH_CHARACTERS = 1 << 20;

export type BatchStatus = 'succeeded' | 'failed';

/** The final state of one mini-batch: written once, the commit point of its rows. */
export interface CommittedBatch {
  id: number;
  status: BatchStatus;
  tries: number;
  items: number;
  /** Elements returned by the final attempt (its rows are the ones kept). */
  returned: number;
  /** Items counted as failed (missing returns, rows that could not be read). */
  failedItems: number;
  /** The spooled rows are output text (formatted by the worker), not JSON lines; with the CSV columns it used. */
  formatted?: { columns?: string[] };
  worker: string;
  startedAt: number;
  durationMs: number;
  error?: string;
  failureKind?: string;
}

/** One failed attempt that was retried. */
export interface AttemptRecord {
  id: number;
  attempt: number;
  worker: string;
  failureKind: string;
  error: string;
}

/** What a run was started from, so a resume can tell whether anything changed since. */
export interface RunFingerprint {
  /** `--set` overrides given at the start (a resume applies them again). */
  sets: string[];
  /** SHA-256 of the job file's text. */
  jobSha256: string;
  /** SHA-256 of the code folder: every file's relative path and content. */
  codeSha256: string;
  /** The asset inputs as listed at the start (absent in journals written before it was kept). */
  inputs?: InputFingerprint[];
}

/**
 * An input file or folder, cheaply: every file's relative path, size and modification time
 * (contents are not read, so a big input costs one stat per file).
 */
export interface InputFingerprint {
  name: string;
  path: string;
  files: number;
  /** SHA-256 of every file's relative path, size and mtime, in listing order. */
  sha256: string;
  /**
   * Per file, base64: 8 bytes of the path's hash then 4 of its size and mtime's, so a resume can
   * say how many files were added, removed or modified. Left out for inputs of many files.
   */
  entries?: string;
}

export type StoreRecord =
  | { k: 'run'; runId: string; jobFile: string; startedAt: number; fingerprint?: RunFingerprint; resumed?: boolean }
  | { k: 'attempt'; r: AttemptRecord }
  | { k: 'commit'; r: CommittedBatch; offset: number; length: number }
  /** Where an auto-sized mini-batch lies in the input; before its commit in the journal, always. */
  | { k: 'boundary'; b: MiniBatchBoundary }
  /** A fresh run's input fingerprint, journaled once it is computed (beside the first mini-batches). */
  | { k: 'inputs'; inputs: InputFingerprint[] }
  | { k: 'end'; status: string; reason?: string; endedAt: number };

/**
 * Rows committed and not yet written to the spool: where they go, their text and its length in
 * bytes. Kept as text, encoded once per flush: a Buffer per mini-batch was garbage per commit.
 */
interface PendingRows {
  position: number;
  text: string;
  length: number;
}

/**
 * The durable state of one run: a journal of state changes and a spool of committed rows.
 * A mini-batch's rows are appended to the spool (multi-megabyte ones as they commit, the rest
 * at the group flush) and fsynced before the flush writes its commit record to the journal, so
 * a commit record never points at rows that are not on disk. A second commit for the same id
 * is ignored: rows are kept exactly once.
 *
 * Why a journal and not SQLite: see ARCHITECTURE.md ("The run store").
 */
export class RunStore {
  readonly dir: string;
  readonly #journal: AppendOnlyLog<StoreRecord>;
  readonly #spoolFd: number;
  /** Rows committed since the last flush and not written yet, in spool order. */
  #spoolPending: PendingRows[] = [];
  #spoolLength = 0;
  #spoolFlushedLength = 0;
  #offsets = new Float64Array(1024);
  #lengths = new Float64Array(1024);
  #committed = new Uint8Array(1024);
  #flushTimer: NodeJS.Timeout | undefined;
  /** Callers of flushed(), served by the next flush. */
  #flushWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  /** A background flush that failed: reported by the next flush() or close(). */
  #flushError: unknown;
  readonly #flushIntervalMs: number;

  private constructor(dir: string, journal: AppendOnlyLog<StoreRecord>, spoolFd: number, flushIntervalMs: number) {
    this.dir = dir;
    this.#journal = journal;
    this.#spoolFd = spoolFd;
    this.#flushIntervalMs = flushIntervalMs;
  }

  static create(dir: string, run: { runId: string; jobFile: string; fingerprint?: RunFingerprint }, flushIntervalMs = 20): RunStore {
    mkdirSync(dir, { recursive: true });
    const { log } = AppendOnlyLog.open<StoreRecord>(join(dir, 'journal.log'));
    const spoolFd = openSync(join(dir, 'rows.spool'), 'w+');
    const store = new RunStore(dir, log, spoolFd, flushIntervalMs);
    log.append({ k: 'run', runId: run.runId, jobFile: run.jobFile, startedAt: Date.now(), ...(run.fingerprint ? { fingerprint: run.fingerprint } : {}) });
    // Written before any work: a run killed in its first moments can still be resumed. Not
    // fsynced here (tens of ms on a busy disk, before the first task): the first commit's flush
    // makes it durable, and until a commit there is nothing a crash of the machine could lose.
    log.writeNow();
    return store;
  }

  /** The records of a run's journal, read without opening it for writing. */
  static readRecords(dir: string): StoreRecord[] {
    const path = join(dir, 'journal.log');
    if (!existsSync(path)) return [];
    return AppendOnlyLog.readRecords<StoreRecord>(path);
  }

  /**
   * Reopens a run's store to go on with it: the journal is replayed (a torn last record is
   * dropped), every committed mini-batch is known again with its rows, and spool bytes no
   * commit record points at (a crash between the two writes) are cut off.
   */
  static reopen(
    dir: string,
    options: { dropFailed?: boolean } = {},
    flushIntervalMs = 20,
  ): { store: RunStore; committed: CommittedBatch[]; boundaries: MiniBatchBoundary[]; first: Extract<StoreRecord, { k: 'run' }> | undefined } {
    const { log, records } = AppendOnlyLog.open<StoreRecord>(join(dir, 'journal.log'));
    const spoolFd = openSync(join(dir, 'rows.spool'), existsSync(join(dir, 'rows.spool')) ? 'r+' : 'w+');
    const store = new RunStore(dir, log, spoolFd, flushIntervalMs);
    // The last commit of a mini-batch is its state: a re-run of a failed one commits it again.
    const latest = new Map<number, Extract<StoreRecord, { k: 'commit' }>>();
    const boundaries: MiniBatchBoundary[] = [];
    for (const record of records) {
      if (record.k === 'commit') latest.set(record.r.id, record);
      // Each is written once, in id order; a resumed session replays them and writes none again.
      else if (record.k === 'boundary') boundaries.push(record.b);
    }
    let end = 0;
    for (const record of latest.values()) end = Math.max(end, record.offset + record.length);
    const committed: CommittedBatch[] = [];
    for (const record of latest.values()) {
      // rerun-failed: a failed mini-batch is forgotten, so it runs (and commits) again.
      if (options.dropFailed && record.r.status === 'failed') continue;
      store.#ensureIndex(record.r.id);
      store.#offsets[record.r.id] = record.offset;
      store.#lengths[record.r.id] = record.length;
      store.#committed[record.r.id] = 1;
      committed.push(record.r);
    }
    ftruncateSync(spoolFd, end);
    store.#spoolLength = end;
    store.#spoolFlushedLength = end;
    committed.sort((a, b) => a.id - b.id);
    const first = firstRunRecord(records);
    return { store, committed, boundaries, first };
  }

  /** The inputs as they were when the run started: what a resume compares them with. */
  recordInputs(inputs: InputFingerprint[]): void {
    this.#journal.append({ k: 'inputs', inputs });
    this.#scheduleFlush();
  }

  /**
   * The fingerprint a run started from: its first run record's, with the inputs from that record
   * or, for a fresh run that fingerprinted them beside its first mini-batches, from the first
   * inputs record (none when the first session stopped before they were known).
   */
  static startingFingerprint(records: readonly StoreRecord[]): { first: Extract<StoreRecord, { k: 'run' }>; fingerprint: RunFingerprint } | undefined {
    const first = firstRunRecord(records);
    if (!first?.fingerprint) return undefined;
    if (first.fingerprint.inputs) return { first, fingerprint: first.fingerprint };
    const inputs = records.find((record): record is Extract<StoreRecord, { k: 'inputs' }> => record.k === 'inputs');
    return { first, fingerprint: inputs ? { ...first.fingerprint, inputs: inputs.inputs } : first.fingerprint };
  }

  /** Marks the start of a resumed session in the journal. */
  recordResume(runId: string, jobFile: string, fingerprint: RunFingerprint): void {
    this.#journal.append({ k: 'run', runId, jobFile, startedAt: Date.now(), fingerprint, resumed: true });
  }

  isCommitted(id: number): boolean {
    return id < this.#committed.length && this.#committed[id] === 1;
  }

  /**
   * Journals an auto-sized mini-batch's place in the input before it is dispatched. Records
   * are flushed in the order appended, so its commit can never be on disk without it.
   */
  recordBoundary(boundary: MiniBatchBoundary): void {
    this.#journal.append({ k: 'boundary', b: boundary });
    this.#scheduleFlush();
  }

  recordAttempt(record: AttemptRecord): void {
    this.#journal.append({ k: 'attempt', r: record });
    this.#scheduleFlush();
  }

  /** Commits a mini-batch's final state and rows, once. Returns false for a duplicate. */
  commit(batch: CommittedBatch, rows: string): boolean {
    if (this.isCommitted(batch.id)) return false;
    this.#ensureIndex(batch.id);
    const text = rows.length > 0 && !rows.endsWith('\n') ? `${rows}\n` : rows;
    const offset = this.#spoolLength;
    let length = 0;
    if (text.length >= WRITE_THROUGH_CHARACTERS) {
      length = writeTextSync(this.#spoolFd, text, offset);
    } else if (text.length > 0) {
      length = Buffer.byteLength(text, 'utf8');
      this.#spoolPending.push({ position: offset, text, length });
    }
    this.#spoolLength += length;
    this.#offsets[batch.id] = offset;
    this.#lengths[batch.id] = length;
    this.#committed[batch.id] = 1;
    this.#journal.append({ k: 'commit', r: batch, offset, length });
    this.#scheduleFlush();
    return true;
  }

  recordEnd(status: string, reason?: string): void {
    this.#journal.append(reason === undefined ? { k: 'end', status, endedAt: Date.now() } : { k: 'end', status, reason, endedAt: Date.now() });
  }

  /** Whether mini-batch `id`'s rows are on disk (readRows() needs that). */
  isFlushed(id: number): boolean {
    return this.isCommitted(id) && (this.#offsets[id] ?? 0) + (this.#lengths[id] ?? 0) <= this.#spoolFlushedLength;
  }

  /** The committed rows of mini-batch `id` (JSON lines), read back from the spool: valid until the next call. */
  readRows(id: number): Buffer {
    if (!this.isCommitted(id)) return Buffer.alloc(0);
    const length = this.#lengths[id] ?? 0;
    const offset = this.#offsets[id] ?? 0;
    if (length === 0) return Buffer.alloc(0);
    if (offset + length > this.#spoolFlushedLength) throw new Error('RunStore.readRows() before flush');
    const window = this.#readWindow;
    if (window && offset >= window.offset && offset + length <= window.offset + window.bytes.length) {
      return window.bytes.subarray(offset - window.offset, offset - window.offset + length);
    }
    // Mini-batches commit roughly in input order, so reading ahead a window serves the next ones.
    const size = Math.min(Math.max(length, READ_WINDOW_BYTES), this.#spoolFlushedLength - offset);
    // One buffer, grown as needed, serves every read: a new one per multi-megabyte mini-batch
    // waited for the garbage collector to give its memory back.
    if (!this.#readBuffer || this.#readBuffer.length < size) this.#readBuffer = Buffer.allocUnsafe(size);
    const bytes = this.#readBuffer.subarray(0, size);
    let read = 0;
    while (read < size) read += readSync(this.#spoolFd, bytes, read, size - read, offset + read);
    this.#readWindow = { offset, bytes };
    return bytes.subarray(0, length);
  }

  #readWindow: { offset: number; bytes: Buffer } | undefined;
  #readBuffer: Buffer | undefined;

  /** Group commit: spool first, then journal, each fsynced. */
  async flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#flushError) {
      for (const waiter of this.#flushWaiters.splice(0)) waiter.reject(this.#flushError);
      throw this.#flushError;
    }
    while (this.#flushing) await this.#flushing.catch(() => {});
    // Whoever waits for "flushed" is served by this flush: it writes all that is committed now.
    const waiters = this.#flushWaiters.splice(0);
    this.#flushing = this.#flushOnce();
    try {
      await this.#flushing;
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      throw error;
    } finally {
      this.#flushing = undefined;
    }
  }

  /**
   * Resolves when what is committed now is on disk, at the next group flush (at most the flush
   * interval away), without forcing one: a reader that waits here (the output writer) does not
   * turn every commit into its own fsync when results arrive one at a time.
   */
  flushed(): Promise<void> {
    if (this.#flushError) return Promise.reject(this.#flushError);
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ resolve, reject });
      this.#scheduleFlush();
    });
  }

  async #flushOnce(): Promise<void> {
    // Only the journal records whose rows are in this spool write may be published now;
    // commits arriving while it is written wait for the next flush.
    const journalRecords = this.#journal.pendingCount;
    const end = this.#spoolLength;
    if (end > this.#spoolFlushedLength) {
      // Rows written through at commit are in place already; the rest go in contiguous runs.
      for (const { position, chunk } of contiguousRuns(this.#spoolPending.splice(0))) {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await writeAsync(this.#spoolFd, chunk, written, chunk.length - written, position + written);
          written += bytesWritten;
        }
      }
      await fsyncAsync(this.#spoolFd);
      this.#spoolFlushedLength = end;
    }
    await this.#journal.flush(journalRecords);
  }

  /** Atomically replaces `summary.json`: readers never see a half-written summary. */
  writeSummary(summary: unknown): void {
    const path = join(this.dir, 'summary.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(summary, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#journal.close();
    closeSync(this.#spoolFd);
  }

  #scheduleFlush(): void {
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.flush().catch((error: unknown) => {
        this.#flushError ??= error;
      });
    }, this.#flushIntervalMs);
  }

  #ensureIndex(id: number): void {
    if (id < this.#committed.length) return;
    let size = this.#committed.length;
    while (size <= id) size *= 2;
    const grow = <A extends Float64Array | Uint8Array>(from: A, make: (n: number) => A): A => {
      const next = make(size);
      next.set(from);
      return next;
    };
    this.#offsets = grow(this.#offsets, (n) => new Float64Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Float64Array(n));
    this.#committed = grow(this.#committed, (n) => new Uint8Array(n));
  }
}

/** The journal's first `run` record: the job as the run started. */
function firstRunRecord(records: readonly StoreRecord[]): Extract<StoreRecord, { k: 'run' }> | undefined {
  return records.find((record): record is Extract<StoreRecord, { k: 'run' }> => record.k === 'run');
}

/** Writes `text` as UTF-8 at `position`; returns its length in bytes. */
function writeTextSync(fd: number, text: string, position: number): number {
  const length = Buffer.byteLength(text, 'utf8');
  let written = writeSync(fd, text, position, 'utf8');
  if (written < length) {
    // A short write (rare on a regular file): the rest from the encoded bytes.
    const bytes = Buffer.from(text, 'utf8');
    while (written < length) written += writeSync(fd, bytes, written, length - written, position + written);
  }
  return length;
}

/** Pending rows in spool order, joined where each starts at the previous one's end. */
function* contiguousRuns(pending: readonly PendingRows[]): Generator<{ position: number; chunk: Buffer }> {
  let run: PendingRows[] = [];
  let end = -1;
  for (const entry of pending) {
    if (run.length > 0 && entry.position !== end) {
      yield joined(run);
      run = [];
    }
    run.push(entry);
    end = entry.position + entry.length;
  }
  if (run.length > 0) yield joined(run);
}

function joined(run: readonly PendingRows[]): { position: number; chunk: Buffer } {
  const [first] = run as [PendingRows];
  let text = '';
  for (const entry of run) text += entry.text;
  return { position: first.position, chunk: Buffer.from(text, 'utf8') };
}
