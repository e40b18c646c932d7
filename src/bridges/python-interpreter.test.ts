import assert from 'node:assert/strict';
import { delimiter } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { findTestPython, pythonShim, tempDir } from '../../test/helpers.js';
import { findPython } from './python-interpreter.js';

const PYTHON = findTestPython();

describe('findPython', { skip: PYTHON ? false : 'no python3 found' }, () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('runs python3 on PATH from the file it turns out to be: a shim is not started again by every worker', async () => {
    const { folder, shim, starts, executable } = pythonShim(PYTHON ?? 'python3');
    process.env.PATH = `${folder}${delimiter}${path}`;
    const found = await findPython({});
    assert.equal(found.path, executable);
    assert.notEqual(found.path, shim);
    assert.equal(found.requested, 'python3');
    assert.equal(found.source, 'python3 on PATH');
    assert.match(found.version, /^3\.\d+\.\d+$/);
    assert.equal(starts(), 1);
  });

  it('runs a command named explicitly as given (it may be a wrapper that sets the environment up)', async () => {
    const { shim } = pythonShim(PYTHON ?? 'python3');
    for (const choice of [{ flag: shim }, { env: shim }, { environment: shim }]) {
      const found = await findPython(choice);
      assert.equal(found.path, shim);
      assert.equal(found.requested, shim);
    }
  });

  it('takes the answer of an interpreter started ahead instead of starting it to ask', async () => {
    const { executable } = pythonShim(PYTHON ?? 'python3');
    process.env.PATH = tempDir(); // no python3 here: asking it would fail
    const asked: string[] = [];
    const found = await findPython({}, (command) => {
      asked.push(command);
      return Promise.resolve({ version: '3.12.1', executable });
    });
    assert.deepEqual(asked, ['python3']);
    assert.deepEqual(found, { path: executable, version: '3.12.1', source: 'python3 on PATH', requested: 'python3' });
    // No answer (no such process, or it exited): the interpreter is asked, and not found here.
    await assert.rejects(findPython({}, () => Promise.resolve(undefined)), /Python interpreter python3 \(from python3 on PATH\): not found/);
  });

  it('refuses an interpreter older than 3.8, whoever says its version', async () => {
    const { executable } = pythonShim(PYTHON ?? 'python3');
    await assert.rejects(findPython({ flag: 'python3' }, () => Promise.resolve({ version: '3.7.9', executable })), /Python interpreter python3 \(from --python\) is Python 3\.7\.9; expected 3\.8 or newer/);
  });
});
