import { closeSync, existsSync, fsyncSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { fsync, write } from 'node:fs';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { MinibatchError } from '../errors.js';

const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);

/**
 * An append-only log of JSON records, one per line, each prefixed by the CRC-32 of its JSON:
 * `<crc hex>\t<json>\n`. Appends are buffered and written + fsynced in groups (group commit),
 * off the event loop. On replay a torn last record (no newline, or a bad checksum at the very
 * end, from a crash mid-write) is dropped and cut off; a bad record anywhere else is corruption.
 */
export class AppendOnlyLog<T> {
  readonly path: string;
  readonly #fd: number;
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** The good records of a log, read only (a torn tail is skipped, not cut off). */
  static readRecords<T>(path: string): T[] {
    return AppendOnlyLog.#replay<T>(path).records;
  }

  /** Opens (creating if needed) and replays the log; returns the good records in order. */
  static open<T>(path: string): { log: AppendOnlyLog<T>; records: T[] } {
    const { records, goodLength } = AppendOnlyLog.#replay<T>(path);
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    ftruncateSync(fd, goodLength);
    const log = new AppendOnlyLog<T>(path, fd);
    log.#position = goodLength;
    return { log, records };
  }

  static #replay<T>(path: string): { records: T[]; goodLength: number } {
    const records: T[] = [];
    let goodLength = 0;
    if (existsSync(path)) {
      const text = readFileSync(path);
      let start = 0;
      while (start < text.length) {
        const end = text.indexOf(0x0a, start);
        if (end === -1) break; // torn: the last record never got its newline
        const line = text.subarray(start, end).toString('utf8');
        const tab = line.indexOf('\t');
        const json = line.slice(tab + 1);
        const ok = tab === 8 && Number.parseInt(line.slice(0, 8), 16) === crc32(json);
        if (!ok) {
          if (text.indexOf(0x0a, end + 1) === -1) break; // torn: the last complete line is bad
          throw new MinibatchError('E_STORE_CORRUPT', `${path}: record at byte ${start} is corrupt (checksum mismatch)`);
        }
        records.push(JSON.parse(json) as T);
        start = end + 1;
        goodLength = start;
      }
    }
    return { records, goodLength };
  }

  #position = 0;

  append(record: T): void {
    if (this.#closed) throw new MinibatchError('E_ILLEGAL_STATE', `${this.path}: append after close`);
    const json = JSON.stringify(record);
    this.#pending.push(`${crc32(json).toString(16).padStart(8, '0')}\t${json}\n`);
  }

  /** Records appended and not yet flushed. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /**
   * Writes and fsyncs the first `count` pending records (all by default); flushes run one
   * after the other. A caller that must not publish records appended after some point (the
   * run store: not before their rows are on disk) passes the count it saw at that point.
   */
  async flush(count = Number.POSITIVE_INFINITY): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const take = Math.min(count, this.#pending.length);
    if (take === 0) return;
    const chunk = Buffer.from(this.#pending.slice(0, take).join(''), 'utf8');
    this.#pending = this.#pending.slice(take);
    const position = this.#position;
    this.#position += chunk.length;
    this.#flushing = (async () => {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await writeAsync(this.#fd, chunk, written, chunk.length - written, position + written);
        written += bytesWritten;
      }
      await fsyncAsync(this.#fd);
    })();
    try {
      await this.#flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  /**
   * Writes everything appended, now, without waiting for the disk (for the one record a run
   * cannot start without): once written, a killed process loses nothing. The next flush's fsync
   * makes it durable, before or with the records that follow it, which an fsync never reorders.
   */
  writeNow(): void {
    if (this.#pending.length === 0) return;
    const chunk = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    let written = 0;
    while (written < chunk.length) written += writeSync(this.#fd, chunk, written, chunk.length - written, this.#position + written);
    this.#position += chunk.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}
