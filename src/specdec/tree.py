"""Token trees: several candidates per step, verified in one target forward, exactly; the names the page on
tree verification uses, gathered from the decoding stack.

The tree structure (:func:`~specdec.core.tree.check_tree`, :func:`~specdec.core.tree.tree_from_paths`,
:func:`~specdec.core.tree.ancestor_mask`, :func:`~specdec.core.tree.tree_attention_mask`,
:func:`~specdec.core.tree.position_ids`) lives in :mod:`specdec.core.tree`; greedy and multi-candidate
verification (:func:`~specdec.core.verify.greedy_verify_tree`, :func:`~specdec.core.verify.verify_tree`,
:func:`~specdec.core.verify.tree_step_law`, the sibling :data:`~specdec.core.verify.RULES`) in
:mod:`specdec.core.verify`; the toy models' tree rows (:func:`~specdec.targets.model.tree_target_rows`)
in :mod:`specdec.targets.model`; the tree drafter (:class:`~specdec.drafters.model.ModelTreeDrafter`) in
:mod:`specdec.drafters.model`; the loop (:func:`~specdec.decode.tree_speculative_decode`) in
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
