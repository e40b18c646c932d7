import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { listFiles } from '../data/file-list.js';
import type { PipelineStep } from './load-pipeline.js';

/*
 * Reuse of deterministic steps (`is_deterministic: true`, the default; v1 `allow_reuse`). A
 * step's fingerprint is the content of its code folder, its settings as bound (with the
 * run-specific paths taken out) and the content of every input it reads. A step whose
 * fingerprint matches an earlier successful run whose outputs still exist is not run: its
 * outputs are linked to the earlier ones, instantly. The reuse index lives under the
 * minibatch home: reuse/by-fingerprint/<sha>.json, and reuse/last/<step>.json to say why not.
 */

export interface StepFingerprint {
  sha256: string;
  /** Per code file (relative path → sha256), to name what changed. */
  code: Record<string, string>;
  settings: string;
  /** Per input (name → sha256 of its content). */
  inputs: Record<string, string>;
}

export interface ReuseEntry {
  fingerprint: StepFingerprint;
  pipelineRunId: string;
  stepRunDir: string;
  outputs: Record<string, string>;
  at: string;
}

export type ReuseDecision = { reused: true; from: ReuseEntry } | { reused: false; why: string };

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function hashTree(path: string): Promise<{ total: string; files: Record<string, string> }> {
  const files: Record<string, string> = {};
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return { total: 'missing', files };
  if (stat.isFile()) {
    files['.'] = sha256(readFileSync(path));
  } else {
    for await (const file of listFiles(path)) files[relative(path, file)] = sha256(readFileSync(file));
  }
  const total = sha256(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, hash]) => `${name}\0${hash}`).join('\n'));
  return { total, files };
}

/** The step's fingerprint; `pipelineRoot` is taken out of its settings so that runs compare. */
export async function fingerprintStep(step: PipelineStep, pipelineDir: string, pipelineRoot: string): Promise<StepFingerprint> {
  const document = structuredClone(step.source.toJS()) as Record<string, unknown>;
  const codeField = step.type === 'parallel' ? (document.task as { code?: string } | undefined)?.code : (document.code as string | undefined);
  const code = codeField ? await hashTree(isAbsolute(codeField) ? codeField : resolve(pipelineDir, codeField)) : { total: 'none', files: {} };
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries((document.inputs ?? {}) as Record<string, unknown>)) {
    if (input && typeof input === 'object' && typeof (input as { path?: unknown }).path === 'string') {
      inputs[name] = (await hashTree((input as { path: string }).path)).total;
      // The path differs between pipeline runs (an upstream step's output); its content is what counts.
      (input as { path: string }).path = '<content>';
    }
  }
  const settings = JSON.stringify(document, (_key, value: unknown) => (typeof value === 'string' && value.startsWith(pipelineRoot) ? `<run>${value.slice(pipelineRoot.length)}` : value));
  const settingsHash = sha256(settings);
  const total = sha256(JSON.stringify({ type: step.type, code: code.total, settings: settingsHash, inputs }));
  return { sha256: total, code: code.files, settings: settingsHash, inputs };
}

export class ReuseIndex {
  constructor(readonly home: string) {}

  #byFingerprint(sha: string) {
    return join(this.home, 'reuse', 'by-fingerprint', `${sha}.json`);
  }

  #last(pipelineFile: string, step: string) {
    return join(this.home, 'reuse', 'last', `${sha256(`${pipelineFile}\0${step}`).slice(0, 32)}.json`);
  }

  /** Reuse when an earlier run had this fingerprint and its outputs are still there; else say why not. */
  decide(step: PipelineStep, pipelineFile: string, fingerprint: StepFingerprint): ReuseDecision {
    const hit = readJson<ReuseEntry>(this.#byFingerprint(fingerprint.sha256));
    if (hit) {
      const gone = Object.entries(hit.outputs).filter(([, path]) => !existsSync(path));
      if (gone.length === 0) return { reused: true, from: hit };
      return { reused: false, why: `the outputs of run ${hit.pipelineRunId} are gone (${gone.map(([name, path]) => `${name}: ${path}`).join(', ')})` };
    }
    const last = readJson<ReuseEntry>(this.#last(pipelineFile, step.name));
    if (!last) return { reused: false, why: 'no earlier run of this step' };
    return { reused: false, why: describeDifference(last.fingerprint, fingerprint) };
  }

  record(step: PipelineStep, pipelineFile: string, pipelineRunId: string, fingerprint: StepFingerprint): void {
    const entry: ReuseEntry = {
      fingerprint,
      pipelineRunId,
      stepRunDir: step.directory.root,
      outputs: Object.fromEntries(Object.entries(step.outputs).map(([name, output]) => [name, output.path])),
      at: new Date().toISOString(),
    };
    writeJson(this.#byFingerprint(fingerprint.sha256), entry);
    writeJson(this.#last(pipelineFile, step.name), entry);
  }
}

/** Makes this run's outputs the earlier run's: a symbolic link where the paths differ. */
export function linkReusedOutputs(step: PipelineStep, from: ReuseEntry): void {
  for (const [name, output] of Object.entries(step.outputs)) {
    const earlier = from.outputs[name];
    if (!earlier || resolve(earlier) === resolve(output.path)) continue;
    if (existsSync(output.path) || isLink(output.path)) continue;
    mkdirSync(dirname(output.path), { recursive: true });
    symlinkSync(earlier, output.path);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** What changed between the last run of a step and now, in words. */
export function describeDifference(before: StepFingerprint, now: StepFingerprint): string {
  const reasons: string[] = [];
  const changedCode = [...new Set([...Object.keys(before.code), ...Object.keys(now.code)])].filter((file) => before.code[file] !== now.code[file]).sort();
  if (changedCode.length > 0) reasons.push(`code changed: ${changedCode.slice(0, 5).join(', ')}${changedCode.length > 5 ? ` and ${changedCode.length - 5} more` : ''}`);
  const changedInputs = [...new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)])].filter((name) => before.inputs[name] !== now.inputs[name]).sort();
  if (changedInputs.length > 0) reasons.push(`input ${changedInputs.join(', ')} changed`);
  if (before.settings !== now.settings) reasons.push('settings changed');
  return reasons.length > 0 ? reasons.join('; ') : 'the step changed';
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value)}\n`);
  renameSync(`${path}.tmp`, path);
}
