// Batch scoring: a linear price model, loaded once per worker, applied to every row of each
// mini-batch (a ~1 MB slice of the house table). One output row per house.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

let model;
let currentYear;

export async function init(ctx) {
  const modelFolder = ctx.programArguments.parsed.model;
  model = JSON.parse(await readFile(join(modelFolder, 'model.json'), 'utf8'));
  currentYear = Number(ctx.programArguments.parsed.year ?? 2026);
  ctx.logger.info(`model loaded from ${modelFolder}`);
}

export function run(houses) {
  return houses.map((house) => {
    const price =
      model.intercept +
      model.per_m2 * house.area_m2 +
      model.per_room * house.rooms +
      (house.has_garden ? model.garden : 0) +
      model.age_per_year * (currentYear - house.year_built) +
      (model.district[house.district] ?? 0);
    return { id: house.id, district: house.district, predicted_price: Math.round(price) };
  });
}
