import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readDelimitedPart, readJsonLinesPart } from './delimited-reader.js';
import type { DelimitedPart } from './descriptors.js';
import { planDelimitedFile, splitDelimitedFile, splitJsonLinesFile } from './record-splitter.js';
import type { DelimitedOptions } from './tabular-source.js';
import { tempDir } from '../../test/helpers.js';

const OPTIONS: DelimitedOptions = { delimiter: ',', encoding: 'utf8', header: 'all_files_same_headers', emptyAsString: false };

/** A seeded generator, so a failing case can be replayed from its seed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const PIECES = ['a', 'b', 'xyz', ' ', ',', '"', '""', '\n', '\r\n', 'é', '日本', '1', '2.5', ''];

/** A random CSV field and how it is written (quoted when it must be, or at random). */
function field(next: () => number): { value: string; written: string } {
  let value = '';
  const length = Math.floor(next() * 6);
  for (let i = 0; i < length; i++) value += PIECES[Math.floor(next() * PIECES.length)]?.replace('""', '"') ?? '';
  const mustQuote = /[",\r\n]/.test(value) || value !== value.trim();
  const written = mustQuote || next() < 0.2 ? `"${value.replace(/"/g, '""')}"` : value;
  return { value, written };
}

function tempFile(name: string, content: string): string {
  const path = join(tempDir('mb-split-'), name);
  writeFileSync(path, content);
  return path;
}

async function readAll(file: string, targetBytes: number, options = OPTIONS, split: { skipRows?: number; maxRows?: number } = {}) {
  const plan = await planDelimitedFile(file, options, options.header !== 'no_header');
  const parts: DelimitedPart[] = [];
  for await (const part of splitDelimitedFile(file, plan, options, { targetBytes, ...split })) parts.push(part);
  const rows: Record<string, unknown>[] = [];
  const problems = [];
  for (const part of parts) {
    const read = await readDelimitedPart(part);
    assert.equal(read.rows.length + read.problems.length, part.rows, `part ${part.start}-${part.end}: the splitter's row count matches what was read`);
    rows.push(...read.rows);
    problems.push(...read.problems);
  }
  return { plan, parts, rows, problems };
}

describe('delimited splitting by byte ranges on record boundaries', () => {
  it('reassembles exactly the input rows, for random CSVs with quotes, commas, CRLF and embedded newlines', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      const columns = 1 + Math.floor(next() * 4);
      const rowCount = Math.floor(next() * 40);
      const newline = next() < 0.5 ? '\n' : '\r\n';
      const expected: string[][] = [];
      let text = `${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}${newline}`;
      for (let r = 0; r < rowCount; r++) {
        const fields = Array.from({ length: columns }, () => field(next));
        // A record of empty fields only (`""` in a one-column file) reads as a blank line: give it a value.
        if (fields.every((f) => f.value === '')) fields[0] = { value: 'v', written: 'v' };
        expected.push(fields.map((f) => f.value));
        text += fields.map((f) => f.written).join(',') + (r < rowCount - 1 || next() < 0.7 ? newline : '');
      }
      const file = tempFile('random.csv', text);
      const stringly: DelimitedOptions = { ...OPTIONS, emptyAsString: true };
      for (const target of [1, 7, 50, 1 << 20]) {
        const { rows, problems, parts } = await readAll(file, target, stringly);
        assert.deepEqual(problems, [], `seed ${seed}, target ${target}`);
        assert.equal(rows.length, expected.length, `seed ${seed}, target ${target}: row count`);
        for (let i = 0; i < parts.length - 1; i++) assert.equal(parts[i]?.end, parts[i + 1]?.start, 'parts are contiguous');
        assert.deepEqual(
          rows.map((row) => Object.values(row).map((value) => (value === null ? '' : typeof value === 'number' ? value : String(value)))),
          expected.map((record, r) => record.map((value, c) => normalise(value, Object.values(rows[r] ?? {})[c]))),
          `seed ${seed}, target ${target}`,
        );
      }
    }
  });

  it('types columns from a sample: numbers, booleans, strings; empty is null unless empty_as_string', async () => {
    const file = tempFile('typed.csv', 'id,ok,name,score\n1,true,ann,2.5\n2,FALSE,,\n3,true,"b, c",-1e3\n');
    const { rows, plan } = await readAll(file, 1 << 20);
    assert.deepEqual(plan.columns, [
      { name: 'id', type: 'number' },
      { name: 'ok', type: 'boolean' },
      { name: 'name', type: 'string' },
      { name: 'score', type: 'number' },
    ]);
    assert.deepEqual(rows, [
      { id: 1, ok: true, name: 'ann', score: 2.5 },
      { id: 2, ok: false, name: null, score: null },
      { id: 3, ok: true, name: 'b, c', score: -1000 },
    ]);
    const strings = await readAll(file, 1 << 20, { ...OPTIONS, emptyAsString: true });
    assert.equal(strings.rows[1]?.name, '');
  });

  it('names columns Column1… without a header, and reads tab-separated files', async () => {
    const file = tempFile('plain.tsv', 'a\t1\nb\t2\n');
    const { rows } = await readAll(file, 1 << 20, { ...OPTIONS, delimiter: '\t', header: 'no_header' });
    assert.deepEqual(rows, [
      { Column1: 'a', Column2: 1 },
      { Column1: 'b', Column2: 2 },
    ]);
  });

  it('reports a ragged row with its file and line, counts it, and keeps the others', async () => {
    const file = tempFile('ragged.csv', 'a,b\n1,x\n2,"multi\nline"\n4\n5,y,7\n8,z\n');
    const { rows, problems } = await readAll(file, 1 << 20);
    assert.deepEqual(rows, [
      { a: 1, b: 'x' },
      { a: 2, b: 'multi\nline' },
      { a: 8, b: 'z' },
    ]);
    assert.deepEqual(problems, [
      { file, line: 5, message: 'expected 2 fields, got 1' },
      { file, line: 6, message: 'expected 2 fields, got 3' },
    ]);
  });

  it('fails a range with bytes that are not UTF-8, naming the line', async () => {
    const file = tempFile('latin.csv', '');
    writeFileSync(file, Buffer.concat([Buffer.from('a,b\nok,1\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',2\n')]));
    await assert.rejects(readAll(file, 1 << 20), { message: `${file}:3: bytes that are not valid UTF-8 (encoding: utf8); set read_delimited.encoding to the file's encoding` });
    const latin = await readAll(file, 1 << 20, { ...OPTIONS, encoding: 'latin1' });
    assert.equal(latin.rows[1]?.a, 'café');
  });

  it('reports an unclosed quote as an unreadable row at the line it opens, not a silently merged row', async () => {
    const file = tempFile('quote.csv', 'a,b\n0,ok\n1,"open\n2,3\n');
    const { rows, problems } = await readAll(file, 1 << 20);
    assert.deepEqual(rows, [{ a: 0, b: 'ok' }]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.line, 3);
    assert.match(problems[0]?.message ?? '', /^a quoted field that starts on this line is never closed: it runs to the end of the file/);
  });

  it('reports a malformed quote, counting every record it swallowed as unreadable', async () => {
    // The splitter sees 3 records after the header; the parser merges the last two into the bad field.
    const file = tempFile('bad-quote.csv', 'a,b\n1,2\n3,"x"y\n5,6\n');
    const { rows, problems } = await readAll(file, 1 << 20);
    assert.deepEqual(rows, [{ a: 1, b: '2' }]); // the sample saw the bad field: b is typed as text
    assert.deepEqual(problems.map((problem) => problem.line), [3, 3]);
    assert.match(problems[0]?.message ?? '', /^a quoted field is malformed: /);
  });

  it('gives the right line for a bad row after blank lines', async () => {
    const file = tempFile('blank.csv', 'a,b\n1,2\n\n\n3\n');
    const { problems } = await readAll(file, 1 << 20);
    assert.deepEqual(problems, [{ file, line: 5, message: 'expected 2 fields, got 1' }]);
  });

  it('gives the right lines with CRLF line breaks and a multi-line field before the bad rows, in ranges of every size', async () => {
    const file = tempFile('crlf.csv', 'a,b\r\n1,"x\r\ny"\r\n2\r\n3,z\r\n4,w,v\r\n');
    for (const target of [1, 8, 1 << 20]) {
      const { rows, problems } = await readAll(file, target);
      assert.deepEqual(rows, [
        { a: 1, b: 'x\r\ny' },
        { a: 3, b: 'z' },
      ]);
      assert.deepEqual(problems, [
        { file, line: 4, message: 'expected 2 fields, got 1' },
        { file, line: 6, message: 'expected 2 fields, got 3' },
      ]);
    }
  });

  it('reads the same rows and problems whether the line breaks are \n (the core parser) or \r\n (Papa.parse)', async () => {
    // Blank lines, a multi-line field, ragged rows, an unclosed quote at the end: every kind of record.
    const lines = ['a,b', '1,x', '', '2,"multi', 'line"', '3', '4,y,z', '5,"q""uote"', '', '6,"open', '7,w'];
    for (const target of [1, 12, 1 << 20]) {
      const unix = tempFile('unix.csv', `${lines.join('\n')}\n`);
      const windows = tempFile('windows.csv', `${lines.join('\r\n')}\r\n`);
      const [a, b] = [await readAll(unix, target), await readAll(windows, target)];
      assert.deepEqual(a.rows, b.rows.map((row) => ({ ...row, b: typeof row.b === 'string' ? row.b.replace(/\r\n/g, '\n') : row.b })));
      assert.deepEqual(a.rows.slice(0, 2), [{ a: 1, b: 'x' }, { a: 2, b: 'multi\nline' }]);
      assert.deepEqual(a.problems.map(({ line, message }) => ({ line, message: message.slice(0, 24) })), b.problems.map(({ line, message }) => ({ line, message: message.slice(0, 24) })));
      assert.deepEqual(a.problems.map((problem) => problem.line), [6, 7, 10], `target ${target}`);
    }
  });

  it('keeps any header name as a plain column, __proto__ and quotes included', async () => {
    const file = tempFile('names.csv', '__proto__,"say ""hi""",back\\slash,line\u2028sep\n1,2,3,4\n');
    const { rows } = await readAll(file, 1 << 20);
    const row = rows[0] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.entries(row), [
      ['__proto__', 1],
      ['say "hi"', 2],
      ['back\\slash', 3],
      ['line\u2028sep', 4],
    ]);
  });

  it('refuses a header that names a column twice', async () => {
    const file = tempFile('dup.csv', 'a,b,a\n1,2,3\n');
    await assert.rejects(readAll(file, 1 << 20), { message: `${file}: the header names the column "a" twice (columns 1 and 3); expected unique column names: rename one` });
  });

  it('an empty file has no header to read; a header-only file has no rows', async () => {
    await assert.rejects(readAll(tempFile('empty.csv', ''), 100), /empty\.csv: expected a header row, but the file is empty/);
    const { rows, parts } = await readAll(tempFile('header.csv', 'a,b\n'), 100);
    assert.deepEqual(rows, []);
    assert.deepEqual(parts, []);
  });

  it('applies skip and a row limit exactly, by record', async () => {
    const file = tempFile('count.csv', `n\n${Array.from({ length: 20 }, (_, i) => i).join('\n')}\n`);
    const { rows } = await readAll(file, 10, OPTIONS, { skipRows: 3, maxRows: 5 });
    assert.deepEqual(rows.map((row) => row.n), [3, 4, 5, 6, 7]);
  });

  it('splits JSON lines on newlines and reports bad lines', async () => {
    const file = tempFile('rows.jsonl', '{"a":1}\n\n{"a":2,"b":"x\\ny"}\nnot json\n[1]\n{"a":3}');
    const parts = [];
    for await (const part of splitJsonLinesFile(file, 'utf8', { targetBytes: 5 })) parts.push(part);
    assert.deepEqual(parts.map((part) => part.rows), [1, 1, 1, 2]); // the last part ends at the end of the file
    const rows = [];
    const problems = [];
    for (const part of parts) {
      const read = await readJsonLinesPart(part);
      rows.push(...read.rows);
      problems.push(...read.problems.map((problem) => `${problem.line}: ${problem.message}`));
    }
    assert.deepEqual(rows, [{ a: 1 }, { a: 2, b: 'x\ny' }, { a: 3 }]);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /^4: not valid JSON: /);
    assert.equal(problems[1], '5: expected a JSON object on the line');
  });
});

/** What the reader makes of a written value, given the column type it inferred. */
function normalise(value: string, got: unknown): unknown {
  if (typeof got === 'number') return Number(value);
  if (typeof got === 'boolean') return value;
  return value;
}
