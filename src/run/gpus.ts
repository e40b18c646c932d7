import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** GPU indexes on this machine (from `nvidia-smi -L`), or none. */
export function detectGpus(): number[] {
  // Looked for first: a failed spawn costs tens of milliseconds of every run's start on a CPU machine.
  if (!(process.env.PATH ?? '').split(delimiter).some((folder) => folder !== '' && existsSync(join(folder, 'nvidia-smi')))) return [];
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
