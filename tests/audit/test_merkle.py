"""The audit log's Merkle hashing against the published RFC 6962 test vectors (the leaves, roots
and proofs of the Certificate Transparency reference tests), and proofs on random trees."""

from __future__ import annotations

import random

import pytest

from relevo.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex
LEAF_INPUTS = [h(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                               "606162636465666768696a6b6c6d6e6f")]
ROOTS = [h(x) for x in (  # by tree size 1..8
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]


def test_roots_match_the_published_vectors_whole_and_growing():
    assert root([]) == EMPTY_ROOT == h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, 9):
        assert root(LEAVES[:size]) == ROOTS[size - 1], size
        frontier.append(LEAVES[size - 1])
        assert frontier.root() == ROOTS[size - 1] and frontier.size == size


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index, size, proof):
    proof = [h(p) for p in proof]
    assert inclusion_proof(LEAVES[:size], index) == proof
    assert verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size - 1])
    # Any change refuses it: another index, size, leaf or root, a flipped bit, a node more or less.
    assert not verify_inclusion(index ^ 1, size, LEAVES[index], proof, ROOTS[size - 1])
    assert not verify_inclusion(index, size * 2, LEAVES[index], proof, ROOTS[size - 1])
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, ROOTS[size - 1])
    assert not verify_inclusion(index, size, LEAVES[index], proof, EMPTY_ROOT)
    assert not verify_inclusion(index, size, LEAVES[index], proof[:-1], ROOTS[size - 1])
    assert not verify_inclusion(index, size, LEAVES[index], proof + [ROOTS[size - 1]], ROOTS[size - 1])
    for i in range(len(proof)):
        bent = list(proof)
        bent[i] = bytes([bent[i][0] ^ 8]) + bent[i][1:]
        assert not verify_inclusion(index, size, LEAVES[index], bent, ROOTS[size - 1])


def test_the_proofs_of_many_leaves_at_once_are_each_leafs_proof():
    rng = random.Random(6962)
    leaves = [leaf_hash(rng.randbytes(8)) for _ in range(70)]
    for size in range(1, len(leaves) + 1):
        assert inclusion_proofs(leaves[:size], list(range(size))) == {
            index: inclusion_proof(leaves[:size], index) for index in range(size)}
    assert inclusion_proofs(LEAVES, [0, 5]) == {0: [h(p) for p in INCLUSION[0][2]], 5: [h(p) for p in INCLUSION[1][2]]}
    with pytest.raises(ValueError):
        inclusion_proofs(LEAVES, [8])


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old, new, proof):
    proof = [h(p) for p in proof]
    assert consistency_proof(LEAVES[:new], old) == proof
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)
    assert not verify_consistency(old, new, ROOTS[new - 1], ROOTS[old - 1], proof)  # swapped roots
    assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], [])
    assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof[:-1])
    assert not verify_consistency(old + 1, new, ROOTS[old - 1], ROOTS[new - 1], proof)
    for i in range(len(proof)):
        bent = list(proof)
        bent[i] = bytes([bent[i][0] ^ 16]) + bent[i][1:]
        assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], bent)


def test_trivial_consistency():
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    assert verify_consistency(3, 3, ROOTS[2], ROOTS[2], [])
    assert not verify_consistency(3, 3, ROOTS[2], ROOTS[3], [])
    assert not verify_consistency(4, 3, ROOTS[3], ROOTS[2], [])


def test_every_proof_of_random_trees_verifies():
    rng = random.Random(9162)
    leaves = [leaf_hash(rng.randbytes(rng.randrange(40))) for _ in range(70)]
    roots = [root(leaves[:n]) for n in range(len(leaves) + 1)]
    for size in range(1, len(leaves) + 1):
        for index in range(size):
            assert verify_inclusion(index, size, leaves[index], inclusion_proof(leaves[:size], index), roots[size])
        for old in range(size + 1):
            assert verify_consistency(old, size, roots[old], roots[size], consistency_proof(leaves[:size], old))
