import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRun } from '../store/run-catalog.js';
import { StudioError, batchesOf, listStudioRuns, listTree, outputsOf, perfOf, runDetails, runDirOf, safeResolve } from './run-data.js';

/** The web app's files (plain HTML, CSS and JS; no build step), beside src/ and dist/ at the package root. */
const UI_DIR = fileURLToPath(new URL('../../studio-ui/', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/minibatch.js', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

export interface StudioOptions {
  home: string;
  host: string;
  port: number;
  /** Required on every request when set (the studio binds beyond loopback). */
  token?: string | undefined;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/** A token for a studio bound beyond loopback: printed once at start. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * `minibatch studio`: a JSON API under /api/ over the runs of one minibatch home, and the web
 * app that uses it. Safe by default: loopback only unless told otherwise, then a token on
 * every request; file views stay inside run directories and declared outputs; responses
 * forbid inline scripts (Content-Security-Policy), and the app renders user text as text.
 */
export function createStudioServer(options: StudioOptions): Server {
  return createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      const status = error instanceof StudioError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) sendJson(response, status, { error: message });
      else response.end();
    });
  });
}

function securityHeaders(response: ServerResponse): void {
  response.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cache-Control', 'no-store');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  securityHeaders(response);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function authorized(request: IncomingMessage, url: URL, token: string | undefined): boolean {
  if (!token) return true;
  const header = request.headers.authorization?.replace(/^Bearer\s+/i, '');
  const cookie = /(?:^|;\s*)minibatch_token=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
  const given = header ?? url.searchParams.get('token') ?? cookie ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function handle(request: IncomingMessage, response: ServerResponse, options: StudioOptions): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://studio.invalid');
  if (!authorized(request, url, options.token)) {
    sendJson(response, 401, { error: 'this studio needs its token: ?token=… once in the browser, or Authorization: Bearer … for scripts' });
    return;
  }
  // The token given in the address becomes a cookie, so the app's own requests carry it.
  if (options.token && url.searchParams.get('token')) response.setHeader('Set-Cookie', `minibatch_token=${options.token}; HttpOnly; SameSite=Strict; Path=/`);
  const path = url.pathname;
  if (!path.startsWith('/api/')) return serveUi(path, response);

  let parts: string[]; // ['api', 'runs', id, what]
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new StudioError(400, `not a valid address: ${path}`);
  }
  const { home } = options;
  if (parts[1] !== 'runs') throw new StudioError(404, `no API ${path}`);
  if (parts.length === 2) {
    sendJson(response, 200, { runs: listStudioRuns(home, { status: url.searchParams.get('status'), q: url.searchParams.get('q') }) });
    return;
  }
  const id = parts[2] ?? '';
  const what = parts[3];
  if (request.method === 'POST') return action(id, what ?? '', options, response);
  if (request.method !== 'GET') throw new StudioError(405, 'expected GET or POST');
  switch (what) {
    case undefined:
      sendJson(response, 200, runDetails(home, id));
      return;
    case 'batches':
      sendJson(response, 200, batchesOf(home, id, url.searchParams));
      return;
    case 'perf':
      sendJson(response, 200, perfOf(home, id));
      return;
    case 'events':
      return events(home, id, response);
    case 'files': {
      const runDir = runDirOf(home, id);
      sendJson(response, 200, { files: listTree(runDir).filter((entry) => entry.path === 'logs' || entry.path.startsWith(`logs/`) || entry.path === 'job.yml' || entry.path === 'pipeline.yml') });
      return;
    }
    case 'file': {
      const runDir = runDirOf(home, id);
      return sendFile(safeResolve(runDir, url.searchParams.get('path') ?? ''), url.searchParams.get('download') === '1', response);
    }
    case 'outputs': {
      const outputs = outputsOf(home, id);
      const name = url.searchParams.get('name');
      if (!name) {
        sendJson(response, 200, { outputs: outputs.map((output) => ({ ...output, entries: output.kind === 'folder' ? listTree(output.path, 500) : undefined })) });
        return;
      }
      const output = outputs.find((one) => one.name === name);
      if (!output || output.kind === 'missing') throw new StudioError(404, `no output ${name}`);
      const file = output.kind === 'file' ? output.path : safeResolve(output.path, url.searchParams.get('path') ?? '');
      return sendFile(file, url.searchParams.get('download') === '1', response);
    }
    default:
      throw new StudioError(404, `no API ${path}`);
  }
}

function sendFile(path: string, download: boolean, response: ServerResponse): void {
  const stat = statSync(path);
  if (!stat.isFile()) throw new StudioError(400, `${basename(path)} is a folder`);
  securityHeaders(response);
  // Always plain text or a download: a run's files are never rendered as HTML by the browser.
  response.writeHead(200, {
    'Content-Type': download ? 'application/octet-stream' : 'text/plain; charset=utf-8',
    'Content-Length': stat.size,
    ...(download ? { 'Content-Disposition': `attachment; filename="${basename(path).replace(/[^\w.-]/g, '_')}"` } : {}),
  });
  // No more than the size announced (a log may grow meanwhile); a read error ends this response, not the server.
  if (stat.size === 0) {
    response.end();
    return;
  }
  createReadStream(path, { start: 0, end: stat.size - 1 })
    .on('error', () => response.destroy())
    .pipe(response);
}

/** Server-sent events: the run's progress once a second until it is no longer running. */
function events(home: string, id: string, response: ServerResponse): void {
  const runDir = runDirOf(home, id);
  securityHeaders(response);
  response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  const send = () => {
    const details = runDetails(home, id);
    response.write(`event: progress\ndata: ${JSON.stringify({ run: details.run, progress: details.progress, pipeline: details.pipeline })}\n\n`);
    if (details.run.status !== 'running') {
      response.write('event: end\ndata: {}\n\n');
      stop();
    }
  };
  const timer = setInterval(() => {
    try {
      send();
    } catch {
      stop();
    }
  }, 1_000);
  const stop = () => {
    clearInterval(timer);
    response.end();
  };
  response.on('close', () => clearInterval(timer));
  if (!existsSync(runDir)) stop();
  else send();
}

/** cancel / resume / rerun-failed: the same operations as the CLI, run as the CLI. */
function action(id: string, what: string, options: StudioOptions, response: ServerResponse): void {
  const runDir = runDirOf(options.home, id);
  const run = describeRun(runDir);
  if (!run) throw new StudioError(404, `no run ${id}`);
  if (what === 'cancel') {
    if (run.status !== 'running' || !run.driver) throw new StudioError(409, `run ${id} is not running (status: ${run.status})`);
    if (run.driver.host !== hostname()) throw new StudioError(409, `run ${id} is driven from ${run.driver.host}; cancel it there`);
    try {
      process.kill(run.driver.pid, 'SIGTERM');
    } catch {
      throw new StudioError(409, `run ${id} is no longer running (its driver is gone)`);
    }
    sendJson(response, 202, { ok: true, message: `asked the driver (pid ${run.driver.pid}) to stop; running mini-batches may commit first` });
    return;
  }
  if (what === 'resume' || what === 'rerun-failed') {
    if (run.kind === 'pipeline') throw new StudioError(409, 'a pipeline cannot be resumed as a whole yet; resume its parallel steps');
    if (run.status === 'running') throw new StudioError(409, `run ${id} is running`);
    if (what === 'resume' && run.status === 'succeeded') throw new StudioError(409, `run ${id} already succeeded; there is nothing to resume`);
    const args = what === 'resume' ? ['job', 'resume', runDir] : ['job', 'rerun-failed', runDir];
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, MINIBATCH_HOME: options.home }, stdio: 'ignore', detached: true });
    child.unref();
    sendJson(response, 202, { ok: true, message: `started: minibatch ${args.join(' ')} (pid ${child.pid})` });
    return;
  }
  throw new StudioError(404, `no action ${what}; expected cancel, resume or rerun-failed`);
}

function serveUi(path: string, response: ServerResponse): void {
  if (path === '/favicon.ico') {
    response.writeHead(204).end();
    return;
  }
  // The app is one page; its own files are the only static files served.
  const name = path === '/' || !extname(path) ? 'index.html' : basename(path);
  const file = join(UI_DIR, name);
  if (!existsSync(file) || !TYPES[extname(name)]) throw new StudioError(404, `no page ${path}`);
  securityHeaders(response);
  response.writeHead(200, { 'Content-Type': TYPES[extname(name)] ?? 'text/plain' });
  response.end(readFileSync(file));
}
