"""A segment function file for ``segment_blockwise``: mutex watershed of affinities
(``dacapo.blockwise.functions.watershed``; parameters ``neighborhood``, ``bias``,
``threshold``)."""

from dacapo.blockwise.functions import watershed as segment_function  # noqa: F401
