"""The task contract's types and taxonomy (dlcodegen.core.task)."""

from __future__ import annotations

from collections import Counter

from dlcodegen.core.task import FAMILIES, NOT_STATED, Fact, InputSpec, OutputSpec, TaskSpec, family_of_category
from dlcodegen.data import load_local


def test_every_dlplandata_category_spelling_belongs_to_one_family(built_datasets):
    spellings: Counter = Counter()
    for split in ("train", "validation", "test"):
        spellings.update(c for c in load_local("dlplandata", split=split, path=built_datasets)["task_category"] if c)
    unknown = {spelling: count for spelling, count in spellings.items() if family_of_category(spelling) is None}
    assert unknown == {}
    assert family_of_category("image classification").name == "image_classification"
    assert family_of_category("Time-series Forecasting").name == "time_series_forecasting"
    assert family_of_category("Cooking") is None and family_of_category(None) is None


def test_the_taxonomy_has_one_title_per_family_and_at_least_14_families():
    assert len(FAMILIES) >= 14
    titles = [family.title for family in FAMILIES.values()]
    assert len(set(titles)) == len(titles)
    for name, family in FAMILIES.items():
        assert family_of_category(family.title) is family and family.name == name


def test_facts_carry_their_words_or_say_they_were_not_stated():
    spec = TaskSpec(task=Fact("image_classification", "classify photos"),
                    input=InputSpec(kind=Fact("image", "photos"), height=Fact(32, "32x32"), width=Fact(32, "32x32"),
                                    channels=Fact(3, "RGB")),
                    output=OutputSpec(kind=Fact("multiclass", "43 classes"), classes=Fact(43, "43 classes")))
    assert spec.family is FAMILIES["image_classification"]
    facts = spec.facts()
    assert facts["input.channels"] == Fact(3, "RGB") and facts["output.classes"].source == "43 classes"
    assert not facts["output.horizon"].stated and facts["output.horizon"] is NOT_STATED
    assert TaskSpec().family is None and not TaskSpec().task.stated
