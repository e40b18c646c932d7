/*
 * Peer for bench/suite.ts: GNU parallel (Debian's `parallel`), one process per mini-batch, the
 * way a shell user would run it. Listing the input is part of its work (find | sort), as it is
 * of every other runner's. Output rows go to stdout with -k (input order) and are counted.
 */
import { join } from 'node:path';
import { PEERS, PYTHON } from '../workloads/common.ts';

/** sh -c command lines; run with measure('sh', ['-c', line]). */
export const gnuParallel = {
  /** One `printf` per mini-batch of `per` files, printing "1" per file. */
  files: (bin: string, folder: string, per: number, processes: number, output: string) =>
    `find '${folder}' -type f | sort | '${bin}' -j ${processes} -N ${per} -k printf "'1\\n%.0s'" > '${output}'`,
  /** --pipe-part: ~`block` bytes of whole lines per job, `sed` printing "1" per line. */
  lines: (bin: string, file: string, block: number, processes: number, output: string) => `'${bin}' --pipe-part -a '${file}' --block ${block} -j ${processes} -k sed 's/.*/1/' > '${output}'`,
  /** `python3 cpu_job.py` per mini-batch of `per` paths: PBKDF2 per path, as every runner. */
  cpu: (bin: string, folder: string, per: number, processes: number, iterations: number, output: string) =>
    `find '${folder}' -type f | sort | '${bin}' -j ${processes} -N ${per} -k '${PYTHON ?? 'python3'}' '${join(PEERS, 'cpu_job.py')}' ${iterations} > '${output}'`,
};
