import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedAppendRow } from '../spec/resolve-job.js';
import type { RunStore } from '../store/run-store.js';
import { ParquetRowWriter } from './parquet-output.js';
import { RowFormatter } from './row-format.js';

/**
 * Writes the append_row file from the committed rows, in mini-batch order then element order,
 * so the result is the same whatever order the workers finished in. Written under a temporary
 * name beside the target, fsynced, then renamed: the target is complete or absent.
 */
export async function writeAppendRowFile(store: RunStore, batchCount: number, appendRow: ResolvedAppendRow): Promise<{ rows: number; bytes: number }> {
  await store.flush();
  mkdirSync(dirname(appendRow.path), { recursive: true });
  const temporary = `${appendRow.path}.minibatch-partial`;
  if (appendRow.format === 'parquet') return writeParquet(store, batchCount, appendRow.path, temporary);
  const fd = openSync(temporary, 'w');
  const formatter = new RowFormatter(appendRow.format, appendRow.header);
  let rows = 0;
  let bytes = 0;
  let buffered: string[] = [];
  let bufferedLength = 0;
  const drain = () => {
    if (buffered.length === 0) return;
    const chunk = Buffer.from(buffered.join(''), 'utf8');
    let written = 0;
    while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
    bytes += chunk.length;
    buffered = [];
    bufferedLength = 0;
  };
  try {
    for (let id = 0; id < batchCount; id++) {
      const jsonLines = store.readRows(id).toString('utf8');
      if (jsonLines.length === 0) continue;
      const text = formatter.formatJsonLines(jsonLines);
      rows += countLines(jsonLines);
      buffered.push(text);
      bufferedLength += text.length;
      if (bufferedLength > 1 << 20) drain();
    }
    drain();
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, appendRow.path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temporary, { force: true });
    throw error;
  }
  return { rows, bytes };
}

function countLines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  return text.endsWith('\n') || text.length === 0 ? count : count + 1;
}

/** Parquet: rows are parsed back from the spool and written in bounded row groups. */
async function writeParquet(store: RunStore, batchCount: number, path: string, temporary: string): Promise<{ rows: number; bytes: number }> {
  const writer = new ParquetRowWriter(temporary);
  try {
    for (let id = 0; id < batchCount; id++) {
      const jsonLines = store.readRows(id).toString('utf8');
      if (jsonLines.length === 0) continue;
      writer.add(jsonLines.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as unknown));
    }
    const { rows } = await writer.finish();
    renameSync(temporary, path);
    return { rows, bytes: statSync(path).size };
  } catch (error) {
    writer.abort();
    rmSync(temporary, { force: true });
    throw error;
  }
}
