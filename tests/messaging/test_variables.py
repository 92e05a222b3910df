"""``#{var}`` interpolation and placeholder order."""

from datetime import date

import pytest

from kmsg_console.messaging.variables import (
    MissingVariablesError,
    ordered_values,
    placeholder_names,
    render_template,
    stringify_variable,
)


def test_render_fills_every_placeholder():
    assert (
        render_template("#{name}님 인증번호 #{code}", {"name": "홍길동", "code": "123456"})
        == "홍길동님 인증번호 123456"
    )


def test_names_are_trimmed_and_korean_names_work():
    assert render_template("#{ 고객명 }님", {"고객명": "김"}) == "김님"


def test_missing_variable_is_an_error_not_a_literal():
    with pytest.raises(MissingVariablesError) as info:
        render_template("code #{code} for #{name}", {"name": "x"})
    assert info.value.names == ("code",)
    assert "code" in str(info.value)


def test_all_missing_variables_are_reported_once():
    with pytest.raises(MissingVariablesError) as info:
        render_template("#{a}#{b}#{a}", {})
    assert info.value.names == ("a", "b")


def test_values_are_not_expanded_again():
    assert render_template("#{a}", {"a": "#{b}", "b": "no"}) == "#{b}"


def test_text_without_placeholders_is_unchanged():
    assert render_template("plain # { text }", {}) == "plain # { text }"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (12, "12"),
        (1.5, "1.5"),
        (date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_stringify_variable(value, text):
    assert stringify_variable(value) == text


def test_placeholder_order_follows_the_template_not_the_dict():
    template = "#{b} then #{a} then #{b} and #{c}"
    assert placeholder_names(template) == ["b", "a", "b", "c"]
    # IWINV's positional templateParam: one value per distinct variable, first-appearance order.
    assert ordered_values(template, {"c": "C", "a": "A", "b": "B"}) == ["B", "A", "C"]


def test_ordered_values_refuses_missing():
    with pytest.raises(MissingVariablesError):
        ordered_values("#{a}#{b}", {"a": 1})
