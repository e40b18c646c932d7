/*
 * Peer for bench/suite.ts: the floor for "Node processes + IPC". A minimal hand-written pool:
 * the parent plans the same batches as minibatch, forks <processes> children
 * (child_process.fork, the built-in IPC channel), keeps 2 batches in flight per child (so a
 * child never waits on the parent between batches), and writes the returned rows in input order.
 * No retries, no timeouts, no journal, no logs: what is left is process start-up and IPC.
 * <processes> 0 runs every batch in this process: the serial baseline (the floor for the work).
 *
 * Usage: node fork-pool.mjs <mode> <input> <output> <per> <processes> [iterations]
 * Modes as in pool.py: files | lines (input without header) | cpu. Prints {"batches","rows"}.
 */
import { fork } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync, fstatSync, writeSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { join } from 'node:path';

const IN_FLIGHT = 2;

function makeRun(mode, input, iterations) {
  if (mode === 'files') return (batch) => batch.map(() => '1');
  if (mode === 'lines') {
    const fd = openSync(input, 'r');
    return ([start, end]) => {
      const buffer = Buffer.allocUnsafe(end - start);
      readSync(fd, buffer, 0, end - start, start);
      let lines = 0;
      for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
      return new Array(lines).fill('1');
    };
  }
  return (batch) => batch.map((path) => pbkdf2Sync(path, 'minibatch', iterations, 32, 'sha256').toString('hex'));
}

if (process.argv[2] === '--child') {
  const run = makeRun(process.argv[3], process.argv[4], Number(process.argv[5]));
  process.on('message', (message) => {
    if (message === 'stop') return process.disconnect();
    process.send({ id: message.id, rows: run(message.batch) });
  });
} else {
  const [mode, input, output, perText, processesText, iterationsText] = process.argv.slice(2);
  const per = Number(perText);
  const processes = Number(processesText);
  const iterations = Number(iterationsText ?? 0);
  const batches = plan(mode, input, per);
  const out = openSync(output, 'w');
  let rows = 0;
  const write = (chunk) => {
    if (chunk.length === 0) return;
    writeSync(out, `${chunk.join('\n')}\n`);
    rows += chunk.length;
  };
  if (processes === 0) {
    const run = makeRun(mode, input, iterations);
    for (const batch of batches) write(run(batch));
    finish();
  } else {
    const results = new Map();
    let next = 0; // next batch to send
    let written = 0; // next batch to write
    const children = Array.from({ length: processes }, () => fork(new URL(import.meta.url).pathname, ['--child', mode, input, String(iterations)], { stdio: 'inherit' }));
    const send = (child) => {
      if (next < batches.length) {
        child.send({ id: next, batch: batches[next] });
        next++;
      }
    };
    for (const child of children) {
      child.on('message', ({ id, rows: got }) => {
        results.set(id, got);
        while (results.has(written)) {
          write(results.get(written));
          results.delete(written);
          written++;
        }
        send(child);
        if (written === batches.length) {
          for (const c of children) c.send('stop');
          finish();
        }
      });
      for (let i = 0; i < IN_FLIGHT; i++) send(child);
    }
    if (batches.length === 0) {
      for (const c of children) c.send('stop');
      finish();
    }
  }

  function finish() {
    closeSync(out);
    process.stdout.write(`${JSON.stringify({ batches: batches.length, rows })}\n`);
  }
}

function walk(folder, files) {
  const entries = readdirSync(folder, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) walk(path, files);
    else files.push(path);
  }
  return files;
}

function plan(mode, input, per) {
  if (mode === 'lines') {
    const fd = openSync(input, 'r');
    const size = fstatSync(fd).size;
    const ranges = [];
    const probe = Buffer.allocUnsafe(4096);
    let start = 0;
    while (start < size) {
      let end = Math.min(start + per, size);
      // to the end of the line the cut fell in
      while (end < size) {
        const got = readSync(fd, probe, 0, probe.length, end);
        const newline = probe.subarray(0, got).indexOf(10);
        if (newline !== -1) {
          end += newline + 1;
          break;
        }
        end += got;
      }
      ranges.push([start, end]);
      start = end;
    }
    closeSync(fd);
    return ranges;
  }
  const files = walk(input, []);
  const batches = [];
  for (let i = 0; i < files.length; i += per) batches.push(files.slice(i, i + per));
  return batches;
}
