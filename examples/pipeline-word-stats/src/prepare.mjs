// Step "prepare" (command): writes --count seeded documents into the folder given by --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { out: { type: 'string' }, count: { type: 'string', default: '200' } } });
const vocabulary = 'river stone light market garden winter summer signal harbor engine paper lantern orchard window valley thunder copper silver meadow bridge'.split(' ');
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
mkdirSync(values.out, { recursive: true });
const count = Number(values.count);
for (let doc = 0; doc < count; doc++) {
  const words = Array.from({ length: 20 + Math.floor(random() * 200) }, () => vocabulary[Math.floor(random() * vocabulary.length)]);
  writeFileSync(join(values.out, `doc-${String(doc).padStart(4, '0')}.txt`), `${words.join(' ')}\n`);
}
console.log(`prepared ${count} documents in ${values.out}`);
