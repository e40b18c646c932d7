import { createHash, hash as hashOnce } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { listFileChunks, listFiles } from '../data/file-list.js';
import { InvalidInputError, MinibatchError, type ErrorCode } from '../errors.js';
import type { ResolvedInput } from '../spec/resolve-job.js';
import type { InputFingerprint, RunFingerprint } from '../store/run-store.js';
import { childModule, runOneShotChild } from '../worker/one-shot-child.js';
import { runOneShotThread } from '../worker/one-shot-thread.js';

/** Inputs of more files than this keep only their hash: a resume then says "changed", not how. */
const MAX_LISTED_FILES = 5_000;
const ENTRY_BYTES = 12;

/**
 * What a run starts from: the job file's text, its overrides and the code folder's content.
 * The inputs are fingerprinted apart (fingerprintInputs): stat'ing a million files takes
 * seconds, so a fresh run does it beside its first mini-batches (fingerprintInputsApart), and
 * only a resume waits for it.
 */
export async function fingerprintRun(jobFile: string, sets: readonly string[], code: string): Promise<RunFingerprint> {
  const codeHash = createHash('sha256');
  for await (const file of listFiles(code)) {
    codeHash.update(relative(code, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return {
    sets: [...sets],
    jobSha256: createHash('sha256').update(readFileSync(jobFile)).digest('hex'),
    codeSha256: codeHash.digest('hex'),
  };
}

/** Every asset input's file list with sizes and modification times. */
export async function fingerprintInputs(inputs: Readonly<Record<string, ResolvedInput>>): Promise<InputFingerprint[]> {
  const fingerprints: InputFingerprint[] = [];
  for (const input of Object.values(inputs)) {
    if (input.kind === 'asset') fingerprints.push(await fingerprintInput(input.name, input.sourcePath));
  }
  return fingerprints;
}

/**
 * Every asset input's fingerprint, beside the run, where it costs the controller least. The
 * inputs are listed first (no stat) to choose, up to `placement.threadFiles` files in all:
 * - up to `inProcessFiles` in all, they are walked here, in slices the controller dispatches between;
 * - up to `threadFiles`, their listing goes to a worker thread, which stats them: a stat and
 *   its `Stats` object per file is time the controller's thread needs for dispatching;
 * - past that, a child process lists and stats them: a thread's memory and the listing count in
 *   the controller's (a child's start-up, ~0.1 s of CPU, is paid once for seconds of stats).
 */
export async function fingerprintInputsApart(inputs: Readonly<Record<string, ResolvedInput>>, placement = FINGERPRINT_PLACEMENT): Promise<InputFingerprint[]> {
  const request: FingerprintRequest = Object.values(inputs).flatMap((input) => (input.kind === 'asset' ? [{ name: input.name, path: input.sourcePath }] : []));
  if (request.length === 0) return [];
  const listed: string[][] = [];
  let budget = placement.threadFiles;
  for (const { name, path } of request) {
    const files = await listUpTo(name, path, budget);
    if (!files) break;
    listed.push(files);
    budget -= files.length;
  }
  if (listed.length < request.length) return answered(await runOneShotChild<FingerprintAnswer>(FINGERPRINT_MAIN, request, 'input fingerprint'));
  if (placement.threadFiles - budget > placement.inProcessFiles) {
    const withListings = request.map((input, index) => ({ ...input, files: listed[index] ?? [] }));
    return answered(await runOneShotThread<FingerprintAnswer>(FINGERPRINT_MAIN, withListings, 'input fingerprint'));
  }
  const here: InputFingerprint[] = [];
  for (const [index, { name, path }] of request.entries()) here.push(await fingerprintListing(name, path, listed[index] ?? []));
  return here;
}

function answered(answer: FingerprintAnswer): InputFingerprint[] {
  if ('error' in answer) throw new InvalidInputError(answer.code ?? 'E_INPUT_NOT_FOUND', answer.error);
  return answer.inputs;
}

/**
 * Where fingerprintInputsApart walks inputs, by their files in all. Measured on W1's 20,000
 * files, 2 cores: the thread took 5 % off the job's wall time for 4 % more CPU than walking them
 * in the controller, where a child process cost 13 % more CPU for no gain (it competed with the
 * workers for cores). A thread's start-up (~20 ms of CPU) pays off past a few hundred stats.
 * At a million files, the controller's peak memory (bench W5) grew from 119 to 148 MB with the
 * thread, and to 137 MB with a child after 100,000 paths listed here; 25,000 leaves it at 119.
 */
export const FINGERPRINT_PLACEMENT = { inProcessFiles: 500, threadFiles: 25_000 };
/** The in-process walk lets the event loop run after this many files. */
const FILES_PER_SLICE = 128;

/** The inputs to fingerprint; with `files`, their listing (a thread is given it: it was listed to choose the thread). */
export type FingerprintRequest = { name: string; path: string; files?: string[] }[];
export type FingerprintAnswer = { inputs: InputFingerprint[] } | { error: string; code?: ErrorCode };

const FINGERPRINT_MAIN = childModule('fingerprint-main', import.meta.url);

/** One input's files (a missing optional input has none), by stat only. */
export async function fingerprintInput(name: string, path: string): Promise<InputFingerprint> {
  return fingerprintListed(name, path, listingOf(path));
}

/** One input's fingerprint from its listing (as listUpTo made it), by stat only. */
export async function fingerprintListing(name: string, path: string, files: readonly string[]): Promise<InputFingerprint> {
  return fingerprintListed(name, path, [files]);
}

/** An input's files in runs, as fingerprints list them: none when it is missing, itself when a file. */
function listingOf(path: string): AsyncIterable<readonly string[]> | (readonly string[])[] {
  const root = statSync(path, { throwIfNoEntry: false });
  return root === undefined ? [] : root.isDirectory() ? listFileChunks(path) : [[path]];
}

/** The input's files, or undefined as soon as there are more than `limit`. */
async function listUpTo(name: string, path: string, limit: number): Promise<string[] | undefined> {
  const files: string[] = [];
  try {
    for await (const chunk of listingOf(path)) {
      files.push(...chunk);
      if (files.length > limit) return undefined;
    }
  } catch (error) {
    throw cannotList(name, path, error);
  }
  return files;
}

function cannotList(name: string, path: string, error: unknown): Error {
  return error instanceof MinibatchError ? error : new InvalidInputError('E_INPUT_NOT_FOUND', `input ${name} (${path}) cannot be listed: ${(error as Error).message}`);
}

/** The fingerprint of an input's listed files, by stat only. */
async function fingerprintListed(name: string, path: string, listing: AsyncIterable<readonly string[]> | Iterable<readonly string[]>): Promise<InputFingerprint> {
  const hash = createHash('sha256');
  // The first MAX_LISTED_FILES entries, written in place (one buffer, not one per file).
  let entries = Buffer.allocUnsafe(ENTRY_BYTES * 256);
  let files = 0;
  // Listed paths are this prefix and the name relative to the input (as file-list.ts builds them).
  const prefix = path.endsWith('/') ? path : `${path}/`;
  try {
    for await (const chunk of listing) {
      // One hash update per chunk of files (the same digest as one per piece): at 20,000 files
      // the updates, not the stats, were most of the fingerprint's time.
      let text = '';
      for (const file of chunk) {
        const stat = statSync(file, { throwIfNoEntry: false });
        if (!stat) continue; // gone since it was listed
        const entryName = file === path ? basename(path) : file.slice(prefix.length);
        const meta = `${stat.size}:${stat.mtimeMs}`;
        text += `${entryName}\0${meta}\0`;
        files++;
        if (files % FILES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        if (files <= MAX_LISTED_FILES) {
          // One-shot hashes (no Hash object per file): the same digests as update() in pieces.
          const at = (files - 1) * ENTRY_BYTES;
          if (at + ENTRY_BYTES > entries.length) entries = Buffer.concat([entries], Math.min(entries.length * 2, ENTRY_BYTES * MAX_LISTED_FILES));
          (hashOnce('sha256', entryName, 'buffer') as unknown as Buffer).copy(entries, at, 0, 8);
          (hashOnce('sha256', `${entryName}\0${meta}`, 'buffer') as unknown as Buffer).copy(entries, at + 8, 0, 4);
        }
      }
      hash.update(text);
    }
  } catch (error) {
    throw cannotList(name, path, error);
  }
  return { name, path, files, sha256: hash.digest('hex'), ...(files <= MAX_LISTED_FILES ? { entries: entries.toString('base64', 0, files * ENTRY_BYTES) } : {}) };
}

/** What differs between two fingerprints, in words; empty when nothing does. */
export function describeChanges(before: RunFingerprint, now: RunFingerprint, jobFile: string, code: string): string[] {
  const changes: string[] = [];
  if (before.jobSha256 !== now.jobSha256) changes.push(`the job file ${jobFile} changed`);
  if (before.codeSha256 !== now.codeSha256) changes.push(`the code folder ${code} changed`);
  // A run started before inputs were fingerprinted has nothing to compare with.
  for (const input of before.inputs && now.inputs ? now.inputs : []) {
    const earlier = before.inputs?.find((one) => one.name === input.name && one.path === input.path);
    if (earlier && earlier.sha256 !== input.sha256) changes.push(`input ${input.name} (${input.path}) changed: ${describeInputChange(earlier, input)}`);
  }
  return changes;
}

function describeInputChange(before: InputFingerprint, now: InputFingerprint): string {
  if (before.entries === undefined || now.entries === undefined) {
    // Too many files to keep one entry each: only the totals can be told apart.
    return before.files === now.files ? `${now.files} files before and now, but names, sizes or modification times differ` : `${before.files} files before, ${now.files} now`;
  }
  const earlier = entryMap(before.entries);
  const later = entryMap(now.entries);
  let added = 0;
  let modified = 0;
  for (const [name, meta] of later) {
    const old = earlier.get(name);
    if (old === undefined) added++;
    else if (old !== meta) modified++;
  }
  let removed = 0;
  for (const name of earlier.keys()) if (!later.has(name)) removed++;
  const counts = [`${added} added`, `${removed} removed`, `${modified} modified`];
  const total = added + removed + modified;
  return `${total} ${total === 1 ? 'file' : 'files'} added/removed/modified (${counts.join(', ')})`;
}

/** Path hash → size-and-mtime hash, from an `entries` string. */
function entryMap(entries: string): Map<string, string> {
  const bytes = Buffer.from(entries, 'base64');
  const map = new Map<string, string>();
  for (let at = 0; at + ENTRY_BYTES <= bytes.length; at += ENTRY_BYTES) {
    map.set(bytes.toString('hex', at, at + 8), bytes.toString('hex', at + 8, at + ENTRY_BYTES));
  }
  return map;
}
