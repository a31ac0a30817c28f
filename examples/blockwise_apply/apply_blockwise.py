"""Blockwise apply with two workers, interrupted and resumed.

1. Trains a small run on generated cells (the configs of ``examples/synthetic_end_to_end.py``),
   or reuses it when ``--runs-base-dir`` already holds it trained.
2. Writes a larger volume to apply it to.
3. Starts ``dacapo apply ... --num_workers 2`` and kills it (scheduler and workers) once a few
   blocks are done, as a crash or a pre-empted cluster job would.
4. Runs the same command again: the blocks done before the kill are kept, only the missing ones
   are computed. Prints how many blocks each invocation computed and the dice against the
   volume's labels.

    python examples/blockwise_apply/apply_blockwise.py [--size 192] [--iterations 200] [--runs-base-dir DIR]
    python examples/blockwise_apply/apply_blockwise.py --small    # tiny network, 2 iterations: a smoke run
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/: the shared configs


def run_config(data_dir: Path, iterations: int, small: bool):
    import attrs

    from synthetic_end_to_end import build_run_config

    config = build_run_config(data_dir, iterations, validation_interval=iterations)
    if not small:
        return config
    architecture = attrs.evolve(
        config.architecture_config, name="tiny_unet", input_shape=(36, 36, 36), num_fmaps=4,
        downsample_factors=[(2, 2, 2)], eval_shape_increase=(16, 16, 16),
    )
    trainer = attrs.evolve(
        config.trainer_config, name="fast_trainer", num_data_fetchers=0,
        augments=config.trainer_config.augments[1:],  # no elastic augment
    )
    return attrs.evolve(
        config, name="synthetic_cells_tiny", architecture_config=architecture,
        trainer_config=trainer,
    )


def train(config, data_dir: Path, small: bool) -> int:
    """Train and validate ``config`` (resumes, or returns at once when it is done); the best
    iteration by dice."""
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store, create_weights_store
    from dacapo.train import train_run
    from dacapo.utils.synthetic import write_cells

    shapes = {"train": (64,) * 3 if small else (128,) * 3, "validate": (48,) * 3 if small else (96,) * 3}
    for seed, (name, shape) in enumerate(shapes.items(), start=1):
        if not (data_dir / f"{name}.zarr").exists():
            write_cells(data_dir / f"{name}.zarr", shape, voxel_size=(8, 8, 8), seed=seed,
                        num_objects=max(8, shape[0] // 3))
    store = create_config_store()
    store.store_run_config(config)
    started = time.perf_counter()
    train_run(Run(store.retrieve_run_config(config.name)))
    best = create_weights_store().retrieve_best(config.name, "validate", "cell__dice")
    print(f"[train] run {config.name} trained ({time.perf_counter() - started:.0f} s); best iteration {best}")
    return int(best)


def apply_command(run_name: str, volume: Path, output: Path) -> list[str]:
    return [
        sys.executable, "-m", "dacapo.cli", "apply", "-r", run_name,
        "-ic", str(volume), "-id", "raw", "-op", str(output),
        "--validation_dataset", "validate", "--criterion", "cell__dice", "--num_workers", "2",
    ]


def bookkeepings(container: Path) -> dict:
    """The bookkeeping (done blocks) of each array the apply writes: prediction and output."""
    from dacapo.blockwise.bookkeeping import BOOKKEEPING_DIR, Bookkeeping

    directory = container / BOOKKEEPING_DIR
    if not directory.is_dir():
        return {}
    return {p.name: Bookkeeping.for_array(container, p.name) for p in sorted(directory.iterdir())}


def interrupted_apply(command: list[str], container: Path, prediction: str, kill_after: int) -> dict:
    """Start ``command`` and SIGKILL its process group once ``kill_after`` prediction blocks are
    done; the done blocks of each array at that moment."""
    from dacapo.blockwise.bookkeeping import Bookkeeping

    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    predictions = Bookkeeping.for_array(container, prediction)
    while len(predictions.done_indices()) < kill_after and process.poll() is None:
        time.sleep(0.02)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print(f"[apply] killed the first invocation after {len(predictions.done_indices())} prediction blocks")
    elif process.returncode != 0:
        raise SystemExit(f"dacapo apply failed: {process.stderr.read().decode()[-2000:]}")
    else:
        print("[apply] the first invocation finished before it could be killed")
    return {name: book.done() for name, book in bookkeepings(container).items()}


def dice(container: Path, output: str, volume: Path) -> float:
    import numpy as np

    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.utils.arrays import open_array

    labels = open_array(LocalArrayIdentifier(volume, "labels"))
    result = open_array(LocalArrayIdentifier(container, output))
    roi = result.roi.intersect(labels.roi)
    predicted = np.asarray(result[roi]).squeeze() > 0
    truth = np.asarray(labels[roi]) > 0
    return float(2 * (predicted & truth).sum() / max(1, predicted.sum() + truth.sum()))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-base-dir", type=Path, default=None)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--size", type=int, default=192, help="edge of the volume to apply to (voxels)")
    parser.add_argument("--kill-after", type=int, default=4, help="prediction blocks before the kill")
    parser.add_argument("--small", action="store_true", help="tiny network, 2 iterations, 96³ volume")
    args = parser.parse_args(argv)
    if args.small:
        args.iterations, args.size = 2, 96

    base = args.runs_base_dir or Path(tempfile.mkdtemp(prefix="dacapo-blockwise-"))
    base.mkdir(parents=True, exist_ok=True)
    # this process and the `dacapo apply` processes it starts share these options
    os.environ.update(DACAPO_RUNS_BASE_DIR=str(base / "runs"), DACAPO_TYPE="files",
                      DACAPO_OPTIONS_FILE=str(base / "dacapo.yaml"))

    from dacapo.utils.synthetic import write_cells

    config = run_config(base / "data", args.iterations, args.small)
    iteration = train(config, base / "data", args.small)
    volume = base / "data" / "big.zarr"
    if not volume.exists():
        write_cells(volume, (args.size,) * 3, voxel_size=(8, 8, 8), seed=7, num_objects=args.size // 3)
    output = base / "apply_output"
    container = output / "big.zarr"
    prediction = f"prediction_{config.name}_{iteration}"
    command = apply_command(config.name, volume, output)
    print("[apply] " + " ".join(["dacapo", *command[3:]]))

    before = interrupted_apply(command, container, prediction, args.kill_after)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    counts = {}
    for name, book in bookkeepings(container).items():
        after = book.done()
        kept = sum(after.get(index) == record for index, record in before.get(name, {}).items())
        counts[name] = {"blocks": len(after), "kept": kept, "computed_by_rerun": len(after) - kept}
        print(f"[apply] {name}: {len(after)} blocks, {kept} kept from the killed invocation, "
              f"{len(after) - kept} computed by the rerun")
    print(f"[apply] rerun took {time.perf_counter() - started:.1f} s")
    output_name = next(name for name in counts if name.startswith("output_"))
    score = dice(container, output_name, volume)
    print(f"[apply] {container}/{output_name}: dice vs labels {score:.3f}")
    return {"counts": counts, "dice": score, "output": container / output_name}


if __name__ == "__main__":
    main()
