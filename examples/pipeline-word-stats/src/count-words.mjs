// Step "count" (parallel): one row per document: its name, word count and most frequent word.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export async function run(miniBatch) {
  const rows = [];
  for (const file of miniBatch) {
    const words = (await readFile(file, 'utf8')).split(/\s+/).filter(Boolean);
    const counts = new Map();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    const [top] = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    rows.push({ file: basename(file), words: words.length, top_word: top?.[0] ?? '' });
  }
  return rows;
}
