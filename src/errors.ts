/**
 * One base error with a stable string `code`. Callers branch on `code` (or on the two
 * subclasses that decide the exit code), never on message text.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_YAML_SYNTAX'
  | 'E_JOB_INVALID'
  | 'E_INPUT_NOT_FOUND'
  | 'E_CONFIG_INVALID'
  | 'E_COMPUTE_UNREACHABLE'
  | 'E_ENTRY_SCRIPT'
  | 'E_JOB_FAILED'
  | 'E_STORE_CORRUPT'
  | 'E_ILLEGAL_STATE'
  | 'E_INTERNAL';

export class MinibatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The user's input (job file, flags, script contract) is wrong: exit code 2. */
export class InvalidInputError extends MinibatchError {}

/** The job ran and failed (threshold, stuck, every worker failed to init): exit code 1. */
export class JobFailedError extends MinibatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_JOB_FAILED', message, options);
  }
}

/** A lifecycle was asked to make a transition it does not allow: always a bug. */
export class IllegalStateError extends MinibatchError {
  constructor(message: string) {
    super('E_ILLEGAL_STATE', message);
  }
}

/**
 * An error as it crosses a process boundary: plain JSON, the same shape whichever
 * bridge (JS now, Python later) produced it.
 */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: 'NonError', message: `a non-Error value was thrown: ${describeValue(error)}` };
}

/** A short, safe rendering of any value for messages: `"three"`, `42`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return 'an object';
}
