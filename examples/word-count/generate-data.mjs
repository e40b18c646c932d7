// Writes a folder of text files for the word-count example: 240 documents in 12 folders,
// built from a fixed vocabulary with a seeded generator, so every run sees the same input.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, 'data');
const vocabulary = (
  'river stone light market garden winter summer signal harbor engine paper lantern orchard ' +
  'window valley thunder copper silver meadow bridge forest island candle mirror shadow ' +
  'morning evening quiet swift bright hollow gentle narrow ancient distant golden'
).split(' ');

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

rmSync(root, { recursive: true, force: true });
for (let folder = 0; folder < 12; folder++) {
  for (let doc = 0; doc < 20; doc++) {
    const lines = [];
    const lineCount = 5 + Math.floor(random() * 40);
    for (let line = 0; line < lineCount; line++) {
      const words = [];
      const wordCount = 3 + Math.floor(random() * 12);
      for (let w = 0; w < wordCount; w++) words.push(vocabulary[Math.floor(random() * vocabulary.length)]);
      lines.push(words.join(' '));
    }
    const file = join(root, `shelf-${String(folder).padStart(2, '0')}`, `doc-${String(doc).padStart(3, '0')}.txt`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${lines.join('\n')}\n`);
  }
}
console.log(`generated 240 documents under ${root}`);
