import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { listFiles } from '../data/file-list.js';
import type { RunFingerprint } from '../store/run-store.js';

/** What a run starts from: the job file's text, its overrides, the code folder's content. */
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

/** What differs between two fingerprints, in words; empty when nothing does. */
export function describeChanges(before: RunFingerprint, now: RunFingerprint, jobFile: string, code: string): string[] {
  const changes: string[] = [];
  if (before.jobSha256 !== now.jobSha256) changes.push(`the job file ${jobFile} changed`);
  if (before.codeSha256 !== now.codeSha256) changes.push(`the code folder ${code} changed`);
  return changes;
}
