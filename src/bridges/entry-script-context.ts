import minimist from 'minimist';
import type { WorkerSetup } from '../worker/protocol.js';
import type { LoggingLevel } from '../spec/resolve-job.js';

/** The entry script's logger: lines go to the process's stderr log with a level and time. */
export interface EntryScriptLogger {
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warning(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** What `init(ctx)`, `run(miniBatch, ctx)` and `shutdown(ctx)` receive. */
export interface EntryScriptContext {
  /** `program_arguments` after binding: `raw` as argv, `parsed` by minimist (`--model x` → `{ model: 'x' }`). */
  readonly programArguments: { readonly raw: readonly string[]; readonly parsed: minimist.ParsedArgs };
  /** Resolved input paths (and literal input values) by name. */
  readonly inputs: Readonly<Record<string, string | number | boolean>>;
  /** Resolved output paths by name. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly logger: EntryScriptLogger;
  readonly nodeRank: number;
  readonly processRank: number;
  readonly globalRank: number;
  readonly worldSize: number;
  /** Set in run(): which mini-batch and which try (1-based). */
  readonly miniBatchId: number | undefined;
  readonly attempt: number | undefined;
  /** Set for partitioned input (a later version): key → value. */
  readonly partitionKeyValue: Readonly<Record<string, unknown>> | undefined;
  /** Fires when run() times out (and at shutdown): stop work early and throw. */
  readonly signal: AbortSignal;
}

const LEVELS: Record<LoggingLevel | 'ERROR', number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

export function createLogger(level: LoggingLevel, write: (line: string) => void): EntryScriptLogger {
  const threshold = LEVELS[level];
  const log = (name: keyof typeof LEVELS) => (message: string, ...rest: unknown[]) => {
    if (LEVELS[name] < threshold) return;
    const extra = rest.length ? ` ${rest.map((value) => (typeof value === 'string' ? value : safeJson(value))).join(' ')}` : '';
    write(`${new Date().toISOString()} ${name} ${message}${extra}\n`);
  };
  return { debug: log('DEBUG'), info: log('INFO'), warning: log('WARNING'), warn: log('WARNING'), error: log('ERROR') };
}

/** A mini-batch's own signal: made when the script first reads `ctx.signal`, aborted on timeout. */
export interface MiniBatchSignal {
  abort: AbortController | undefined;
  timedOut: Error | undefined;
}

const signals = new WeakMap<object, MiniBatchSignal>();

function signalOf(this: object): AbortSignal {
  const state = signals.get(this) as MiniBatchSignal;
  if (!state.abort) {
    state.abort = new AbortController();
    if (state.timedOut) state.abort.abort(state.timedOut);
  }
  return state.abort.signal;
}

const SIGNAL_PROPERTY: PropertyDescriptor = { enumerable: true, get: signalOf };

/**
 * The ctx of one run() call: the base context's fields with this mini-batch's id, try and
 * partition key, and `signal` as an own getter. One getter shared by every ctx, reading the
 * mini-batch's state from a WeakMap: a getter closure per ctx made each one a ~1 KB object in
 * V8's slow dictionary mode (measured: ~190 bytes now), garbage per mini-batch in every worker.
 * Its AbortController is made only when the script reads `signal` (one per mini-batch cost more
 * than a trivial run()).
 */
export function miniBatchContext(base: EntryScriptContext, miniBatchId: number, attempt: number, partitionKeyValue: Readonly<Record<string, unknown>> | undefined, signal: MiniBatchSignal): EntryScriptContext {
  const ctx = {
    programArguments: base.programArguments,
    inputs: base.inputs,
    outputs: base.outputs,
    logger: base.logger,
    nodeRank: base.nodeRank,
    processRank: base.processRank,
    globalRank: base.globalRank,
    worldSize: base.worldSize,
    miniBatchId,
    attempt,
    partitionKeyValue,
  };
  Object.defineProperty(ctx, 'signal', SIGNAL_PROPERTY);
  signals.set(ctx, signal);
  return ctx as EntryScriptContext;
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function createBaseContext(setup: WorkerSetup, signal: AbortSignal): EntryScriptContext {
  return {
    programArguments: { raw: setup.programArguments, parsed: minimist(setup.programArguments) },
    inputs: setup.inputs,
    outputs: setup.outputs,
    logger: createLogger(setup.loggingLevel, (line) => process.stderr.write(line)),
    nodeRank: setup.nodeRank,
    processRank: setup.processRank,
    globalRank: setup.globalRank,
    worldSize: setup.worldSize,
    miniBatchId: undefined,
    attempt: undefined,
    partitionKeyValue: undefined,
    signal,
  };
}
