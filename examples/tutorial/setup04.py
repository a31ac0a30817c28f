"""Generate data laid out like the tutorial's and train the ``setup04`` run that the tutorial
starts from (``StartConfig("setup04", "best")``): the tutorial's own four configs, trained for a
few iterations and validated, so that it has a best checkpoint.

    python examples/tutorial/setup04.py DATA_DIR [--iterations N]

prints the environment to run ``examples/tutorial/tutorial.py`` with.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

TUTORIAL = Path(__file__).with_name("tutorial.py")
MARKER = "# --- Run"


def tutorial_configs(raw: Path, gt: Path) -> dict:
    """Execute the tutorial's config section (everything above its Run section)."""
    source = TUTORIAL.read_text()
    namespace = {"__name__": "tutorial_configs"}
    os.environ["TUTORIAL_RAW"], os.environ["TUTORIAL_GT"] = str(raw), str(gt)
    exec(compile(source[: source.index(MARKER)], str(TUTORIAL), "exec"), namespace)
    return namespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--iterations", type=int, default=1)
    args = parser.parse_args()

    from dacapo.experiments import RunConfig
    from dacapo.experiments.run import Run
    from dacapo.train import train_run
    from dacapo.utils.synthetic import write_tutorial_layout

    args.data_dir.mkdir(parents=True, exist_ok=True)
    layout = write_tutorial_layout(
        args.data_dir / "jrc_mus-liver.n5", gt_path=args.data_dir / "jrc_mus-liver-gt.n5"
    )
    configs = tutorial_configs(layout.raw_container, layout.gt_container)
    run_config = RunConfig(
        name="setup04",
        datasplit_config=configs["datasplit_config"],
        task_config=configs["task_config"],
        architecture_config=configs["architecture_config"],
        trainer_config=configs["trainer_config"],
        num_iterations=args.iterations,
        validation_interval=args.iterations,
    )
    configs["config_store"].store_run_config(run_config)
    train_run(Run(run_config))
    print(f"TUTORIAL_RAW={layout.raw_container} TUTORIAL_GT={layout.gt_container}")


if __name__ == "__main__":
    main()
