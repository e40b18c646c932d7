import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const EXIT_MODULE = fileURLToPath(new URL('./exit.ts', import.meta.url));

/** A process that has finished its run and is exiting, struck by `signals` meanwhile. */
function exitingProcess(signals: number): { status: number | null; signal: NodeJS.Signals | null } {
  const script = `
    const { ignoreFirstSignalWhileExiting } = await import(${JSON.stringify(EXIT_MODULE)});
    ignoreFirstSignalWhileExiting();
    for (let i = 0; i < ${signals}; i++) process.kill(process.pid, 'SIGTERM');
    setTimeout(() => { process.exitCode = 0; }, 100);
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: result.status, signal: result.signal };
}

describe('signals once the run has ended', () => {
  it('a first SIGTERM does not kill a process printing its summary: it exits with the run\'s code', () => {
    assert.deepEqual(exitingProcess(1), { status: 0, signal: null });
  });

  it('a second one quits at once, 143', () => {
    assert.deepEqual(exitingProcess(2), { status: 143, signal: null });
  });
});
