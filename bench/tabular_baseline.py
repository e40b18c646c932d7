"""
Baseline for bench/tabular.ts (W3): the same tabular job written with the Python standard
library only, the way one would without a framework. The parent cuts the CSV into ~N-byte
ranges that end on newlines, a multiprocessing.Pool parses each range with csv.reader and
computes {id, total: price * qty}, and the parent writes the rows, in input order, to one CSV.

The division of work matches minibatch's: workers parse and compute, the parent (the
controller) formats and writes the output. Cutting on newlines is only correct because the
generated data has no newline inside a quoted field; minibatch's splitter does not need that.

Usage: python3 tabular_baseline.py <input.csv> <output.csv> <range_bytes> <processes>
Prints one JSON line: {"rows": ..., "ranges": ..., "seconds": ...}.
"""

import csv
import io
import json
import multiprocessing
import os
import sys
import time

_file = None


def _init(path):
    # One open file per worker process, reused for every range it is given.
    global _file
    _file = open(path, "rb")


def _work(byte_range):
    start, end = byte_range
    _file.seek(start)
    text = _file.read(end - start).decode("utf-8")
    rows = []
    append = rows.append
    for record in csv.reader(io.StringIO(text, newline="")):
        # Columns: id, store, price, qty, note (the header is never inside a range).
        append((int(record[0]), float(record[2]) * int(record[3])))
    return rows


def _ranges(path, range_bytes):
    """Byte ranges of whole lines, after the header, each ending just after a newline."""
    size = os.path.getsize(path)
    ranges = []
    with open(path, "rb") as handle:
        handle.readline()  # the header
        start = handle.tell()
        while start < size:
            handle.seek(min(start + range_bytes, size))
            if handle.tell() < size:
                handle.readline()  # to the end of the line the cut fell in
            end = handle.tell()
            ranges.append((start, end))
            start = end
    return ranges


def main():
    path, output, range_bytes, processes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    started = time.perf_counter()
    ranges = _ranges(path, range_bytes)
    rows = 0
    with open(output, "w", newline="") as out, multiprocessing.Pool(processes, initializer=_init, initargs=(path,)) as pool:
        writer = csv.writer(out)
        writer.writerow(("id", "total"))
        # imap keeps input order and hands out ranges as workers free up.
        for chunk in pool.imap(_work, ranges):
            writer.writerows(chunk)
            rows += len(chunk)
    print(json.dumps({"rows": rows, "ranges": len(ranges), "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
