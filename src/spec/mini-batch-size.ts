import { InvalidInputError, describeValue } from '../errors.js';

/** `mini_batch_size` as written: digits alone, digits with a kb/mb/gb unit (×1024 each), or `auto`. */
export type MiniBatchSize =
  | { kind: 'count'; count: number }
  | { kind: 'bytes'; bytes: number }
  /** Sized from measured run() time to `target_mini_batch_seconds` (scheduling/auto-sizer.ts). */
  | { kind: 'auto' };

const SIZE_PATTERN = /^(\d+)([kKmMgG][bB])?$/;
const AUTO = 'auto';
const UNIT_FACTORS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size. Digits alone stay a `count`: whether that means files or bytes depends on the
 * input (file list vs tabular), which the planner knows and this parser does not.
 * Returns an error message (for the schema to attach to the field) instead of throwing.
 */
export function parseMiniBatchSize(value: unknown): MiniBatchSize | string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') {
    return `expected a file count like "10" or a size like "10kb", "1MB", or auto, got ${describeValue(value)}`;
  }
  if (text.trim().toLowerCase() === AUTO) return { kind: 'auto' };
  // A word is most likely a misspelt "auto": say so rather than list the digit forms only.
  if (/^\s*[a-z]+\s*$/i.test(text)) return `expected a file count like "10", a size like "10kb", or auto, got ${describeValue(value)}`;
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) {
    return `expected a file count like "10" or a size like "10kb", "1MB" (digits, then optionally kb, mb or gb), got ${describeValue(value)}`;
  }
  const amount = Number(match[1]);
  if (amount <= 0) return `expected a size greater than 0, got ${describeValue(value)}`;
  const unit = match[2]?.[0]?.toLowerCase();
  if (unit === undefined) return { kind: 'count', count: amount };
  return { kind: 'bytes', bytes: amount * (UNIT_FACTORS[unit] ?? 1) };
}

export function parseMiniBatchSizeOrThrow(value: unknown, where: string): MiniBatchSize {
  const parsed = parseMiniBatchSize(value);
  if (typeof parsed === 'string') throw new InvalidInputError('E_JOB_INVALID', `${where}: ${parsed}`);
  return parsed;
}
