#!/usr/bin/env node
/*
 * The CLI, bundled by `npm run build` (scripts/bundle.mjs) as one CommonJS script, compiled here
 * with V8's code cache: Node 20 caches no ES module's compilation, and compiling the CLI's
 * ~1.5 MB was a third of its start-up. The cache sits beside the script; when it is missing or
 * V8 rejects it (another Node.js version), this process writes a new one as it exits. A cache
 * that cannot be read or written only costs the time to compile.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const file = fileURLToPath(new URL('../dist/bundle/main.cjs', import.meta.url));
const cacheFile = `${file}.v8-cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache yet
}
const script = new Script(`(function (exports, require, module, __filename, __dirname, __importMetaUrl, __minibatchImport) {${readFileSync(file, 'utf8')}\n})`, {
  filename: file,
  cachedData,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      // Made at exit, so it also holds the functions this run compiled, not only the top level.
      const temporary = `${cacheFile}.${process.pid}`;
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      // a read-only install: every start compiles
    }
  });
}
const module = { exports: {} };
// The script's import() calls (ES-module-only packages) come here: see scripts/bundle.mjs.
const importModule = (specifier) => import(specifier);
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href, importModule);
