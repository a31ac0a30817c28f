from .array_config import ArrayConfig  # noqa: F401
from .binarize_array_config import BinarizeArrayConfig  # noqa: F401
from .concat_array_config import ConcatArrayConfig  # noqa: F401
from .constant_array_config import ConstantArrayConfig  # noqa: F401
from .crop_array_config import CropArrayConfig  # noqa: F401
from .dummy_array_config import DummyArrayConfig  # noqa: F401
from .intensity_array_config import IntensitiesArrayConfig  # noqa: F401
from .logical_or_array_config import LogicalOrArrayConfig  # noqa: F401
from .merge_instances_array_config import MergeInstancesArrayConfig  # noqa: F401
from .missing_annotations_mask_config import MissingAnnotationsMaskConfig  # noqa: F401
from .ones_array_config import OnesArrayConfig  # noqa: F401
from .resampled_array_config import ResampledArrayConfig  # noqa: F401
from .sum_array_config import SumArrayConfig  # noqa: F401
from .tiff_array_config import TiffArrayConfig  # noqa: F401
from .zarr_array_config import ZarrArrayConfig  # noqa: F401

from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
