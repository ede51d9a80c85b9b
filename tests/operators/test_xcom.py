"""operators/xcom.py: the ids tasks hand each other arrive as lists (an XComArg resolves to one)."""

from __future__ import annotations

import pytest

from amazon_bluecherry.operators.xcom import id_list, optional_int, quality_gate_counts


def test_ids_from_a_list_one_id_or_nothing():
    assert id_list([3, "4"]) == [3, 4]
    assert id_list((5,)) == [5]
    assert id_list(7) == [7]
    assert id_list(None) == [] and id_list([]) == []


@pytest.mark.parametrize("rendered", ["[1, 2]", "None", ""])
def test_a_rendered_template_is_refused_with_what_to_do(rendered):
    with pytest.raises(TypeError, match=r"through an XComArg \(task.output\)"):
        id_list(rendered)


def test_numbers_from_template_fields_and_a_gate_that_did_not_run():
    assert optional_int("25") == 25 and optional_int(None) is None and optional_int("") is None
    assert quality_gate_counts(None, None) == {"checked": False}
