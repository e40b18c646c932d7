#!/usr/bin/env node
/*
 * The CLI, bundled by `npm run build` (scripts/bundle.mjs) as one CommonJS script, compiled here
 * with V8's code cache: Node 20 caches no ES module's compilation, and compiling the CLI's
 * ~1.5 MB was a third of its start-up. The cache sits beside the script; when it is missing or
 * V8 rejects it (another Node.js version), this process writes a new one as it exits. A cache
 * that cannot be read or written only costs the time to compile.
 */
// A CommonJS script (bin/package.json says so): an ES module entry point costs Node ~10 ms more
// to start, spent before the first worker can be forked.
const { isAscii } = require('node:buffer');
const { fork, spawn } = require('node:child_process');
const { existsSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

/*
 * `minibatch run` and `job create` start a job's first worker process here, before the engine is
 * loaded (~50 ms): the first task waits for that process's own start-up (~130 ms), so the sooner
 * it begins the better. src/cli/prewarm.ts keeps it as a spare when the job wants Node workers on
 * this machine and kills it otherwise; it is forked as src/worker/worker-process.ts forks spares.
 */
const [command, verb] = process.argv.slice(2);
/** A command that runs a job: it forks a worker ahead, and its code cache is the one to keep. */
const isRun = command === 'run' || (command === 'job' && verb === 'create');
const runArgs = process.argv.slice(3);
/** The job file's text (null: unreadable, the engine reports it); undefined when the job runs elsewhere. */
const jobText = isRun ? localJobText(runArgs) : undefined;
/*
 * Which worker to start ahead, from a glance at the text, not a parse: anything unclear starts
 * the Node worker, and prewarm.ts decides for real. None for a pipeline or another compute, and
 * no Node worker for a .py entry script: one forked for nothing took ~90 ms of CPU from a Python
 * job's start-up.
 */
const PIPELINE = /^type\s*:\s*["']?pipeline\b/m;
const PYTHON_SCRIPT = /\bentry_script\s*:\s*["']?[^\s"',}]*\.py["']?\s*(?:[,}#]|$)/m;
const early = earlyWorker(jobText);
if (early === 'node') {
  try {
    const worker = fork(join(__dirname, '../dist/bundle/worker-main.js'), [], { execArgv: [], serialization: 'json', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    worker.on('error', () => {}); // the engine forks its own
    // Nothing of it keeps this process alive: a command that ends without taking it just exits.
    for (const handle of [worker, worker.channel, worker.stdout, worker.stderr]) handle?.unref?.();
    globalThis[Symbol.for('minibatch.early-spare')] = worker;
  } catch {
    // the engine forks its own, and reports what goes wrong
  }
}

/*
 * The same for a Python entry script: the bridge started now (as src/worker/worker-process.ts
 * starts it) with the interpreter the engine will choose: `--python`, else MINIBATCH_PYTHON,
 * else python3. A job file that names one (task.environment.python) gets none: the engine
 * resolves that. The pool takes it when it runs the same interpreter, and kills it otherwise.
 */
if (early === 'python' && !/\bpython\s*:/.test(jobText)) {
  const interpreter = optionOf(runArgs, '--python') ?? (process.env.MINIBATCH_PYTHON || 'python3');
  try {
    const child = spawn(interpreter, ['-u', join(__dirname, '../python/minibatch_bridge.py')], { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    child.on('error', () => {}); // not found: the engine reports it
    for (const handle of [child, ...child.stdio]) handle?.unref?.();
    globalThis[Symbol.for('minibatch.early-python-spare')] = child; // its spawnfile names the interpreter
  } catch {
    // the engine starts its own, and reports what goes wrong
  }
}

/** 'node', 'python', or undefined (none): the worker the job will want here, at a glance. */
function earlyWorker(text) {
  if (text === undefined) return undefined; // another compute
  if (text === null) return 'node'; // unreadable: the engine reports it
  if (PIPELINE.test(text)) return undefined;
  return PYTHON_SCRIPT.test(text) ? 'python' : 'node';
}

function optionOf(args, name) {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

function localJobText(args) {
  const compute = optionOf(args, '--compute');
  if (compute !== undefined && compute !== 'local') return undefined;
  const jobFile = command === 'run' ? args.find((arg) => !arg.startsWith('-')) : (optionOf(args, '--file') ?? optionOf(args, '-f'));
  try {
    return readFileSync(jobFile ?? '', 'utf8');
  } catch {
    return null;
  }
}

const file = join(__dirname, '../dist/bundle/main.cjs');
const cacheFile = `${file}.v8-cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache yet
}
// One-byte text when the bundle is ASCII (scripts/bundle.mjs makes it so): faster than decoding UTF-8.
const bytes = readFileSync(file);
const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const script = new Script(`(function (exports, require, module, __filename, __dirname, __importMetaUrl, __minibatchImport) {${source}\n})`, {
  filename: file,
  cachedData,
});
/*
 * The cache is made at exit, so it also holds the functions that command compiled, not only the
 * top level. Which command made it matters: one made by `--version` (320 KB) left a job's first
 * task ~14 ms later than one made by a run (900 KB; W7's job, 9 runs), and an accepted cache is
 * never rewritten. So a run replaces a cache that another command made; the marker file says a
 * run made it.
 */
const runMarker = `${cacheFile}.by-run`;
if (cachedData === undefined || script.cachedDataRejected || (isRun && !existsSync(runMarker))) {
  process.once('exit', () => {
    try {
      const temporary = `${cacheFile}.${process.pid}`;
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
      if (isRun) writeFileSync(runMarker, '');
      else rmSync(runMarker, { force: true });
    } catch {
      // a read-only install: every start compiles
    }
  });
}
const bundle = { exports: {} };
// The script's import() calls (ES-module-only packages) come here: see scripts/bundle.mjs.
const importModule = (specifier) => import(specifier);
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, dirname(file), pathToFileURL(file).href, importModule);
