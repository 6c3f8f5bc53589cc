"""Distances between plan values: the Levenshtein distance of strings and of layer lists (Table IV's MLD)."""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """Character-level edit distance (unit costs for insertion, deletion and substitution)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b)


def layers_distance(predicted: list[str] | None, reference: list[str]) -> float:
    """Mean character-level Levenshtein distance between the layers at the same position (missing ones: "")."""
    predicted = predicted or []
    length = max(len(predicted), len(reference))
    if length == 0:
        return 0.0
    padded_pred = predicted + [""] * (length - len(predicted))
    padded_ref = reference + [""] * (length - len(reference))
    return sum(levenshtein(p, r) for p, r in zip(padded_pred, padded_ref)) / length
