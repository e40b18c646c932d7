# A file-list entry script exactly as written for Azure ML's parallel job: argparse with
# parse_known_args (the engine's own arguments are in sys.argv too), a "model" loaded once per
# worker process in init(), and run(mini_batch) returning one row per file.
import argparse
import os
from collections import Counter

stop_words = None
top_n = 3


def init():
    global stop_words, top_n
    parser = argparse.ArgumentParser()
    parser.add_argument("--stop_words", type=str, required=True)
    parser.add_argument("--top_n", type=int, default=3)
    args, _ = parser.parse_known_args()
    with open(args.stop_words) as handle:
        stop_words = set(handle.read().split())
    top_n = args.top_n
    print("loaded %d stop words" % len(stop_words))


def run(mini_batch):
    results = []
    for path in mini_batch:
        with open(path) as handle:
            words = [w for w in handle.read().lower().split() if w not in stop_words]
        top = " ".join("%s:%d" % pair for pair in Counter(words).most_common(top_n))
        results.append("%s %d %s" % (os.path.basename(path), len(words), top))
    return results
