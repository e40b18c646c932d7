import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MinibatchError } from '../errors.js';
import type { EntryScriptContext } from './entry-script-context.js';

/** The functions an entry script exports. */
export interface EntryScriptModule {
  init?: (ctx: EntryScriptContext) => unknown;
  run: (miniBatch: unknown, ctx: EntryScriptContext) => unknown;
  shutdown?: (ctx: EntryScriptContext) => unknown;
}

/** The script cannot be used at all (missing, does not load, no run): retrying will not help. */
export class EntryScriptContractError extends MinibatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ENTRY_SCRIPT', message, options);
  }
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/**
 * Loads a JS/TS entry script. TypeScript is compiled on the fly by tsx (Node 20 cannot strip
 * types itself). CommonJS scripts work too: `module.exports.run` arrives as a named export.
 */
export async function loadEntryScript(path: string): Promise<EntryScriptModule> {
  let loaded: Record<string, unknown>;
  try {
    const url = pathToFileURL(path).href;
    if (TYPESCRIPT.has(extname(path))) {
      // tsImport, not register(): a .ts file outside a `"type": "module"` package would
      // otherwise be read as CommonJS and its `export`s lost.
      const { tsImport } = await import('tsx/esm/api');
      loaded = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      loaded = (await import(url)) as Record<string, unknown>;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EntryScriptContractError(`entry script ${path} failed to load: ${reason}`, { cause: error });
  }
  const candidate = pickExports(loaded);
  if (typeof candidate.run !== 'function') {
    const names = Object.keys(candidate).filter((name) => name !== 'default');
    throw new EntryScriptContractError(
      `entry script ${path} does not export a run function; expected \`export async function run(miniBatch, ctx)\`` +
        (names.length ? ` (it exports: ${names.join(', ')})` : ' (it exports nothing)'),
    );
  }
  for (const name of ['init', 'shutdown'] as const) {
    if (candidate[name] !== undefined && typeof candidate[name] !== 'function') {
      throw new EntryScriptContractError(`entry script ${path} exports ${name}, but it is not a function`);
    }
  }
  return candidate as unknown as EntryScriptModule;
}

/** Named exports win; a CommonJS or `export default { run }` object is the fallback. */
function pickExports(loaded: Record<string, unknown>): Record<string, unknown> {
  if (typeof loaded.run === 'function') return loaded;
  const fallback = loaded.default;
  if (fallback && typeof fallback === 'object') return fallback as Record<string, unknown>;
  return loaded;
}

/** What run() returned, as elements; a string error message when it is not a sequence. */
export function returnedElements(value: unknown): unknown[] | string {
  if (value === undefined || value === null) {
    return `run() returned ${value === null ? 'null' : 'undefined'}; expected an array with one element per successful item (return [] when nothing succeeded)`;
  }
  let elements: unknown[];
  if (Array.isArray(value)) elements = value;
  else if (typeof value === 'object' && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' && typeof value !== 'string') {
    elements = Array.from(value as Iterable<unknown>);
  } else {
    const what = typeof value === 'string' ? 'a string' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    return `run() returned ${what}; expected an array with one element per successful item`;
  }
  return elements;
}

/** The elements as JSON lines, one per element. */
export function serializeElements(elements: readonly unknown[]): { count: number; rows: string } | string {
  const lines = new Array<string>(elements.length);
  for (let i = 0; i < elements.length; i++) {
    try {
      lines[i] = stringifyRow(elements[i]);
    } catch (error) {
      return `run() returned an element that cannot be written as a row (element ${i}): ${(error as Error).message}`;
    }
  }
  return { count: elements.length, rows: lines.join('\n') };
}

/** Plain JSON.stringify keeps V8's fast path; a replacer is only needed when a row holds a bigint. */
function stringifyRow(element: unknown): string {
  try {
    return JSON.stringify(element ?? null) ?? 'null';
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
    return JSON.stringify(element, bigintAsString) ?? 'null';
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
