import { parseArgsStringToArgv } from 'string-argv';
import { describeValue } from '../errors.js';
import { closestName } from './suggest.js';

/**
 * Advanced settings the reference passes through `program_arguments`. The engine reads
 * them; they are still passed on to the script untouched.
 */
export interface EngineArguments {
  error_threshold: number;
  allowed_failed_percent: number;
  allowed_failed_count: number;
  task_overhead_timeout: number;
  progress_update_timeout: number;
  first_task_creation_timeout: number;
  resource_monitor_interval: number;
  copy_logs_to_parent: boolean;
  append_row_dataframe_header: boolean;
  run_max_try: number;
  run_invocation_timeout: number;
}

type Parser = (raw: string | undefined) => number | boolean | string;

const integerAtLeast = (min: number): Parser => (raw) => {
  const value = Number(raw);
  return raw !== undefined && /^-?\d+$/.test(raw) && value >= min ? value : `expected an integer >= ${min}`;
};
const numberIn = (min: number, max: number, exclusiveMin = false): Parser => (raw) => {
  const value = Number(raw);
  const ok = raw !== undefined && raw.trim() !== '' && Number.isFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max;
  return ok ? value : `expected a number ${exclusiveMin ? '>' : '>='} ${min} and <= ${max}`;
};
const boolean: Parser = (raw) => {
  if (raw === undefined) return true;
  const lowered = raw.toLowerCase();
  if (lowered === 'true' || lowered === '1') return true;
  if (lowered === 'false' || lowered === '0') return false;
  return 'expected True or False';
};

const SECONDS = numberIn(0, 259_200, true);
const ENGINE_ARGUMENTS: Record<keyof EngineArguments, Parser> = {
  error_threshold: integerAtLeast(-1),
  allowed_failed_percent: numberIn(0, 100),
  allowed_failed_count: integerAtLeast(-1),
  task_overhead_timeout: SECONDS,
  progress_update_timeout: SECONDS,
  first_task_creation_timeout: SECONDS,
  resource_monitor_interval: numberIn(0, Number.MAX_SAFE_INTEGER),
  copy_logs_to_parent: boolean,
  append_row_dataframe_header: boolean,
  run_max_try: integerAtLeast(1),
  run_invocation_timeout: SECONDS,
};
const BOOLEAN_ARGUMENTS = new Set<string>(['copy_logs_to_parent', 'append_row_dataframe_header']);

export interface EngineArgumentProblem {
  argument: string;
  message: string;
}

export interface ParsedEngineArguments {
  values: Partial<EngineArguments>;
  /** Near misses of engine arguments (`--resource_monitor_interva`): passed on, but warned. */
  warnings: string[];
  errors: EngineArgumentProblem[];
}

/** Splits a `program_arguments` string the way a shell would (quotes kept together). */
export function splitProgramArguments(value: string | ReadonlyArray<string | number | boolean> | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return parseArgsStringToArgv(value);
  return value.map(String);
}

export function readEngineArguments(argv: readonly string[]): ParsedEngineArguments {
  const values: Partial<Record<keyof EngineArguments, number | boolean>> = {};
  const warnings: string[] = [];
  const errors: EngineArgumentProblem[] = [];
  const names = Object.keys(ENGINE_ARGUMENTS);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('--')) continue;
    const equals = token.indexOf('=');
    const name = token.slice(2, equals === -1 ? undefined : equals);
    const parser = ENGINE_ARGUMENTS[name as keyof EngineArguments];
    if (!parser) {
      const near = closestName(name, names);
      if (near) warnings.push(`program argument --${name} is not an engine argument; did you mean --${near}? It is passed to the script only.`);
      continue;
    }
    let raw: string | undefined;
    if (equals !== -1) raw = token.slice(equals + 1);
    else if (i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) raw = argv[++i];
    else if (!BOOLEAN_ARGUMENTS.has(name)) raw = undefined;
    const parsed = parser(raw);
    if (typeof parsed === 'string') errors.push({ argument: `--${name}`, message: `${parsed}, got ${describeValue(raw)}` });
    else values[name as keyof EngineArguments] = parsed;
  }
  return { values: values as Partial<EngineArguments>, warnings, errors };
}
