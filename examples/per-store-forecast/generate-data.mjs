// Writes sales/<Store>/<Brand>/sales.csv: 52 weeks of sales for 20 stores x 3 brands, in the
// folder layout partitioned datasets use, plus the MLTable that reads Store and Brand from it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'sales');
let seed = 11;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
rmSync(root, { recursive: true, force: true });
for (let store = 1; store <= 20; store++) {
  for (const brand of ['tropicana', 'minute.maid', 'dominicks']) {
    const base = 500 + random() * 4000;
    const trend = (random() - 0.4) * 30;
    const lines = ['week,price,quantity'];
    for (let week = 1; week <= 52; week++) {
      const price = Math.round((2 + random() * 2) * 100) / 100;
      const quantity = Math.max(0, Math.round(base + trend * week - 300 * price + (random() - 0.5) * 200));
      lines.push(`${week},${price},${quantity}`);
    }
    const file = join(root, `store${String(store).padStart(3, '0')}`, brand, 'sales.csv');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${lines.join('\n')}\n`);
  }
}
writeFileSync(
  join(root, 'MLTable'),
  `paths:
  - pattern: ./**/sales.csv
transformations:
  - read_delimited:
      delimiter: ","
      header: all_files_same_headers
  - extract_columns_from_partition_format: "{Store}/{Brand}/sales.csv"
`,
);
console.log(`generated 60 store/brand sales files under ${root}`);
