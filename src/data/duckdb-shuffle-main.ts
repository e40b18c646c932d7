/*
 * Runs in a child process of the controller: groups a table by its partition keys with
 * DuckDB (out of core, on every core) into Parquet files, one folder per key value, and
 * answers with the list of partitions. A child process keeps DuckDB's buffers out of the
 * controller's memory, and its death cannot take the controller with it.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { closestName } from '../spec/suggest.js';
import { answerOneRequest } from '../worker/one-shot-child.js';
import type { DelimitedOptions, TabularFormat } from './tabular-source.js';

export interface ShuffleRequest {
  format: TabularFormat;
  files: string[];
  delimited: DelimitedOptions | undefined;
  /** Per file (same order): columns taken from its path. */
  pathColumns: Record<string, string>[];
  keys: string[];
  outDir: string;
  /** Parquet keeps types; CSV is for readers without a Parquet library (Python without pyarrow). */
  outputFormat: 'parquet' | 'csv';
}

export interface ShufflePartition {
  value: Record<string, unknown>;
  files: { path: string; rows: number }[];
}

export type ShuffleResult =
  | { partitions: ShufflePartition[]; rows: number; rejected: { file: string; line: number; message: string }[] }
  | { error: string };

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

function readExpression(request: ShuffleRequest): string {
  const files = `[${request.files.map(quote).join(', ')}]`;
  switch (request.format) {
    case 'delimited': {
      const options = request.delimited;
      const settings = [`delim=${quote(options?.delimiter ?? ',')}`, `header=${options?.header === 'no_header' ? 'false' : 'true'}`, 'filename=true', 'store_rejects=true', 'all_varchar=false'];
      if (options && options.encoding !== 'utf8' && options.encoding !== 'ascii') settings.push(`encoding=${quote(options.encoding === 'latin1' ? 'latin-1' : 'utf-16')}`);
      return `read_csv(${files}, ${settings.join(', ')})`;
    }
    case 'json_lines':
      return `read_json(${files}, format='newline_delimited', filename=true)`;
    case 'parquet':
      return `read_parquet(${files}, filename=true)`;
  }
}

async function shuffle(request: ShuffleRequest): Promise<ShuffleResult> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(availableParallelism()),
    memory_limit: '1GB',
    temp_directory: join(request.outDir, '.duckdb-tmp'),
    preserve_insertion_order: 'true',
  });
  const connection = await instance.connect();
  const pathColumnNames = [...new Set(request.pathColumns.flatMap((columns) => Object.keys(columns)))];
  let source = `(SELECT * FROM ${readExpression(request)})`;
  if (pathColumnNames.length > 0) {
    await connection.run(`CREATE TEMP TABLE path_columns (__file VARCHAR, ${pathColumnNames.map((name) => `${identifier(name)} VARCHAR`).join(', ')})`);
    const appender = await connection.createAppender('path_columns');
    request.files.forEach((file, index) => {
      appender.appendVarchar(file);
      for (const name of pathColumnNames) appender.appendVarchar(request.pathColumns[index]?.[name] ?? '');
      appender.endRow();
    });
    appender.closeSync();
    source = `(SELECT t.* EXCLUDE (filename), p.* EXCLUDE (__file) FROM ${source} t JOIN path_columns p ON t.filename = p.__file)`;
  } else {
    source = `(SELECT * EXCLUDE (filename) FROM ${source})`;
  }
  if (request.format === 'delimited' && request.delimited?.header === 'no_header') {
    // DuckDB names header-less columns column0…; the reference (and our reader) says Column1…
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const names = described.getRowObjectsJS().map((row) => String(row.column_name));
    const renamed = names.map((name) => {
      const match = /^column(\d+)$/.exec(name);
      return match ? `${identifier(name)} AS ${identifier(`Column${Number(match[1]) + 1}`)}` : identifier(name);
    });
    source = `(SELECT ${renamed.join(', ')} FROM ${source})`;
  }
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const columns = described.getRowObjectsJS().map((row) => String(row.column_name));
  for (const key of request.keys) {
    if (!columns.includes(key)) {
      const near = closestName(key, columns);
      return { error: `partition_keys: "${key}" is not a column of the table${near ? `; did you mean "${near}"?` : ''} (columns: ${columns.join(', ')})` };
    }
  }
  const keyList = request.keys.map(identifier).join(', ');
  const csv = request.outputFormat === 'csv';
  // A partitioned write keeps rows in input order only on one thread: each partition's rows
  // must reach the script in the table's order, as they would without partition_keys.
  await connection.run('SET threads = 1');
  const format = csv ? 'csv, HEADER true' : 'parquet';
  await connection.run(`COPY (SELECT * FROM ${source}) TO ${quote(request.outDir)} (FORMAT ${format}, PARTITION_BY (${keyList}), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE true)`);
  const written = csv
    ? `read_csv(${quote(join(request.outDir, '**', '*.csv'))}, filename=true, hive_partitioning=false, header=true)`
    : `read_parquet(${quote(join(request.outDir, '**', '*.parquet'))}, filename=true, hive_partitioning=false)`;
  await connection.run(`SET threads = ${availableParallelism()}`);
  const listing = await connection.runAndReadAll(`SELECT ${keyList}, filename AS __path, count(*) AS __rows FROM ${written} GROUP BY ALL ORDER BY ALL`);
  const partitions = new Map<string, ShufflePartition>();
  let rows = 0;
  for (const row of listing.getRowObjectsJS()) {
    const value = Object.fromEntries(request.keys.map((key) => [key, plain(row[key])]));
    const id = JSON.stringify(request.keys.map((key) => value[key]));
    const partition = partitions.get(id) ?? { value, files: [] };
    const count = Number(row.__rows);
    partition.files.push({ path: String(row.__path), rows: count });
    partitions.set(id, partition);
    rows += count;
  }
  const rejected: { file: string; line: number; message: string }[] = [];
  if (request.format === 'delimited') {
    try {
      const rejects = await connection.runAndReadAll('SELECT s.file_path, e.line, e.error_message FROM reject_errors e JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id ORDER BY 1, 2 LIMIT 1000');
      for (const row of rejects.getRowObjectsJS()) rejected.push({ file: String(row.file_path), line: Number(row.line), message: String(row.error_message) });
    } catch {
      // no rejects table when nothing was rejected
    }
  }
  connection.closeSync();
  return { partitions: [...partitions.values()], rows, rejected };
}

/** DuckDB's JS values made plain for IPC and for scripts: bigint → number when safe, dates → ISO text. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  return value;
}

answerOneRequest((request: ShuffleRequest) =>
  shuffle(request).catch((error: unknown): ShuffleResult => ({ error: `partitioning the table with DuckDB failed: ${error instanceof Error ? error.message : String(error)}` })),
);
