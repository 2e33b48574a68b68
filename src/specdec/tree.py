"""Token trees: several candidates per step, verified in one target forward, exactly; the names the page
:doc:`/trees` uses, gathered from the decoding stack.

The tree structure (:func:`check_tree`, :func:`tree_from_paths`, :func:`ancestor_mask`,
:func:`tree_attention_mask`, :func:`position_ids`) lives in :mod:`specdec.core.tree`; greedy and
multi-candidate verification (:func:`greedy_verify_tree`, :func:`verify_tree`, :func:`tree_step_law`, the
sibling :data:`RULES`) in :mod:`specdec.core.verify`; the toy models' tree rows (:func:`tree_target_rows`)
in :mod:`specdec.targets.model`; the tree drafter in :mod:`specdec.drafters.model`; the loop in
:mod:`specdec.decode`.
"""

from __future__ import annotations

from specdec.core.tree import (
    ancestor_mask,
    check_tree,
    depths,
    position_ids,
    tree_attention_mask,
    tree_from_paths,
)
from specdec.core.verify import RULES, greedy_verify_tree, tree_step_law, verify_tree
from specdec.decode import tree_speculative_decode
from specdec.drafters.model import ModelTreeDrafter
from specdec.targets.model import tree_target_rows

__all__ = [
    "RULES",
    "check_tree",
    "tree_from_paths",
    "depths",
    "ancestor_mask",
    "tree_attention_mask",
    "position_ids",
    "tree_target_rows",
    "greedy_verify_tree",
    "verify_tree",
    "tree_step_law",
    "ModelTreeDrafter",
    "tree_speculative_decode",
]
