import { CommanderError } from 'commander';
import { InvalidInputError, JobFailedError, MinibatchError } from '../errors.js';

export const EXIT = { ok: 0, jobFailed: 1, invalidInput: 2, bug: 70, sigint: 130 } as const;

/**
 * The one place an error becomes an exit code and a message. User errors get their message
 * alone (no stack trace); anything unexpected is a bug and says so.
 */
export function reportError(error: unknown, write: (text: string) => void = (text) => process.stderr.write(text)): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return EXIT.ok;
    return EXIT.invalidInput; // commander has already printed its message
  }
  if (error instanceof InvalidInputError) {
    write(`minibatch: ${error.message}\n`);
    return EXIT.invalidInput;
  }
  if (error instanceof JobFailedError) {
    write(`minibatch: ${error.message}\n`);
    return EXIT.jobFailed;
  }
  if (error instanceof MinibatchError && error.code === 'E_STORE_CORRUPT') {
    write(`minibatch: ${error.message}\n`);
    return EXIT.jobFailed;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  write(`minibatch: internal error — this is a bug, please report it with the text below.\n${detail}\n`);
  return EXIT.bug;
}

/**
 * A run's own stop handlers are gone once it has ended; the process then only prints its summary
 * and exits. A signal in that moment must not kill it (a run that succeeded would exit 143 with
 * its summary cut): the first is ignored, a second quits at once, as during the run.
 */
export function ignoreFirstSignalWhileExiting(): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++received > 1) process.exit(signal === 'SIGINT' ? EXIT.sigint : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
