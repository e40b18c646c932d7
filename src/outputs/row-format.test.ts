import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RowFormatter } from './row-format.js';

describe('RowFormatter, text format', () => {
  it('writes each string as a line', () => {
    assert.equal(new RowFormatter('text', false).format(['first', 'second line', '']), 'first\nsecond line\n\n');
  });

  it('joins an array with spaces', () => {
    assert.equal(new RowFormatter('text', false).format([['a', 'b', 3], [1.5, true, null]]), 'a b 3\n1.5 true \n');
  });

  it('writes objects nested in an array as JSON', () => {
    assert.equal(new RowFormatter('text', false).format([['x', { k: 1 }, [2, 3]]]), 'x {"k":1} [2,3]\n');
  });

  it('writes numbers and booleans as text', () => {
    assert.equal(new RowFormatter('text', false).format([42, 1.5, -0.25, true, false]), '42\n1.5\n-0.25\ntrue\nfalse\n');
  });

  it('writes null and undefined as empty lines', () => {
    assert.equal(new RowFormatter('text', false).format([null, 'x', undefined]), '\nx\n\n');
  });

  it('writes nothing for no rows', () => {
    assert.equal(new RowFormatter('text', true).format([]), '');
  });

  it('keeps the order of strings and objects mixed', () => {
    assert.equal(new RowFormatter('text', false).format(['s', { a: 1 }, { a: 2 }, 't']), 's\n1\n2\nt\n');
  });
});

describe('RowFormatter, objects as CSV', () => {
  it('writes objects as CSV rows without a header', () => {
    assert.equal(
      new RowFormatter('text', false).format([
        { id: 1, label: 'cat' },
        { id: 2, label: 'dog' },
      ]),
      '1,cat\n2,dog\n',
    );
  });

  it('writes a header row first when asked', () => {
    assert.equal(
      new RowFormatter('csv', true).format([
        { id: 1, label: 'cat' },
        { id: 2, label: 'dog' },
      ]),
      'id,label\n1,cat\n2,dog\n',
    );
  });

  it('writes the header once across calls', () => {
    const formatter = new RowFormatter('csv', true);
    assert.equal(formatter.format([{ a: 1, b: 2 }]), 'a,b\n1,2\n');
    assert.equal(formatter.format([{ a: 3, b: 4 }]), '3,4\n');
    assert.equal(formatter.format([]), '');
    assert.equal(formatter.format([{ a: 5, b: 6 }]), '5,6\n');
  });

  it('fixes the columns by the first object: others are reordered, extra keys dropped, missing ones empty', () => {
    const formatter = new RowFormatter('csv', true);
    assert.equal(
      formatter.format([
        { a: 1, b: 2 },
        { b: 'B', a: 'A', extra: 'dropped' },
        { b: 'only b' },
      ]),
      'a,b\n1,2\nA,B\n,only b\n',
    );
    assert.equal(formatter.format([{ c: 9, a: 8 }]), '8,\n', 'the columns stay fixed in a later call');
  });

  it('quotes cells with commas, quotes and newlines', () => {
    assert.equal(
      new RowFormatter('csv', false).format([{ a: 'x,y', b: 'say "hi"', c: 'two\nlines', d: 'plain' }]),
      '"x,y","say ""hi""","two\nlines",plain\n',
    );
  });

  it('writes null and undefined cells as empty, and nested values as JSON', () => {
    assert.equal(
      new RowFormatter('csv', false).format([{ a: null, b: undefined, c: { d: 1 }, e: [1, 2] }]),
      ',,"{""d"":1}","[1,2]"\n',
    );
  });

  it('writes booleans as true and false, so false is not an empty cell', () => {
    assert.equal(new RowFormatter('csv', true).format([{ ok: true, bad: false, none: null }]), 'ok,bad,none\ntrue,false,\n');
  });
});

describe('RowFormatter, csv format for non-objects', () => {
  it('writes each scalar as a one-cell row, quoted as needed', () => {
    assert.equal(new RowFormatter('csv', false).format(['plain', 'with,comma', 'with "quote"', 5, null]), 'plain\n"with,comma"\n"with ""quote"""\n5\n\n');
  });

  it('writes an array as the cells of one row', () => {
    assert.equal(new RowFormatter('csv', false).format([['a', 'b,c', 3]]), 'a,"b,c",3\n');
  });
});

describe('RowFormatter.formatJsonLines', () => {
  it('passes JSON lines through unchanged in the jsonl format, ending with a newline', () => {
    const formatter = new RowFormatter('jsonl', true);
    assert.equal(formatter.formatJsonLines('{"a":1}\n"x"\n[1,2]\n'), '{"a":1}\n"x"\n[1,2]\n');
    assert.equal(formatter.formatJsonLines('{"a":1}\n{"b":2}'), '{"a":1}\n{"b":2}\n');
    assert.equal(formatter.formatJsonLines(''), '');
  });

  it('parses the lines and formats them in the text and csv formats', () => {
    const formatter = new RowFormatter('text', true);
    assert.equal(formatter.formatJsonLines('{"a":1,"b":"x,y"}\n"line"\n[1,"two"]\nnull\n'), 'a,b\n1,"x,y"\nline\n1 two\n\n');
    assert.equal(formatter.formatJsonLines('{"b":3,"a":4}\n'), '4,3\n', 'header once, columns fixed across calls');
    assert.equal(formatter.formatJsonLines(''), '');
  });

  it('skips empty lines', () => {
    assert.equal(new RowFormatter('csv', false).formatJsonLines('"a"\n\n"b"\n'), 'a\nb\n');
  });
});

describe('RowFormatter.format, jsonl format', () => {
  it('writes every element as one JSON line, objects included', () => {
    assert.equal(new RowFormatter('jsonl', false).format(['s', { a: 1 }, [1, 2], 3, null]), '"s"\n{"a":1}\n[1,2]\n3\nnull\n');
  });
});
