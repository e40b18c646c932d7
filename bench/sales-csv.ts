/*
 * The benchmarks' sales table: `id,store,price,qty,note` rows of ~100 bytes, deterministic for
 * a seed, the same for W3/W4 (bench/tabular.ts) and W5 (bench/workloads/memory.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Distinct values of the `store` column (W4's partition key). */
export const STORES = 1000;

/** Deterministic (xorshift32): every run of the benchmark reads the same table. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

const WORDS = 'apple basket cedar delta ember falcon garnet harbor indigo juniper kettle lantern meadow nectar orchid pepper quartz river saffron timber umber velvet willow yarrow zephyr'.split(' ');

/**
 * Notes are drawn from a pool built once, so the generator's per-row work is a few lookups
 * and one string concatenation. One note in 16 is quoted and holds commas (and one in 128 of
 * those a doubled quote), so the splitter and the parsers see real CSV quoting. No note ever
 * holds a newline: the Python baseline cuts ranges on bare newlines and relies on that.
 */
function notePool(random: () => number): string[] {
  const pool: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const words = Array.from({ length: 8 + Math.floor(random() * 6) }, () => WORDS[Math.floor(random() * WORDS.length)] as string);
    if (i % 16 === 0) {
      const text = `${words.slice(0, 3).join(' ')}, ${words.slice(3, 6).join(' ')}, ${words.slice(6).join(' ')}${i % 128 === 0 ? ' ""fragile""' : ''}`;
      pool.push(`"${text}"`);
    } else {
      pool.push(words.join(' '));
    }
  }
  return pool;
}

/**
 * Writes `id,store,price,qty,note` rows until the file reaches `targetBytes`. Rows are built
 * into ~1 MB strings and written with one write each: a write per row would make the syscalls
 * the generator's cost, and much bigger strings outlive V8's young generation, so the GC
 * copying them cost 3x the time of 1 MB ones (measured).
 */
export function writeSalesCsv(path: string, targetBytes: number, seed: number): { rows: number; bytes: number } {
  const random = prng(seed);
  const notes = notePool(random);
  const stores = Array.from({ length: STORES }, (_, i) => `store-${String(i).padStart(4, '0')}`);
  const cents = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
  const fd = openSync(path, 'w');
  let bytes = 0;
  let rows = 0;
  try {
    const header = 'id,store,price,qty,note\n';
    writeSync(fd, header);
    bytes += header.length;
    while (bytes < targetBytes) {
      let chunk = '';
      while (chunk.length < 1 << 20) {
        const price = 1 + Math.floor(random() * 99_999); // 0.01 to 999.99
        const qty = 1 + Math.floor(random() * 20);
        chunk += `${rows},${stores[Math.floor(random() * STORES)]},${Math.floor(price / 100)}.${cents[price % 100]},${qty},${notes[Math.floor(random() * notes.length)]}\n`;
        rows++;
      }
      // ASCII only, so the string's length is its byte count.
      writeSync(fd, chunk);
      bytes += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return { rows, bytes };
}
