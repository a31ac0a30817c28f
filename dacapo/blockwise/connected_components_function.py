"""A segment function file for ``segment_blockwise``: connected components of
``input > threshold`` (``dacapo.blockwise.functions.connected_components``; parameters
``threshold``, ``channel``, ``connectivity``)."""

from dacapo.blockwise.functions import connected_components as segment_function  # noqa: F401
