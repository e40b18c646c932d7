import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { FIXTURE_SCRIPTS, REPO, tempDir } from '../helpers.js';

/*
 * bin/minibatch.js compiles the bundled CLI (dist/bundle/main.cjs) with V8's code cache, kept
 * beside it. These run a copy of the built package, so the cache's states are the test's own:
 * none yet, accepted, and one V8 rejects. Each time a job reads a Parquet table and writes a
 * Parquet file: both packages are ES modules only, loaded with import() from the cached script
 * (which Node 20 could not do with the script's own import(): ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
 */
describe('the CLI compiled from its code cache', () => {
  it('writes the cache when missing, runs from it, and replaces one V8 rejects', async () => {
    const dir = tempDir('mb-code-cache-');
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    for (const part of ['bin', 'python', 'package.json']) cpSync(join(REPO, part), join(pkg, part), { recursive: true });
    cpSync(join(REPO, 'dist', 'bundle'), join(pkg, 'dist', 'bundle'), { recursive: true, filter: (source) => !source.endsWith('.v8-cache') });
    symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
    const cache = join(pkg, 'dist', 'bundle', 'main.cjs.v8-cache');

    const work = join(dir, 'job');
    mkdirSync(join(work, 'data'), { recursive: true });
    mkdirSync(join(work, 'src'), { recursive: true });
    writeFileSync(join(work, 'src', 'echo.mjs'), readFileSync(join(FIXTURE_SCRIPTS, 'tabular_echo_rows.mjs')));
    parquetWriteFile({ filename: join(work, 'data', 'table.parquet'), columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32', nullable: false }] });
    writeFileSync(join(work, 'data', 'MLTable'), 'paths:\n  - file: ./table.parquet\ntransformations:\n  - read_parquet:\n');
    writeFileSync(
      join(work, 'job.yml'),
      'type: parallel\ninputs: {table: {type: mltable, path: ./data}}\noutputs: {rows: {type: uri_file, path: ./out/rows.parquet}}\ninput_data: ${{inputs.table}}\nmini_batch_size: "1kb"\nmax_concurrency_per_instance: 1\ntask: {type: run_function, code: ./src, entry_script: echo.mjs, append_row_to: "${{outputs.rows}}"}\n',
    );
    const run = () => {
      const result = spawnSync(process.execPath, [join(pkg, 'bin', 'minibatch.js'), 'run', join(work, 'job.yml')], { env: { ...process.env, MINIBATCH_HOME: join(dir, 'home') }, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /ExperimentalWarning|ERR_/);
      return result;
    };

    assert.equal(existsSync(cache), false);
    // bin/minibatch.js reads an ASCII bundle as one-byte text (scripts/bundle.mjs escapes the rest).
    assert.ok(isAscii(readFileSync(join(pkg, 'dist', 'bundle', 'main.cjs'))), 'main.cjs is ASCII');
    run();
    assert.ok(existsSync(cache), 'written as the first run exited');
    const written = readFileSync(cache);
    run();
    assert.deepEqual(readFileSync(cache), written, 'accepted: not written again');
    writeFileSync(cache, 'not a V8 code cache');
    run();
    assert.ok(readFileSync(cache).length > 1000, 'a rejected cache is replaced');

    // A cache another command made holds less of what a run needs: the next run replaces it, once.
    rmSync(cache);
    const version = spawnSync(process.execPath, [join(pkg, 'bin', 'minibatch.js'), '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    const byVersion = readFileSync(cache);
    run();
    const byRun = readFileSync(cache);
    assert.ok(byRun.length > byVersion.length, `a run replaced the cache --version made (${byVersion.length} -> ${byRun.length} bytes)`);
    spawnSync(process.execPath, [join(pkg, 'bin', 'minibatch.js'), '--version'], { encoding: 'utf8' });
    run();
    assert.deepEqual(readFileSync(cache), byRun, 'a run\'s cache is kept: by --version and by the next run');
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(work, 'out', 'rows.parquet')) });
    assert.deepEqual(rows.map((row) => Number(row.id)), [1, 2, 3]);
  });
});
