"""LangGraph checkpointer over the vault: :class:`MemCubeSaver`.

One home per concern, as LangGraph's Postgres saver keeps its pure row codecs apart from the
classes that move rows:

* :mod:`memos_lc.checkpoint.codec`: the storage shape, pure (envelopes, chunking, ids, tags,
  values through LangGraph's serde);
* :mod:`memos_lc.checkpoint.reads`: what a read asks the vault for and how the records fetched
  become a ``CheckpointTuple`` (configs in and out, query filters), pure;
* :mod:`memos_lc.checkpoint.threads`: the thread lifecycle's decisions (what ``prune``,
  ``delete_for_runs``, ``copy_thread`` and ``purge_expired`` keep, rewrite and delete), pure;
* :mod:`memos_lc.checkpoint.cubes`: the saver's queries and crash-safe writes of its cubes;
* :mod:`memos_lc.checkpoint.cache`: what the saver remembers between calls (latest ids,
  references, deferred writes) and why that is safe;
* :mod:`memos_lc.checkpoint.saver`: :class:`MemCubeSaver`, what LangGraph's calls mean.

``from memos_lc.checkpoint import MemCubeSaver, CheckpointConfigError, ROOT`` keeps working
(this package replaced the module ``memos_lc/checkpoint.py``), as does
``memos_lc.checkpoint.saver.MemCubeSaver``.
"""

from memos_lc.checkpoint.codec import ROOT, CheckpointConfigError
from memos_lc.checkpoint.saver import MemCubeSaver

__all__ = ["ROOT", "CheckpointConfigError", "MemCubeSaver"]
