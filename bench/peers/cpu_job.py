"""GNU parallel's job for W2: PBKDF2-SHA256 of each path given, hex, one line each (python3 cpu_job.py <iterations> <path>...)."""
import hashlib
import sys

iterations = int(sys.argv[1])
sys.stdout.write("".join(hashlib.pbkdf2_hmac("sha256", path.encode(), b"minibatch", iterations, 32).hex() + "\n" for path in sys.argv[2:]))
