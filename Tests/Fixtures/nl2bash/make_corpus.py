#!/usr/bin/env python3
"""Builds commands.txt for the real-corpus shell tests: the command lines of the NL2Bash corpus (Lin et al., LREC
2018; 12,607 one-liners written by people for real tasks, data/bash/all.cm of the TellinaTool/nl2bash repository,
MIT licensed, see LICENSE here) that shfmt 3.6 parses as bash, one per line, in the corpus's order. The lines shfmt
rejects (72 of 12,607: typos, unbalanced quotes) are dropped, so every line is valid bash and a line our parser
rejects is our bug.  Usage: make_corpus.py path/to/all.cm > commands.txt
"""
import concurrent.futures
import subprocess
import sys


def shfmt_parses(line):
    r = subprocess.run(["shfmt", "-ln", "bash"], input=(line + "\n").encode(), capture_output=True)
    return r.returncode == 0


def main():
    lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.strip()]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ok = list(pool.map(shfmt_parses, lines))
    for line, good in zip(lines, ok):
        if good:
            sys.stdout.write(line + "\n")
    print(f"{sum(ok)} of {len(lines)} lines kept", file=sys.stderr)


if __name__ == "__main__":
    main()
