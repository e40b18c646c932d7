/*
 * Runs in a child process of the controller: fingerprints a fresh run's inputs (a stat per
 * file) while the controller dispatches the first mini-batches.
 */
import { answerOneRequest } from '../worker/one-shot-child.js';
import { fingerprintInput, type FingerprintAnswer, type FingerprintRequest } from './fingerprint.js';

// Ctrl-C reaches the whole process group, but the controller stops gracefully and still journals
// this answer (for the resume it makes possible); if the controller dies instead, so does this.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('disconnect', () => process.exit(0));

answerOneRequest(async (request: FingerprintRequest): Promise<FingerprintAnswer> => {
  try {
    const inputs = [];
    for (const input of request) inputs.push(await fingerprintInput(input.name, input.path));
    return { inputs };
  } catch (error) {
    return { error: (error as Error).message };
  }
});
