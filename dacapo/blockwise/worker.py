"""A blockwise worker started by a cluster job:

    python -m dacapo.blockwise.worker SPEC.pkl --run-id RUN_ID [--num-threads N]

``SPEC.pkl`` is the pickled ``BlockwiseTask``; the daisy scheduler's address comes from the
``DAISY_CONTEXT`` environment variable and the DaCapo options from ``DACAPO_*`` variables, both
set by the submitting process. The worker builds its resources once (``setup``: the model, the
weights) and processes blocks until the scheduler has none left.
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dacapo.blockwise.worker", description=__doc__)
    parser.add_argument("spec", help="pickled BlockwiseTask")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import cloudpickle

    from .runner import _worker_id_from_env, worker_loop
    from .task import WorkerContext

    with open(args.spec, "rb") as f:
        task = cloudpickle.load(f)
    device = None
    if task.uses_torch:
        import torch

        device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    worker = WorkerContext(
        run_id=args.run_id, device=device, num_threads=args.num_threads,
        worker_id=_worker_id_from_env(),
    )
    count = worker_loop(task, worker)
    logging.getLogger(__name__).info("worker %d of %s: %d blocks", worker.worker_id, task.task_id, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
