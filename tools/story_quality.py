#!/usr/bin/env python3
"""Story quality figures across seeds: arcs per 1,000 ticks by kind, share resolved, mean coherence.

Usage: python3 tools/story_quality.py [--seeds 20] [--ticks 1000] [--aion target/release/aion] SCENARIO...
Runs `aion run` once per (scenario, seed) into a temporary directory and reads each stories.json.
"""
import argparse, collections, json, pathlib, subprocess, tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--ticks", type=int, default=1000)
    ap.add_argument("--aion", default="target/release/aion")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for sc in a.scenarios:
            kinds = collections.Counter()
            distinct = collections.Counter()
            status = collections.Counter()
            coherence, interest, n = 0.0, 0.0, 0
            for seed in range(1, a.seeds + 1):
                out = pathlib.Path(tmp) / f"{pathlib.Path(sc).stem}-{seed}"
                subprocess.run([a.aion, "run", sc, "--ticks", str(a.ticks), "--seed", str(seed), "--threads", "1",
                                "--out", str(out)], check=True, capture_output=True)
                doc = json.loads((out / "stories.json").read_text())
                seen = set()
                for arc in doc["arcs"]:
                    kinds[arc["kind"]] += 1
                    key = (arc["kind"], tuple(sorted(str(r) for r in arc["roles"])))
                    if key not in seen:
                        seen.add(key)
                        distinct[arc["kind"]] += 1
                    status[arc["status"]] += 1
                    coherence += arc["coherence"]
                    interest += arc["interest"]
                    n += 1
            per = a.seeds * a.ticks / 1000.0
            print(f"\n{sc}: {a.seeds} seeds x {a.ticks} ticks, {n} arcs")
            print(f"  {'kind':<15}{'arcs/1k ticks':>14}{'distinct casts/1k':>19}")
            for k in sorted(kinds):
                print(f"  {k:<15}{kinds[k] / per:>14.1f}{distinct[k] / per:>19.1f}")
            if n:
                print(f"  resolved {status['resolved'] / n:.0%}, climaxed {status['climaxed'] / n:.0%}, "
                      f"open {status['open'] / n:.0%}, abandoned {status['abandoned'] / n:.0%}; "
                      f"mean coherence {coherence / n:.2f}, mean interest {interest / n:.2f}")


if __name__ == "__main__":
    main()
