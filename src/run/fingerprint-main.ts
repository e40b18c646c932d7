/*
 * Runs in a worker thread of the controller: fingerprints a fresh run's inputs (a stat per
 * file) while the controller dispatches the first mini-batches.
 */
import { MinibatchError } from '../errors.js';
import { answerInThread } from '../worker/one-shot-thread.js';
import { fingerprintInput, type FingerprintAnswer, type FingerprintRequest } from './fingerprint.js';

answerInThread(async (request: FingerprintRequest): Promise<FingerprintAnswer> => {
  try {
    const inputs = [];
    for (const input of request) inputs.push(await fingerprintInput(input.name, input.path));
    return { inputs };
  } catch (error) {
    // An input error keeps its code across the thread: the same as when walked in the controller.
    return { error: (error as Error).message, ...(error instanceof MinibatchError ? { code: error.code } : {}) };
  }
});
