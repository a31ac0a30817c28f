"""The Slurm compute context on a real single-node SLURM cluster: every worker is an
``sbatch --wait`` job that connects back to the daisy scheduler and predicts blocks."""

import numpy as np
import pytest
from funlib.persistence import open_ds

from dacapo.blockwise import Bookkeeping
from dacapo.compute_context import Slurm
from dacapo.predict import predict

from .conftest import ITERATIONS, OUTPUT_ROI, RUN_NAME
from .test_predict import single_pass  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_predict_on_slurm(slurm_cluster, trained_run, single_pass, blockwise_env):  # noqa: F811
    config, data = trained_run
    # a single-node cluster: workers reach the scheduler on the loopback interface
    context = Slurm(partition="debug", num_cpus=1, time="10:00", host="127.0.0.1")
    output = predict(
        RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / "slurm.zarr/prediction",
        output_roi=OUTPUT_ROI, num_workers=2, compute_context=context, progress=False,
    )
    array = open_ds(str(output.container / output.dataset))
    np.testing.assert_allclose(array[array.roi], single_pass, rtol=0, atol=1e-5)
    book = Bookkeeping.for_array(output.container, output.dataset)
    records = book.done()
    assert len(records) == 8
    jobs = {record.get("job") for record in records.values()}
    assert None not in jobs and 1 <= len(jobs) <= 2, jobs  # computed inside SLURM jobs
    logs = list((book.directory / "workers" / "logs").glob("predict-worker*.out"))
    assert logs  # sbatch --output
