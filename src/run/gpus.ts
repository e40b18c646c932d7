import { execFileSync } from 'node:child_process';

/** GPU indexes on this machine (from `nvidia-smi -L`), or none. */
export function detectGpus(): number[] {
  try {
    const listing = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
    return listing
      .split('\n')
      .filter((line) => /^GPU \d+/.test(line))
      .map((_, index) => index);
  } catch {
    return [];
  }
}
