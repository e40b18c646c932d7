"""
Peer for bench/suite.ts: the same mini-batches as minibatch, run by a standard-library
multiprocessing.Pool with an initializer, the way one would write it without a framework.
The parent plans the batches, imap(chunksize=1) hands out one batch per task (in input order,
as workers free up), and the parent writes every returned row, in order, to one output file.

Usage: python3 pool.py <mode> <input> <output> <per> <processes> [iterations]
  files  input = a folder; batches of <per> file paths (sorted walk); run() returns "1" per file
  lines  input = a file without header; ranges of ~<per> bytes ending on a newline;
         run() reads its range and returns "1" per line
  cpu    input = a folder; batches of <per> paths; run() returns PBKDF2-SHA256(path, <iterations>)
         per file, hex: the same work as the JS scripts (both call OpenSSL)
<processes> 0 runs every batch in this process (a serial baseline).
Prints one JSON line: {"batches": ..., "rows": ...}.
"""

import hashlib
import json
import multiprocessing
import os
import sys

_mode = None
_input = None
_iterations = 0
_file = None


def init(mode, path, iterations):
    global _mode, _input, _iterations, _file
    _mode, _input, _iterations = mode, path, iterations
    if mode == "lines":
        _file = open(path, "rb")


def run(batch):
    if _mode == "files":
        return ["1"] * len(batch)
    if _mode == "lines":
        start, end = batch
        _file.seek(start)
        return ["1"] * _file.read(end - start).count(b"\n")
    return [hashlib.pbkdf2_hmac("sha256", path.encode(), b"minibatch", _iterations, 32).hex() for path in batch]


def walk(folder):
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from walk(entry.path)
        else:
            yield entry.path


def plan(mode, path, per):
    if mode == "lines":
        size = os.path.getsize(path)
        ranges = []
        with open(path, "rb") as handle:
            start = 0
            while start < size:
                handle.seek(min(start + per, size))
                if handle.tell() < size:
                    handle.readline()
                end = handle.tell()
                ranges.append((start, end))
                start = end
        return ranges
    files = list(walk(path))
    return [files[i:i + per] for i in range(0, len(files), per)]


def main():
    mode, path, output, per, processes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    iterations = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    batches = plan(mode, path, per)
    rows = 0
    with open(output, "w") as out:
        if processes == 0:
            init(mode, path, iterations)
            results = map(run, batches)
            for chunk in results:
                out.write("".join(row + "\n" for row in chunk))
                rows += len(chunk)
        else:
            with multiprocessing.Pool(processes, initializer=init, initargs=(mode, path, iterations)) as pool:
                for chunk in pool.imap(run, batches, chunksize=1):
                    out.write("".join(row + "\n" for row in chunk))
                    rows += len(chunk)
    print(json.dumps({"batches": len(batches), "rows": rows}))


if __name__ == "__main__":
    main()
