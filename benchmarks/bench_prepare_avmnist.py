"""Time AV-MNIST preparation (`mfh.data.prepare.prepare`) and its stages.

Sizes: the small default (n_train 2000, n_val 500, n_test 1000) or, with --paper, paper scale
(55000 / 5000 / 10000). Raw data: --raw (default ../shared/data beside the repository). Stages
(timed separately, in the order prepare runs them): verify (sha256 of 3000 recordings, MNIST
array hashes), read MNIST, build (image draw, pairing, spectrograms of the unique recordings,
standardisation), write (atomic uncompressed .npz). The end-to-end call of `prepare` is timed
too (median of --repeat). Reports seconds, pairs per second and spectrograms per second.

Run:  /work/venv/bin/python benchmarks/bench_prepare_avmnist.py [--paper] [--repeat 3]
"""

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from mfh.data import avmnist, raw
from mfh.data.prepare import prepare
from mfh.data.real import save_prepared

REPO = Path(__file__).resolve().parents[1]
SMALL = {"n_train": 2000, "n_val": 500, "n_test": 1000}
PAPER = {"n_train": 55000, "n_val": 5000, "n_test": 10000}


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def stages(raw_dir: Path, cfg: dict, out: Path) -> dict[str, float]:
    """Seconds of each stage of one preparation; also the bank size."""
    _, t_verify = timed(raw.verify, raw_dir, "avmnist")
    mnist, t_read = timed(raw.read_mnist, raw_dir / raw.MNIST_FILE)
    names = (Path(rel).name for rel in raw.file_pins("fsdd"))
    recordings = avmnist.sort_recordings(names)
    folder = raw_dir / avmnist.RECORDINGS_DIR
    (arrays, meta), t_build = timed(avmnist.build, mnist, recordings, folder, cfg, 0)
    _, t_write = timed(save_prepared, out, arrays, meta)
    return {
        "verify": t_verify,
        "read mnist": t_read,
        "build": t_build,
        "write": t_write,
        "bank": len(meta["audio_bank_recordings"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--paper", action="store_true", help="paper scale 55000/5000/10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cfg = PAPER if args.paper else SMALL
    pairs = sum(cfg.values())

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "avmnist.npz"
        parts = stages(args.raw, cfg, out)
        size_mb = out.stat().st_size / 2**20
        totals = []
        for _ in range(args.repeat):
            _, seconds = timed(prepare, "avmnist", args.raw, out, cfg, 0)
            totals.append(seconds)

    total = statistics.median(totals)
    print(f"AV-MNIST prepare, sizes {cfg}, {parts['bank']} unique recordings, {size_mb:.0f} MiB")
    for name in ("verify", "read mnist", "build", "write"):
        print(f"  {name:<11} {parts[name]:7.2f} s")
    print(f"  spectrograms/s: at least {parts['bank'] / parts['build']:.0f} (bank / build time)")
    print(
        f"prepare end to end: {total:.2f} s (median of {args.repeat}: "
        f"{', '.join(f'{t:.2f}' for t in totals)}), {pairs / total:.0f} pairs/s"
    )


if __name__ == "__main__":
    main()
