// Entry script: counts the lines and words of each file in a mini-batch and finds its most
// frequent word. One returned row per file: the job writes them all, in input order, to one CSV.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

let minLength = 1;
let dataRoot = '';

export async function init(ctx) {
  // program_arguments arrive parsed: --min_length 4
  minLength = Number(ctx.programArguments.parsed.min_length ?? 1);
  dataRoot = String(ctx.inputs.documents);
  ctx.logger.info(`process ${ctx.processRank} ready; counting words of at least ${minLength} letters`);
}

export async function run(miniBatch, ctx) {
  const rows = [];
  for (const file of miniBatch) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const text = await readFile(file, 'utf8');
    const words = text.split(/\s+/).filter((word) => word.length >= minLength);
    const counts = new Map();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    let top = '';
    let topCount = 0;
    for (const [word, count] of counts) {
      if (count > topCount || (count === topCount && word < top)) [top, topCount] = [word, count];
    }
    rows.push({
      file: relative(dataRoot, file),
      lines: text.split('\n').length - 1,
      words: words.length,
      distinct: counts.size,
      top_word: top,
      top_count: topCount,
    });
  }
  ctx.logger.debug(`mini-batch ${ctx.miniBatchId}: ${rows.length} files`);
  return rows;
}

export async function shutdown(ctx) {
  ctx.logger.info(`process ${ctx.processRank} done`);
}
