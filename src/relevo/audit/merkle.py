"""The audit log's Merkle tree, hashed as RFC 9162 (Certificate Transparency 2.0) says.

Leaves are hashed as SHA-256(0x00 || data) and interior nodes as SHA-256(0x01 || left || right),
so a leaf can never pass for a node. The tree over n leaves splits at the largest power of two
below n (RFC 9162 section 2.1.1). Pure functions: no store, no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its children's."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: list[bytes]) -> bytes:
    """The root hash over leaf hashes (MTH of RFC 9162, from hashed leaves)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


@dataclass
class Frontier:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first, so each
    append costs O(log n) and the root needs no earlier leaf."""

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at the end of the tree."""
        self.nodes.append(leaf)
        self.size += 1
        # Merge equal-sized subtrees: one merge per trailing one-bit of the old size.
        size = self.size
        while size % 2 == 0:
            right = self.nodes.pop()
            self.nodes[-1] = node_hash(self.nodes[-1], right)
            size //= 2

    def root(self) -> bytes:
        """The root hash of the tree so far."""
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            acc = node_hash(node, acc)
        return acc


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree over `leaves` (RFC 9162 section 2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return inclusion_proof(leaves[:k], index) + [root(leaves[k:])]
    return inclusion_proof(leaves[k:], index - k) + [root(leaves[:k])]


def inclusion_proofs(leaves: list[bytes], indices: list[int]) -> dict[int, list[bytes]]:
    """The audit paths of several leaves at once: the tree's levels are hashed once (O(n)), where
    inclusion_proof rehashes the tree for each leaf. A level's last node without a sibling rises
    unpaired, which gives the same tree as RFC 9162's split at the largest power of two."""
    for index in indices:
        if not 0 <= index < len(leaves):
            raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    proofs: dict[int, list[bytes]] = {index: [] for index in indices}
    places = {index: index for index in indices}  # each leaf's ancestor's place on the current level
    level = list(leaves)
    while len(level) > 1:
        for index, place in places.items():
            sibling = place ^ 1
            if sibling < len(level):
                proofs[index].append(level[sibling])
            places[index] = place // 2
        level = [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return proofs


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2); raises ValueError when
    the proof has the wrong shape for the index and size."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    fn, sn, acc = index, size - 1, leaf
    for node in proof:
        if sn == 0:
            raise ValueError("the proof is longer than the tree is deep")
        if fn % 2 == 1 or fn == sn:
            acc = node_hash(node, acc)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            acc = node_hash(acc, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree is deep")
    return acc


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], expected_root: bytes) -> bool:
    """Whether the proof shows leaf at index in the tree of that size and root."""
    try:
        return root_from_inclusion(index, size, leaf, proof) == expected_root
    except ValueError:
        return False


def consistency_proof(leaves: list[bytes], old_size: int) -> list[bytes]:
    """The proof that the tree of old_size leaves is a prefix of the tree over `leaves` (RFC 9162
    section 2.1.4.1)."""
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"a tree of {old_size} is not a prefix of a tree of {len(leaves)}")
    if old_size in (0, len(leaves)):
        return []
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """Whether the proof shows the old tree is a prefix of the new one (RFC 9162 section 2.1.4.2)."""
    if old_size > new_size or old_size < 0:
        return False
    if old_size == new_size:
        return old_root == new_root and not proof
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
