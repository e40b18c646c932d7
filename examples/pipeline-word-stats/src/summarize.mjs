// Step "summarize" (command): reads the aggregated CSV of the parallel step, writes totals.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { counts: { type: 'string' }, out: { type: 'string' } } });
const csv = readdirSync(values.counts).map((name) => readFileSync(join(values.counts, name), 'utf8')).join('');
const rows = csv.trim().split('\n').map((line) => line.split(','));
const total = rows.reduce((sum, row) => sum + Number(row[1]), 0);
const tops = new Map();
for (const row of rows) tops.set(row[2], (tops.get(row[2]) ?? 0) + 1);
const [topWord, documents] = [...tops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
const summary = `documents: ${rows.length}\nwords: ${total}\nmost common top word: ${topWord} (in ${documents} documents)\n`;
writeFileSync(values.out, summary);
process.stdout.write(summary);
