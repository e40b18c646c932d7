/*
 * `npm run build`, after tsc: bundles the CLI and the processes it forks into dist/bundle/.
 *
 * Why: a Node.js process pays for every ES module it loads (resolve, read, compile, link):
 * `minibatch run` loaded ~170 of them (95 of zod's) before its first task, a worker 11. One
 * bundle per process, with shared chunks, cut the time to first task by about a fifth
 * (bench W7). dist/*.js (tsc's output) stays what the package exports to library users.
 *
 * Every file lands flat in dist/bundle/, two levels below the package root like dist/<concept>/,
 * so the paths the code computes from import.meta.url (the worker's main module beside the
 * pool, python/, studio-ui/, bin/) resolve the same from the bundle as from tsc's output.
 *
 * The CLI itself is one CommonJS script, main.cjs, that bin/minibatch.js compiles with V8's code
 * cache (Node 20 caches no ES module's compilation): its ~1.5 MB were a third of the CLI's
 * start-up. The processes it forks stay ES modules with shared chunks: they load ~25 KB.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const OUT = 'dist/bundle';

/** Loaded only when a job needs them (Redis, Parquet, DuckDB, tables, .ts scripts), or native: left to node. */
const EXTERNAL = ['bullmq', 'ioredis', '@duckdb/*', 'hyparquet', 'hyparquet-writer', 'apache-arrow', 'papaparse', 'tsx', 'tsx/*'];

/**
 * zod's namespace export carries every locale's messages (360 KB of the bundle); minibatch
 * reports in English and never reads `z.locales`, so the namespace keeps English only.
 */
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: 'zod-locales-en', namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
    }));
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: ['dist/worker/worker-main.js', 'dist/run/fingerprint-main.js', 'dist/data/duckdb-shuffle-main.js'],
  outdir: OUT,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: EXTERNAL,
  // CommonJS dependencies (commander) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __minibatchCreateRequire } from 'node:module'; const require = __minibatchCreateRequire(import.meta.url);" },
  plugins: [englishOnlyZodLocales],
  logLevel: 'warning',
});

const cli = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: `${OUT}/main.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: EXTERNAL,
  // bin/minibatch.js runs the script in a function that receives the script's own file URL.
  define: { 'import.meta.url': '__importMetaUrl' },
  // import.meta.resolve is only reached when running from .ts sources, never from the bundle.
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [englishOnlyZodLocales],
  logLevel: 'warning',
  write: false,
});
/*
 * import() of a package that is an ES module only (hyparquet, hyparquet-writer) goes through
 * the loader's own import(): in a script compiled from V8's code cache, Node 20 loses the
 * callback import() needs (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). Only import() calls on a
 * string literal are rewritten; every other dependency is required.
 */
const [output] = cli.outputFiles;
const rewritten = output.text.replace(/\bimport\((?=["'])/g, '__minibatchImport(');
if (!rewritten.includes('__minibatchImport(')) throw new Error('main.cjs: expected import() calls to rewrite (hyparquet)');
/*
 * ASCII only, so bin/minibatch.js reads it as one-byte text (~5 ms less than decoding 1.3 MB of
 * UTF-8 at every start). esbuild already escapes non-ASCII characters in code (its default
 * charset); what is left is in comments, where an escape is as good as the character.
 */
const text = rewritten.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
writeFileSync(output.path, text);
