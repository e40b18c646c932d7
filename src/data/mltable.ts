import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { dottedPath, formatIssues } from '../spec/schema-errors.js';
import { closestName } from '../spec/suggest.js';
import { YamlSource, type FieldPath } from '../spec/yaml-source.js';
import { listFiles } from './file-list.js';
import { globFiles } from './glob-files.js';
import {
  HEADER_MODES,
  type DelimitedOptions,
  type FileListSource,
  type HeaderMode,
  type ResolvedDataSource,
  type TableTransformations,
  type TabularFormat,
  type TabularSource,
} from './tabular-source.js';
import { lazy } from '../spec/lazy.js';

/*
 * Azure ML `MLTable` files: a YAML file named `MLTable` in a folder, listing `paths` (relative
 * to that folder) and `transformations`. Without a read_* transformation the MLTable is a plain
 * file list; with one it is a table. Everything is checked here, in the controller, before any
 * run directory exists, and every problem names the MLTable's line and column.
 */

const MLTABLE_FILE_NAME = 'MLTable';

// ---------------------------------------------------------------------------------------------
// Schema

function text(what = 'a string') {
  return z.string({ error: `expected ${what}` });
}

function bool() {
  return z.boolean({ error: 'expected true or false' });
}

function integer(min: number) {
  const expected = `expected an integer >= ${min}`;
  return z.int({ error: expected }).min(min, { error: expected });
}

/**
 * A string from `allowed` (compared case-insensitively); values the reference knows but this
 * engine cannot honour get their own "not supported" message instead of a bare "expected one of".
 */
function choice(allowed: readonly string[], unsupported: Readonly<Record<string, string>> = {}) {
  const expected = `expected one of ${allowed.join(', ')}`;
  return z.string({ error: expected }).superRefine((value, ctx) => {
    const lowered = value.toLowerCase();
    const reason = unsupported[lowered];
    if (reason !== undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not supported by this version of minibatch (${reason}); ${expected}`, input: value });
    } else if (!allowed.includes(lowered)) {
      ctx.addIssue({ code: 'custom', message: expected, input: value });
    }
  });
}

/** The reference's encoding names → Node's. */
const ENCODINGS: Readonly<Record<string, BufferEncoding>> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  // The same decoder: a leading byte-order mark is the reader's to skip, as in any UTF-8 file.
  utf8bom: 'utf8',
  ascii: 'ascii',
  latin1: 'latin1',
  iso88591: 'latin1',
  utf16: 'utf16le',
  // Node has no windows-1252 decoder; latin1 differs from it only in 0x80–0x9F (€, curly quotes…).
  windows1252: 'latin1',
};
const UNSUPPORTED_ENCODINGS = { utf32: 'Node.js has no UTF-32 decoder' };

/** JSON lines are parsed as UTF-8 text: only encodings that decode identically are honest here. */
const JSON_LINES_ENCODINGS = ['utf8', 'utf-8', 'utf8bom', 'ascii'];
const JSON_LINES_UNSUPPORTED_ENCODINGS = {
  ...UNSUPPORTED_ENCODINGS,
  ...Object.fromEntries(
    Object.keys(ENCODINGS)
      .filter((name) => !JSON_LINES_ENCODINGS.includes(name))
      .map((name) => [name, 'JSON lines are read as UTF-8']),
  ),
};

function columnsSchema(atLeastOne: boolean) {
  const column = z.string({ error: 'expected a column name' }).min(1, { error: 'expected a column name' });
  const list = z.array(column, { error: 'expected a column name or a list of column names' });
  return z.union([column, atLeastOne ? list.min(1, { error: 'expected at least one column name, got an empty list' }) : list], {
    error: 'expected a column name or a list of column names',
  });
}

const TRANSFORMATION_NAMES = ['read_delimited', 'read_json_lines', 'read_parquet', 'extract_columns_from_partition_format', 'drop_columns', 'keep_columns', 'skip', 'take'] as const;
type TransformationName = (typeof TRANSFORMATION_NAMES)[number];

type ReadName = Extract<TransformationName, `read_${string}`>;

/** Reference transformations with no local implementation: named plainly rather than "unknown". */
const UNSUPPORTED_TRANSFORMATIONS: Readonly<Record<string, string>> = {
  read_delta_lake: 'Delta Lake tables cannot be read yet; expected read_delimited, read_json_lines or read_parquet',
  take_random_sample: 'use take (a deterministic prefix) instead',
  convert_column_types: 'column types are inferred from the data',
  filter: 'filter rows in the entry script',
};

const PATH_KINDS = ['file', 'folder', 'pattern'] as const;

/** Built on first use (`lazy`): most jobs read no MLTable. */
function buildSchemas() {
  const delimiterSchema = z
    .string({ error: 'expected a delimiter string like "," or "\\t"' })
    .refine((value) => value.length > 0 && !/["\r\n]/.test(value), {
      error: 'expected a non-empty delimiter without quotes or line breaks',
    });

  const readDelimitedSchema = z.strictObject({
    delimiter: delimiterSchema.optional(),
    encoding: choice(Object.keys(ENCODINGS), UNSUPPORTED_ENCODINGS).optional(),
    header: choice(HEADER_MODES, { all_files_different_headers: 'every file must have the same columns' }).optional(),
    include_path_column: bool().optional(),
    empty_as_string: bool().optional(),
    // Accepted so reference MLTables load unchanged: column types are always inferred from a
    // sample, and quoted line breaks are always handled.
    infer_column_types: bool().optional(),
    support_multi_line: bool().optional(),
  });

  const readJsonLinesSchema = z.strictObject({
    encoding: choice(JSON_LINES_ENCODINGS, JSON_LINES_UNSUPPORTED_ENCODINGS).optional(),
    include_path_column: bool().optional(),
    // `drop` would need the dropped lines kept out of the failed-item count: not done yet, so said.
    invalid_lines: choice(['error'], { drop: 'a line that is not JSON is reported as a failed item' }).optional(),
  });

  const readParquetSchema = z.strictObject({
    include_path_column: bool().optional(),
  });

  const partitionFormatSchema = z.union(
    [text('a partition format'), z.strictObject({ partition_format: text('a partition format like "{Store}/{file_name}.csv"') })],
    { error: 'expected a partition format like "{Store}/{Brand}/{file_name}.csv" (or {partition_format: …})' },
  );

  const TRANSFORMATION_SCHEMAS = {
    read_delimited: readDelimitedSchema,
    read_json_lines: readJsonLinesSchema,
    read_parquet: readParquetSchema,
    extract_columns_from_partition_format: partitionFormatSchema,
    drop_columns: columnsSchema(false),
    keep_columns: columnsSchema(true),
    skip: integer(0),
    take: integer(0),
  } as const;

  // Which one of the three is given is checked with the paths themselves: a refinement here would
  // also fire beside an "unknown field" for a misspelt key, saying the same thing twice.
  const pathEntrySchema = z.strictObject(
    {
      file: text('a file path').optional(),
      folder: text('a folder path').optional(),
      pattern: text('a glob pattern like ./**/*.csv').optional(),
    },
    { error: 'expected a mapping with one of file, folder or pattern' },
  );

  const mltableSchema = z.strictObject({
    $schema: text('a URL').optional(),
    // Optional: many reference MLTable files (and its own examples) leave it out.
    type: z.literal('mltable', { error: 'expected mltable' }).optional(),
    paths: z
      .array(pathEntrySchema, { error: 'expected a list of {file: …}, {folder: …} or {pattern: …} entries' })
      .min(1, { error: 'expected at least one entry ({file: …}, {folder: …} or {pattern: …}), got an empty list' }),
    // Each item is checked on its own below, so an unknown name can get a suggestion.
    transformations: z.array(z.unknown(), { error: 'expected a list of transformations' }).nullish(),
    // Column metadata and traits (index_columns, timestamp_column) matter only to the reference's dataframe APIs.
    metadata: z.unknown().optional(),
    traits: z.unknown().optional(),
  });
  return { readDelimitedSchema, readJsonLinesSchema, readParquetSchema, TRANSFORMATION_SCHEMAS, mltableSchema };
}

const schemas = lazy(buildSchemas);

type MLTableSpec = z.infer<ReturnType<typeof buildSchemas>['mltableSchema']>;

/** Field names allowed at `path`, for "did you mean" hints. */
function knownMLTableFields(path: FieldPath): string[] {
  if (path.length === 0) return Object.keys(schemas().mltableSchema.shape);
  if (path[0] === 'paths' && path.length === 2) return [...PATH_KINDS];
  if (path[0] === 'transformations' && path.length === 3) {
    const schema = schemas().TRANSFORMATION_SCHEMAS[path[2] as TransformationName] as z.ZodType | undefined;
    return schema ? objectKeys(schema) : [];
  }
  return [];
}

function objectKeys(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(objectKeys);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Reading an MLTable

/**
 * Reads, validates and resolves an MLTable. `path` is the folder holding a file named
 * `MLTable`, or that file itself; errors name it as given (`./iris-mltable/MLTable:4:5: …`).
 * Every problem in the file is reported at once, as the job file's are.
 */
export async function readMLTable(path: string): Promise<ResolvedDataSource> {
  const file = await findMLTableFile(path);
  const source = YamlSource.read(file, file);
  const spec = validateMLTable(source);
  const problems: string[] = [];
  const problem = (at: FieldPath, message: string) => problems.push(`${source.locate(at)}: ${dottedPath(at)}: ${message}`);

  const transformations = readTransformations(source, spec.transformations ?? [], problems, problem);
  const baseFolder = dirname(resolve(file));
  const files = await resolvePaths(spec.paths, baseFolder, resolve(file), problem);
  if (problems.length > 0) throw invalid(source, problems);

  if (!transformations.read) {
    const list: FileListSource = { kind: 'files', files, baseFolder };
    return list;
  }
  const { read } = transformations;
  const table: TabularSource = {
    kind: 'tabular',
    format: read.format,
    files,
    baseFolder,
    delimited: read.delimited,
    transformations: {
      includePathColumn: read.includePathColumn,
      partitionFormat: transformations.partitionFormat,
      dropColumns: transformations.dropColumns,
      keepColumns: transformations.keepColumns,
      skip: transformations.skip,
      take: transformations.take,
    },
  };
  return table;
}

/** The MLTable file `path` names (itself, or `MLTable` inside it), as a path relative to the same place. */
async function findMLTableFile(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isFile()) return path;
  const folder = info?.isDirectory() || basename(path) !== MLTABLE_FILE_NAME ? path : dirname(path);
  const expected = folder === path ? `${path.replace(/\/+$/, '')}/${MLTABLE_FILE_NAME}` : path;
  if (info?.isDirectory() && (await stat(expected).catch(() => undefined))?.isFile()) return expected;
  throw new InvalidInputError('E_JOB_INVALID', `${path}: no MLTable file found (expected ${expected})${await nearMiss(folder)}`);
}

/** ` (found "mltable.yaml": …)` when the folder holds a file that was evidently meant. */
async function nearMiss(folder: string): Promise<string> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const near = names.find((name) => /^mltable(\.ya?ml)?$/i.test(name) && name !== MLTABLE_FILE_NAME);
  return near ? ` (found "${near}": the file must be named exactly ${MLTABLE_FILE_NAME})` : '';
}

function validateMLTable(source: YamlSource): MLTableSpec {
  const data = source.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidInputError('E_JOB_INVALID', `${source.file}: expected an MLTable (a YAML mapping with paths and transformations)`);
  }
  const result = schemas().mltableSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw invalid(source, formatMLTableIssues(result.error.issues, source));
  return result.data;
}

type Issue = z.core.$ZodIssue;

/** Schema issues as `file:line:col: field: expected …` lines, for a value parsed at `prefix`. */
function formatMLTableIssues(issues: readonly Issue[], source: YamlSource, prefix: FieldPath = []): string[] {
  return formatIssues(withoutTypoEchoes(issues, prefix), source, knownMLTableFields, prefix);
}

/**
 * Drops "required field is missing" for a field whose misspelling is already reported as an
 * unknown field with a "did you mean": `partition_formt:` is one mistake, not two.
 */
function withoutTypoEchoes(issues: readonly Issue[], prefix: FieldPath): Issue[] {
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    for (const key of issue.keys) {
      const suggestion = closestName(key, knownMLTableFields([...prefix, ...(issue.path as FieldPath)]));
      if (suggestion !== undefined) meant.add(JSON.stringify([...issue.path, suggestion]));
    }
  }
  const kept: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_type' && issue.input === undefined && meant.has(JSON.stringify(issue.path))) continue;
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const at = [...prefix, ...(issue.path as FieldPath)];
      kept.push({ ...issue, errors: issue.errors.map((branch) => withoutTypoEchoes(branch, at)) } as Issue);
      continue;
    }
    kept.push(issue);
  }
  return kept;
}

function invalid(source: YamlSource, problems: readonly string[]): InvalidInputError {
  const message = problems.length === 1 ? (problems[0] ?? '') : `${source.file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`;
  return new InvalidInputError('E_JOB_INVALID', message);
}

// ---------------------------------------------------------------------------------------------
// Transformations

interface ReadStep {
  format: TabularFormat;
  delimited: DelimitedOptions | undefined;
  includePathColumn: boolean;
}

interface Transformations extends Omit<TableTransformations, 'includePathColumn'> {
  read: ReadStep | undefined;
}

/**
 * The list of one-key mappings, folded into one read step and the table-level settings. The
 * reference applies transformations in sequence; the folded form gives the same rows whatever
 * the order: skip/take compose, keep and drop commute (a kept column that is also dropped is
 * gone either way).
 */
function readTransformations(
  source: YamlSource,
  items: readonly unknown[],
  problems: string[],
  problem: (at: FieldPath, message: string) => void,
): Transformations {
  const out: Transformations = {
    read: undefined,
    partitionFormat: undefined,
    dropColumns: undefined,
    keepColumns: undefined,
    skip: 0,
    take: undefined,
  };
  let readAt: { index: number; name: ReadName } | undefined;
  // An item that is not a transformation at all may be the misspelt read: then "needs a read
  // transformation" on every later step would only repeat that one mistake.
  let unrecognized = false;
  let partitionAt: number | undefined;
  const tableSteps: { index: number; name: string }[] = [];

  /** The value if it fits the schema; otherwise its issues are reported and undefined is returned. */
  const parse = <T>(schema: z.ZodType<T>, value: unknown, at: FieldPath): T | undefined => {
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    problems.push(...formatMLTableIssues(result.error.issues, source, at));
    return undefined;
  };

  items.forEach((item, index) => {
    const at: FieldPath = ['transformations', index];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      unrecognized = true;
      const example = typeof item === 'string' && (TRANSFORMATION_NAMES as readonly string[]).includes(item) ? `${item}: …` : 'read_delimited: {delimiter: ","}';
      problem(at, `expected a mapping with one transformation, like ${example}`);
      return;
    }
    const keys = Object.keys(item);
    if (keys.length !== 1) {
      unrecognized = true;
      problem(at, `expected one transformation per list item, got ${keys.length === 0 ? 'none' : keys.join(' and ')} (make each its own "- " item)`);
      return;
    }
    const name = keys[0] as string;
    const value = (item as Record<string, unknown>)[name];
    const where: FieldPath = [...at, name];
    const unsupported = UNSUPPORTED_TRANSFORMATIONS[name];
    if (unsupported !== undefined) {
      problem(where, `${name} is not supported by this version of minibatch: ${unsupported}`);
      return;
    }
    if (!(TRANSFORMATION_NAMES as readonly string[]).includes(name)) {
      unrecognized = true;
      const suggestion = closestName(name, TRANSFORMATION_NAMES);
      const hint = suggestion ? ` (did you mean "${suggestion}"?)` : `; expected one of ${TRANSFORMATION_NAMES.join(', ')}`;
      problem(where, `unknown transformation${hint}`);
      return;
    }
    const known = name as TransformationName;
    switch (known) {
      case 'read_delimited':
      case 'read_json_lines':
      case 'read_parquet': {
        if (readAt) {
          problem(where, `only one read transformation is allowed, but transformations[${readAt.index}] is already ${readAt.name}`);
          return;
        }
        readAt = { index, name: known };
        // `- read_parquet:` with nothing after it is the reference's way of saying "all defaults".
        const step = readStep(known, value ?? {}, where, parse);
        if (step) out.read = step;
        return;
      }
      case 'extract_columns_from_partition_format': {
        tableSteps.push({ index, name });
        const parsed = parse(schemas().TRANSFORMATION_SCHEMAS[known], value, where);
        if (parsed === undefined) return;
        if (partitionAt !== undefined) {
          problem(where, `only one partition format is allowed, but transformations[${partitionAt}] already sets one`);
          return;
        }
        partitionAt = index;
        const format = typeof parsed === 'string' ? parsed : parsed.partition_format;
        const compiled = compilePartitionFormat(format);
        if (typeof compiled === 'string') {
          problem(typeof parsed === 'string' ? where : [...where, 'partition_format'], compiled);
          return;
        }
        out.partitionFormat = format;
        return;
      }
      case 'drop_columns':
      case 'keep_columns': {
        tableSteps.push({ index, name });
        const parsed = parse(schemas().TRANSFORMATION_SCHEMAS[known], value, where);
        if (parsed === undefined) return;
        const columns = typeof parsed === 'string' ? [parsed] : parsed;
        if (known === 'drop_columns') {
          out.dropColumns = unique([...(out.dropColumns ?? []), ...columns]);
        } else {
          // keep A then keep B leaves the columns in both.
          const kept = out.keepColumns;
          out.keepColumns = unique(kept ? columns.filter((column) => kept.includes(column)) : columns);
        }
        return;
      }
      case 'skip':
      case 'take': {
        tableSteps.push({ index, name });
        const count = parse(schemas().TRANSFORMATION_SCHEMAS[known], value, where);
        if (count === undefined) return;
        // The rows kept so far are [skip, skip + take); each step narrows that window.
        if (known === 'skip') {
          out.skip += count;
          if (out.take !== undefined) out.take = Math.max(0, out.take - count);
        } else {
          out.take = out.take === undefined ? count : Math.min(out.take, count);
        }
        return;
      }
    }
  });

  if (!readAt && !unrecognized) {
    for (const step of tableSteps) {
      problem(
        ['transformations', step.index, step.name],
        `${step.name} needs a read transformation (read_delimited, read_json_lines or read_parquet); without one the MLTable is a file list`,
      );
    }
  }
  return out;
}

function readStep(
  name: ReadName,
  value: unknown,
  where: FieldPath,
  parse: <T>(schema: z.ZodType<T>, value: unknown, at: FieldPath) => T | undefined,
): ReadStep | undefined {
  switch (name) {
    case 'read_delimited': {
      const options = parse(schemas().readDelimitedSchema, value, where);
      if (!options) return undefined;
      return {
        format: 'delimited',
        includePathColumn: options.include_path_column ?? false,
        delimited: {
          delimiter: unescapeDelimiter(options.delimiter ?? ','),
          encoding: nodeEncoding(options.encoding ?? 'utf8') ?? 'utf8',
          header: (options.header?.toLowerCase() as HeaderMode | undefined) ?? 'all_files_same_headers',
          emptyAsString: options.empty_as_string ?? false,
        },
      };
    }
    case 'read_json_lines': {
      const options = parse(schemas().readJsonLinesSchema, value, where);
      if (!options) return undefined;
      return { format: 'json_lines', includePathColumn: options.include_path_column ?? false, delimited: undefined };
    }
    case 'read_parquet': {
      const options = parse(schemas().readParquetSchema, value, where);
      if (!options) return undefined;
      return { format: 'parquet', includePathColumn: options.include_path_column ?? false, delimited: undefined };
    }
  }
}

/** The reference's encoding names, as Node's; undefined for a name it does not know. */
export function nodeEncoding(name: string): BufferEncoding | undefined {
  return ENCODINGS[name.toLowerCase()];
}

/** `delimiter: '\t'` in single quotes is a backslash and a t in YAML; nobody means that. */
function unescapeDelimiter(delimiter: string): string {
  return delimiter === '\\t' ? '\t' : delimiter;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------
// Paths

/**
 * The files `paths` names, in its order, each kept once (first place wins). The MLTable file
 * itself is left out of folders and patterns: it describes the data and is never a row or an item.
 */
async function resolvePaths(
  entries: MLTableSpec['paths'],
  baseFolder: string,
  mltableFile: string,
  problem: (at: FieldPath, message: string) => void,
): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
  };
  const addListed = (file: string) => {
    if (file !== mltableFile) add(file);
  };
  for (const [index, entry] of entries.entries()) {
    const given = PATH_KINDS.filter((name) => entry[name] !== undefined);
    const kind = given[0];
    if (kind === undefined || given.length > 1) {
      problem(['paths', index], `expected exactly one of file, folder or pattern, got ${kind === undefined ? 'none' : given.join(' and ')}`);
      continue;
    }
    const raw = entry[kind] ?? '';
    const at: FieldPath = ['paths', index, kind];
    const local = localPath(raw);
    if (local === undefined) {
      problem(at, `only local paths are supported by this version of minibatch, got ${JSON.stringify(raw)}`);
      continue;
    }
    if (kind === 'pattern') {
      for (const file of await globFiles(baseFolder, local)) addListed(file);
      continue;
    }
    const target = resolve(baseFolder, local);
    const info = await stat(target).catch(() => undefined);
    if (!info) {
      problem(at, `${kind} not found: ${target}`);
    } else if (kind === 'file' && !info.isFile()) {
      problem(at, `expected a file, but ${target} is a folder (use folder: or pattern:)`);
    } else if (kind === 'folder' && !info.isDirectory()) {
      problem(at, `expected a folder, but ${target} is a file (use file:)`);
    } else if (kind === 'file') {
      add(target);
    } else {
      for await (const file of listFiles(target)) addListed(file);
    }
  }
  return files;
}

/** The local path a `paths` entry names; undefined for a remote URI (azureml://, https://, abfss://…). */
function localPath(path: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1];
  if (scheme === undefined) return path;
  if (scheme.toLowerCase() !== 'file') return undefined;
  try {
    return fileURLToPath(path);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Bare files with a read hint

/** The tabular format a file's extension suggests, if any. */
export function inferTabularFormat(file: string): TabularFormat | undefined {
  switch (extname(file).toLowerCase()) {
    // Not .txt: a folder of text documents is a file list far more often than a table.
    case '.csv':
    case '.tsv':
      return 'delimited';
    case '.jsonl':
    case '.ndjson':
    case '.json':
      return 'json_lines';
    case '.parquet':
    case '.pq':
      return 'parquet';
    default:
      return undefined;
  }
}

/**
 * A bare CSV/TSV/JSON-lines/Parquet `uri_file`, or every file of a `uri_folder` (recursive,
 * sorted), read as `hint`. The delimiter defaults to a tab when every file is a `.tsv`.
 * `delimited` is ignored unless the hint is `delimited`.
 */
export async function tabularSourceFromHint(
  input: { type: 'uri_file' | 'uri_folder'; path: string },
  hint: TabularFormat,
  delimited?: Partial<DelimitedOptions>,
): Promise<TabularSource> {
  const path = resolve(input.path);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InvalidInputError('E_JOB_INVALID', `input path does not exist: ${path}`);
  let files: string[];
  let baseFolder: string;
  if (input.type === 'uri_file') {
    if (!info.isFile()) throw new InvalidInputError('E_JOB_INVALID', `expected a file for a uri_file input, but ${path} is a folder`);
    files = [path];
    baseFolder = dirname(path);
  } else {
    if (!info.isDirectory()) {
      throw new InvalidInputError('E_JOB_INVALID', `expected a folder for a uri_folder input, but ${path} is a file (use type: uri_file)`);
    }
    files = [];
    for await (const file of listFiles(path)) files.push(file);
    baseFolder = path;
  }
  const allTsv = files.length > 0 && files.every((file) => extname(file).toLowerCase() === '.tsv');
  return {
    kind: 'tabular',
    format: hint,
    files,
    baseFolder,
    delimited:
      hint === 'delimited'
        ? {
            delimiter: delimited?.delimiter ?? (allTsv ? '\t' : ','),
            encoding: delimited?.encoding ?? 'utf8',
            header: delimited?.header ?? 'all_files_same_headers',
            emptyAsString: delimited?.emptyAsString ?? false,
          }
        : undefined,
    transformations: { includePathColumn: false, partitionFormat: undefined, dropColumns: undefined, keepColumns: undefined, skip: 0, take: undefined },
  };
}

// ---------------------------------------------------------------------------------------------
// Partition formats

export interface PartitionFormat {
  /** Column names in the order they appear in the format. */
  keys: string[];
  /** The columns a file's path (relative to the MLTable's folder, `/`-separated) gives; undefined when it does not match. */
  extract(relativePath: string): Record<string, string> | undefined;
}

/**
 * `{Store}/{Brand}/{file_name}.{extension}`: each `{name}` is a column whose value is one path
 * segment or part of one (never a `/`); the text between must match exactly. As in the
 * reference, the format describes the END of the path, from the first partition folder to the
 * file name, so files under `data/` match `{Store}/{file_name}.csv` without spelling `data/` out.
 * Throws InvalidInputError for a malformed format or a date part (`{Date:yyyy/MM/dd}`).
 */
export function parsePartitionFormat(format: string): PartitionFormat {
  const compiled = compilePartitionFormat(format);
  if (typeof compiled === 'string') throw new InvalidInputError('E_JOB_INVALID', `partition format ${JSON.stringify(format)}: ${compiled}`);
  return compiled;
}

/** The compiled format, or why it cannot be used (a message without location). */
function compilePartitionFormat(format: string): PartitionFormat | string {
  // A leading "/" or "./" only marks where partitions begin, which a suffix match needs no help with.
  const body = format.replace(/^\.?\/+/, '');
  const keys: string[] = [];
  let source = '';
  let position = 0;
  while (position < body.length) {
    const open = body.indexOf('{', position);
    const strayClose = body.indexOf('}', position);
    if (strayClose !== -1 && (open === -1 || strayClose < open)) return `expected "{" before the "}" at character ${strayClose + 1}`;
    if (open === -1) {
      source += escapeRegExp(body.slice(position));
      break;
    }
    source += escapeRegExp(body.slice(position, open));
    const close = body.indexOf('}', open + 1);
    if (close === -1) return `expected "}" to close the "{" at character ${open + 1}`;
    const inner = body.slice(open + 1, close);
    if (inner.includes('{')) return `expected "}" to close the "{" at character ${open + 1} (braces do not nest)`;
    if (inner.includes(':')) {
      return `{${inner}}: date formats are not supported by this version of minibatch; expected {name} parts only (capture dates as text, e.g. {year}/{month}/{day})`;
    }
    const name = inner.trim();
    if (source.endsWith('([^/]+)')) return `{${inner}} follows another {…} part directly; expected literal text between them, or there is no telling where one ends`;
    if (name === '') return `expected a column name inside the "{}" at character ${open + 1}`;
    if (name.includes('/')) return `{${inner}}: a column name cannot contain "/"`;
    if (keys.includes(name)) return `{${name}} appears twice; each column can be captured once`;
    keys.push(name);
    // Greedy within a segment: `{file_name}.{extension}` splits "a.b.csv" at its last dot.
    source += '([^/]+)';
    position = close + 1;
  }
  if (keys.length === 0) return 'expected at least one {column} part, e.g. "{Store}/{file_name}.csv"';
  const regex = new RegExp(`(?:^|/)${source}$`);
  return {
    keys,
    extract(relativePath) {
      const match = regex.exec(relativePath);
      if (!match) return undefined;
      const columns: Record<string, string> = {};
      keys.forEach((key, index) => {
        columns[key] = match[index + 1] ?? '';
      });
      return columns;
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
