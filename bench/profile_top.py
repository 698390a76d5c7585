#!/usr/bin/env python
"""Summarise py-spy's collapsed stacks (bench/live_load.py --profile PHASE): the functions with the most samples.

    python bench/profile_top.py FILE [FILE…] [--self] [--top 30] [--match TEXT]

Inclusive by default (a function's samples include what it called); --self counts only the innermost frame.
"""
import argparse
import collections


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--self", action="store_true", dest="self_only")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only stacks that contain this text")
    args = parser.parse_args()
    totals = collections.Counter()
    samples = 0
    for path in args.files:
        with open(path) as lines:
            for line in lines:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if not stack or (args.match and args.match not in stack):
                    continue
                count = int(count)
                samples += count
                frames = stack.split(";")
                if args.self_only:
                    totals[frames[-1]] += count
                else:
                    for frame in set(frames):
                        totals[frame] += count
    print(f"{samples} samples")
    for frame, count in totals.most_common(args.top):
        print(f"{100 * count / samples:6.1f}%  {frame[:160]}")


if __name__ == "__main__":
    main()
