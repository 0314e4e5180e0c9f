"""LangGraph checkpointer over the vault: :class:`MemCubeSaver`.

Two modules, as LangGraph's Postgres saver splits its ``base.py`` from its I/O classes:

* :mod:`memos_lc.checkpoint.codec`: the storage shape, pure (envelopes, chunking, ids, tags,
  values through LangGraph's serde);
* :mod:`memos_lc.checkpoint.saver`: :class:`MemCubeSaver`, which only moves cubes.

``from memos_lc.checkpoint import MemCubeSaver, CheckpointConfigError, ROOT`` keeps working
(this package replaced the module ``memos_lc/checkpoint.py``).
"""

from memos_lc.checkpoint.codec import ROOT, CheckpointConfigError
from memos_lc.checkpoint.saver import MemCubeSaver

__all__ = ["ROOT", "CheckpointConfigError", "MemCubeSaver"]
