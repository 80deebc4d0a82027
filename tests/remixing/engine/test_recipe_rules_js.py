"""The studio's recipe rules (static/js/studio-recipe.js, run in Node) and the
engine's (remixing/engine/recipe.py) agree on a shared corpus of recipes.

The studio checks a recipe as the fan edits it; the server checks it again on
save. If the two disagreed, the studio would let a fan build a remix the
server refuses, or block one the terms allow. Pure: no database.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from remixing.engine.recipe import (
    RECIPE_TERMS,
    RecipeError,
    recipe_forbidden_transformations,
    recipe_term_fields,
    recipe_to_dict,
    recipe_validate,
)

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "static" / "js" / "studio-recipe.js"
CORPUS = json.loads((Path(__file__).parent / "recipe_corpus.json").read_text())
REFUSALS = {term: f"no {term}" for term in RECIPE_TERMS}
# Refusal sets the corpus is checked under: none, all, and each term alone.
REFUSAL_SETS = [{}, REFUSALS, *({term: REFUSALS[term]} for term in RECIPE_TERMS)]


def _run_js(cases: list[dict]) -> list[dict]:
    script = (
        f"import {{ normalize, termFields, forbiddenUses }} from {json.dumps(MODULE.as_uri())};"
        f"const cases = {json.dumps(cases)};"
        f"const refusalSets = {json.dumps(REFUSAL_SETS)};"
        "console.log(JSON.stringify(cases.map(({ recipe, stems }) => {"
        "  const r = normalize(recipe, stems);"
        "  return { normalized: r, terms: termFields(r),"
        "           forbidden: refusalSets.map((f) => forbiddenUses(r, f)) };"
        "})));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out)


def _run_python(case: dict) -> dict:
    recipe = recipe_validate(case["recipe"], stems=case["stems"], duration_s=CORPUS["duration_s"])
    forbidden = []
    for refused in REFUSAL_SETS:
        allowed = {term: term not in refused for term in RECIPE_TERMS}
        problems = recipe_forbidden_transformations(recipe, allowed=allowed, refusals=refused)
        forbidden.append([list(problem) for problem in problems])
    return {
        "normalized": recipe_to_dict(recipe),
        "terms": recipe_term_fields(recipe),
        "forbidden": forbidden,
    }


def test_the_corpus_is_big_enough():
    assert len(CORPUS["valid"]) + len(CORPUS["invalid"]) >= 30
    assert len(CORPUS["valid"]) >= 30


def test_js_and_python_agree_on_every_valid_recipe():
    js = _run_js(CORPUS["valid"])
    disagreements = {}
    for case, js_result in zip(CORPUS["valid"], js, strict=True):
        py_result = _run_python(case)
        for part in ("normalized", "terms", "forbidden"):
            if js_result[part] != py_result[part]:
                disagreements[f"{case['name']} / {part}"] = (js_result[part], py_result[part])
    assert disagreements == {}


@pytest.mark.parametrize("case", CORPUS["invalid"], ids=lambda case: case["name"])
def test_invalid_recipes_are_refused_by_the_server_on_the_named_field(case):
    # The studio builds recipes only through its controls and leaves validation
    # to the server; these are what a hand-made request may send.
    with pytest.raises(RecipeError) as refused:
        recipe_validate(case["recipe"], stems=case["stems"], duration_s=CORPUS["duration_s"])
    assert case["field"] in dict(refused.value.errors)


def _js_cover_problems(recipes: list[dict]) -> list[list[list[str]]]:
    script = (
        f"import {{ normalize, coverProblems }} from {json.dumps(MODULE.as_uri())};"
        f"const cases = {json.dumps(recipes)};"
        "console.log(JSON.stringify(cases.map(({ recipe, stems }) =>"
        "  coverProblems(normalize(recipe, stems)))));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out)


def test_the_studio_refuses_a_cover_with_a_key_shift_or_region_in_the_servers_words():
    # A cover cannot go with a key shift or an export region: the studio says so before
    # saving, with the same field and message the server answers.
    studio_cases = [case for case in CORPUS["invalid"] if case.get("studio")]
    assert len(studio_cases) >= 3
    js = _js_cover_problems(studio_cases + CORPUS["valid"])
    for case, problems in zip(studio_cases, js, strict=False):
        with pytest.raises(RecipeError) as refused:
            recipe_validate(case["recipe"], stems=case["stems"], duration_s=CORPUS["duration_s"])
        assert problems == [list(error) for error in refused.value.errors], case["name"]
    assert js[len(studio_cases) :] == [[]] * len(CORPUS["valid"])
