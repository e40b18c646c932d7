/*
 * Fingerprints a fresh run's inputs (a stat per file) while the controller dispatches the first
 * mini-batches: in a worker thread, given their listing, or in a child process for inputs of
 * more files than a thread should hold (fingerprint.ts chooses).
 */
import { isMainThread } from 'node:worker_threads';
import { MinibatchError } from '../errors.js';
import { answerOneRequest } from '../worker/one-shot-child.js';
import { answerInThread } from '../worker/one-shot-thread.js';
import { fingerprintInput, fingerprintListing, type FingerprintAnswer, type FingerprintRequest } from './fingerprint.js';

async function fingerprint(request: FingerprintRequest): Promise<FingerprintAnswer> {
  try {
    const inputs = [];
    for (const input of request) inputs.push(input.files ? await fingerprintListing(input.name, input.path, input.files) : await fingerprintInput(input.name, input.path));
    return { inputs };
  } catch (error) {
    // An input error keeps its code across: the same as when walked in the controller.
    return { error: (error as Error).message, ...(error instanceof MinibatchError ? { code: error.code } : {}) };
  }
}

if (isMainThread) {
  // Ctrl-C reaches the whole process group, but the controller stops gracefully and still
  // journals this answer (for the resume it makes possible); if the controller dies, so does this.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('disconnect', () => process.exit(0));
  answerOneRequest(fingerprint);
} else {
  void answerInThread(fingerprint); // a thread gets no signal
}
