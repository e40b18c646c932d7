import { z } from 'zod';
import { HEADER_MODES } from '../data/tabular-source.js';
import { parseMiniBatchSize } from './mini-batch-size.js';

/*
 * The `type: parallel` job file, as written by users (CLI v2 form). This schema is the
 * single source of the field list: validation, TypeScript types, field descriptions, the
 * JSON Schema for editors (schema/parallel-job.schema.json) and (later) the SDK derive from it. Defaults are NOT applied here; they live in
 * `defaults.ts` and are applied once by `resolve-job.ts`.
 */

const MAX_TIMEOUT_SECONDS = 259_200;

function integer(min: number, max?: number) {
  const expected = max === undefined ? `expected an integer >= ${min}` : `expected an integer from ${min} to ${max}`;
  const schema = z.int({ error: expected }).min(min, { error: expected });
  return max === undefined ? schema : schema.max(max, { error: expected });
}

/** Seconds in (0, 259200]; fractions are accepted (the reference takes integers). */
function seconds() {
  const expected = `expected a number of seconds > 0 and <= ${MAX_TIMEOUT_SECONDS}`;
  return z.number({ error: expected }).gt(0, { error: expected }).lte(MAX_TIMEOUT_SECONDS, { error: expected });
}

function text(what = 'a string') {
  return z.string({ error: `expected ${what}` });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

export const INPUT_TYPES = ['uri_folder', 'uri_file', 'mltable'] as const;
export const INPUT_MODES = ['ro_mount', 'download', 'direct', 'eval_mount', 'eval_download'] as const;
export const OUTPUT_TYPES = ['uri_folder', 'uri_file', 'mltable'] as const;
export const OUTPUT_MODES = ['rw_mount', 'upload', 'direct'] as const;
export const LOGGING_LEVELS = ['DEBUG', 'INFO', 'WARNING'] as const;
export const APPEND_ROW_FORMATS = ['text', 'csv', 'jsonl', 'parquet'] as const;

const flag = () => z.boolean({ error: 'expected true or false' });

/** How to read a bare CSV/TSV file as a table (the MLTable read_delimited options). */
const readDelimitedSchema = z.strictObject({
  delimiter: text('a delimiter').optional(),
  encoding: text('an encoding').optional(),
  header: oneOf(HEADER_MODES).optional(),
  include_path_column: flag().optional(),
  empty_as_string: flag().optional(),
});
const readJsonLinesSchema = z.strictObject({ encoding: text('an encoding').optional(), include_path_column: flag().optional() }).nullable();
const readParquetSchema = z.strictObject({ include_path_column: flag().optional() }).nullable();

const assetInputSchema = z.strictObject({
  type: oneOf(INPUT_TYPES).optional().describe('@default \'uri_folder\''),
  path: text('a path').describe('Local path, relative to the job file\'s folder.'),
  mode: oneOf(INPUT_MODES).optional().describe('How the input reaches the script; locally everything is read in place except `download`, which copies.'),
  description: text().optional(),
  optional: z.boolean({ error: 'expected true or false' }).optional(),
  read_delimited: readDelimitedSchema.optional().describe('Read this CSV/TSV file or folder as a table (split by bytes or partition_keys).'),
  read_json_lines: readJsonLinesSchema.optional().describe('Read this JSON-lines file or folder as a table.'),
  read_parquet: readParquetSchema.optional().describe('Read this Parquet file or folder as a table.'),
});

/** A literal input (string, number, boolean) or a data asset. */
export const inputSchema = z.union([z.string(), z.number(), z.boolean(), assetInputSchema], {
  error: 'expected a literal (string, number, true/false) or an object with type and path',
});

export const outputSchema = z.strictObject({
  type: oneOf(OUTPUT_TYPES).optional().describe('@default \'uri_folder\''),
  path: text('a path').optional().describe('Where to write; by default a folder under the run directory.'),
  mode: oneOf(OUTPUT_MODES).optional(),
  description: text().optional(),
});

/** Environment fields only mean something on a cloud: accepted, noticed, not provisioned. */
export const environmentSchema = z.union(
  [
    z.string(),
    z.strictObject({
      name: text().optional(),
      version: z.union([z.string(), z.number()]).optional(),
      description: text().optional(),
      image: text().optional(),
      conda_file: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      build: z.record(z.string(), z.unknown()).optional(),
      python: text('an interpreter path').optional(),
      tags: z.record(z.string(), z.unknown()).optional(),
    }),
  ],
  { error: 'expected an environment reference (string) or an object with image / conda_file' },
);

const taskSchema = z.strictObject({
  type: z.literal('run_function', { error: 'expected run_function' }).optional().describe('@default \'run_function\''),
  code: text('a folder path').describe('Folder holding the entry script, relative to the job file.'),
  entry_script: text('a file name').describe('The script inside `code`: .mjs, .js, .cjs or .ts.'),
  environment: environmentSchema.optional(),
  program_arguments: z
    .union([z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))], { error: 'expected a string (or a list of strings)' })
    .optional()
    .describe('Arguments for the script, after ${{ }} binding; engine arguments are read from here too.'),
  append_row_to: text('${{outputs.<name>}} or a path').optional().describe('`${{outputs.x}}` or a path: every returned element becomes a row there. Unset = summary_only.'),
});

const resourcesSchema = z.strictObject({
  instance_count: integer(1).optional().describe('Node groups. @default 1'),
  instance_type: text().optional(),
  shm_size: text().optional(),
  docker_args: text().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  locations: z.array(z.string()).optional(),
});

const retrySettingsSchema = z.strictObject({
  max_retries: integer(0).optional().describe('Retries of a failed or timed-out mini-batch. @default 2'),
  timeout: seconds().optional().describe('Seconds for one run() call. @default 60'),
});

const miniBatchSizeSchema = z.union([z.string(), z.number()], { error: 'expected a file count like "10" or a size like "10kb", "1MB" (digits, then optionally kb, mb or gb) or auto' }).superRefine((value, ctx) => {
  const parsed = parseMiniBatchSize(value);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed, input: value });
});

export const parallelJobSchema = z.strictObject({
  $schema: text('a URL').optional(),
  type: z.literal('parallel', { error: 'expected parallel' }),
  name: text().optional(),
  display_name: text().optional(),
  description: text().optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  experiment_name: text().optional(),
  identity: z.unknown().optional(),
  compute: text().optional().describe('`local`, a name from minibatch.config.yml, or `azureml:<name>`. @default \'local\''),
  inputs: z.record(z.string(), inputSchema).optional(),
  outputs: z.record(z.string(), outputSchema).optional(),
  input_data: text('${{inputs.<name>}}').describe('Which input is split: `${{inputs.<name>}}`.'),
  mini_batch_size: miniBatchSizeSchema.optional().describe('Files per mini-batch, approximate bytes for tabular input, or `auto`: sized from measured run() time to target_mini_batch_seconds, starting at 1 file / 64 KB. @default 10 files / 1 MB'),
  target_mini_batch_seconds: seconds().optional().describe('With mini_batch_size: auto, how long one mini-batch should run. @default 10'),
  partition_keys: z.array(text('a column name')).optional(),
  resources: resourcesSchema.optional(),
  max_concurrency_per_instance: integer(1).optional().describe('Worker processes per node. @default number of cores'),
  error_threshold: integer(-1).optional().describe('Allowed failed items in the whole job; -1 ignores all. @default -1'),
  mini_batch_error_threshold: integer(-1).optional().describe('Allowed failed mini-batches; -1 ignores all. @default -1'),
  allowed_failed_count: integer(-1).optional().describe('Same as mini_batch_error_threshold (the v1 / argument name).'),
  allowed_failed_percent: z.number({ error: 'expected a number from 0 to 100' }).min(0, { error: 'expected a number from 0 to 100' }).max(100, { error: 'expected a number from 0 to 100' }).optional().describe('Allowed percentage of failed mini-batches, checked once all are scheduled. @default 100'),
  overhead_timeout: seconds().optional().describe('Seconds allowed to load a mini-batch\'s data before run(). @default 600'),
  progress_update_timeout: seconds().optional().describe('Seconds without any finished mini-batch before the job fails as stuck. @default 3 × (timeout + overhead_timeout)'),
  first_task_creation_timeout: seconds().optional().describe('Seconds from start to the first mini-batch scheduled. @default 600'),
  resource_monitor_interval: z.number({ error: 'expected a number of seconds >= 0' }).min(0, { error: 'expected a number of seconds >= 0' }).optional().describe('Seconds between resource samples under logs/sys/perf; 0 = off. @default 600'),
  copy_logs_to_parent: z.boolean({ error: 'expected true or false' }).optional(),
  append_row_dataframe_header: z.boolean({ error: 'expected true or false' }).optional().describe('Write a header row when rows are objects written as CSV. @default false'),
  append_row_format: oneOf(APPEND_ROW_FORMATS).optional().describe('Row format of the append_row file; by default from its extension (.csv, .jsonl) or text.'),
  max_worker_memory: z
    .union([z.string(), z.number()])
    .superRefine((value, ctx) => {
      const parsed = parseMiniBatchSize(value);
      if (typeof parsed === 'string' || parsed.kind !== 'bytes') ctx.addIssue({ code: 'custom', message: 'expected a memory size like "2GB" or "512MB"', input: value });
    })
    .optional()
    .describe('A worker process whose memory grows past this is replaced between mini-batches (init() runs again). Unset = no limit.'),
  logging_level: oneOf(LOGGING_LEVELS).optional(),
  retry_settings: retrySettingsSchema.optional(),
  speculative_copies: flag()
    .optional()
    .describe('Near the end of the job, start a second copy of a mini-batch running far longer than typical on an idle worker; the first copy to succeed is kept (its rows once), the other is stopped. false = off. @default true'),
  environment_variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })).optional(),
  is_deterministic: z.boolean({ error: 'expected true or false' }).optional().describe('Whether results may be reused when nothing changed (pipelines). @default true'),
  task: taskSchema,
});

export type ParallelJobOptions = z.infer<typeof parallelJobSchema>;
export type InputOptions = z.infer<typeof inputSchema>;
export type OutputOptions = z.infer<typeof outputSchema>;
export type AssetInputOptions = z.infer<typeof assetInputSchema>;

/** Every field name the schema knows at each level, for "did you mean" hints. */
export function knownFieldsAt(path: ReadonlyArray<string | number>): string[] {
  let schema: z.ZodType = parallelJobSchema;
  for (const key of path) {
    const shape = shapeOf(schema);
    if (shape) {
      const next = shape[String(key)];
      if (!next) return [];
      schema = next;
      continue;
    }
    const record = unwrap(schema);
    if (record instanceof z.ZodRecord) {
      schema = record.valueType as z.ZodType;
      continue;
    }
    return [];
  }
  return Object.keys(shapeOf(schema) ?? {});
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return inner.shape as Record<string, z.ZodType>;
  if (inner instanceof z.ZodUnion) {
    for (const option of inner.options as z.ZodType[]) {
      const shape = shapeOf(option);
      if (shape) return shape;
    }
  }
  return undefined;
}


/** The JSON Schema of the job file, for editors (`npm run schema` writes it to schema/). */
export function parallelJobJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(parallelJobSchema, { unrepresentable: 'any', io: 'input' }),
    title: 'minibatch parallel job',
    description: 'A type: parallel job file for minibatch (Azure ML parallel job vocabulary).',
  };
}
