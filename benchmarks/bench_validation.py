"""Validation time vs the bare model forward time over the same validation volume.

Trains nothing: a fresh 3D UNet of the tutorial's kind (smaller) validates a generated 256³
volume (8 nm). ``validate_run`` = blockwise prediction with the model's eval shapes + threshold
sweep + binary evaluation + storing; the bare forward = the model's forward pass over the same
eval-shape blocks with inputs already in memory. Prints JSON lines; the ``ratio`` line is what the
validation issue asks to keep ≤ 2.

Run: ``.venv/bin/python benchmarks/bench_validation.py [--size 256]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.e2e.helpers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.update(
            DACAPO_RUNS_BASE_DIR=str(tmp / "runs"),
            DACAPO_TYPE="files",
            DACAPO_OPTIONS_FILE=str(tmp / "none.yaml"),
        )
        import torch

        from dacapo.experiments.run import Run
        from dacapo.predict_local import BlockPredictor
        from dacapo.validate import validate_run
        from dacapo.utils.torch_utils import memory_format, place_model, to_tensor
        from tests.e2e.helpers import small_run_config

        from dacapo.experiments import RunConfig
        from dacapo.experiments.architectures import CNNectomeUNetConfig
        from dacapo.utils.synthetic import write_cells

        base = small_run_config(tmp)
        val = write_cells(tmp / "val256.zarr", (args.size,) * 3, voxel_size=(8, 8, 8), seed=3, num_objects=80)
        from tests.e2e.helpers import dataset_config

        datasplit = type(base.datasplit_config)(
            name="bench", train_configs=base.datasplit_config.train_configs,
            validate_configs=[dataset_config(val.container, "val256")],
        )
        architecture = CNNectomeUNetConfig(
            name="bench_unet", input_shape=(132, 132, 132), fmaps_out=12, fmaps_in=1,
            num_fmaps=12, fmap_inc_factor=2, downsample_factors=[(2, 2, 2), (2, 2, 2), (2, 2, 2)],
            eval_shape_increase=(48, 48, 48),
        )
        config = RunConfig(
            name="bench_validation", datasplit_config=datasplit, task_config=base.task_config,
            architecture_config=architecture, trainer_config=base.trainer_config,
            num_iterations=1, validation_interval=1,
        )
        run = Run(config)
        dataset = run.datasplit.validate[0]
        predictor = BlockPredictor(run.model, dataset.raw, raw_transform=run.trainer.inference_transform)
        rois = predictor.write_rois(dataset.gt.roi)
        inputs = [predictor._read(roi) for roi in rois]

        device = predictor.device
        place_model(run.model, device)
        run.model.eval()
        fmt = memory_format(run.model)
        with torch.inference_mode():
            run.model(to_tensor(inputs[0][None], device, fmt))  # warm-up
            start = time.perf_counter()
            for x in inputs:
                run.model(to_tensor(x[None], device, fmt))
            forward = time.perf_counter() - start
        print(json.dumps({"what": "bare_forward", "blocks": len(rois), "seconds": round(forward, 3),
                          "eval_input": list(predictor.input_shape), "eval_output": list(predictor.output_shape)}))

        start = time.perf_counter()
        validate_run(run, 0)
        validation = time.perf_counter() - start
        print(json.dumps({"what": "validate_run", "volume": [args.size] * 3,
                          "parameters": len(run.task.parameters), "seconds": round(validation, 3)}))
        print(json.dumps({"what": "ratio", "validation_over_forward": round(validation / forward, 3),
                          "target": "<= 2"}))


if __name__ == "__main__":
    main()
