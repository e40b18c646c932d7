// Writes houses/houses-<n>.csv: 200,000 generated houses in 4 files, plus the MLTable that
// describes them. Seeded, so every run sees the same table.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'houses');
let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const districts = ['north', 'south', 'east', 'west', 'harbor', 'old town'];
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
let id = 0;
for (let file = 0; file < 4; file++) {
  const lines = ['id,district,area_m2,rooms,year_built,has_garden,description'];
  for (let row = 0; row < 50_000; row++) {
    const district = districts[Math.floor(random() * districts.length)];
    const area = Math.round(40 + random() * 160);
    const rooms = 1 + Math.floor(area / 35 + random() * 2);
    const year = 1900 + Math.floor(random() * 124);
    const garden = random() < 0.4;
    // Some descriptions hold commas and line breaks: they are quoted, as CSV requires.
    const description = row % 50 === 0 ? `"Bright, quiet flat\nnear the ${district} park"` : `${rooms}-room home`;
    lines.push(`${id++},${district},${area},${rooms},${year},${garden},${description}`);
  }
  writeFileSync(join(root, `houses-${file}.csv`), `${lines.join('\n')}\n`);
}
writeFileSync(
  join(root, 'MLTable'),
  `paths:
  - pattern: ./houses-*.csv
transformations:
  - read_delimited:
      delimiter: ","
      encoding: utf8
      header: all_files_same_headers
  - drop_columns: [description]
`,
);
mkdirSync(dirname(root), { recursive: true });
console.log(`generated ${id} houses in 4 CSV files under ${root}`);
