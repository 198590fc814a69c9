"""Inputs that look empty are empty: the rendered Markov module's word splitting,
over strings drawn from every character that shows nothing (Unicode categories Z*,
Cc and Cf), alone and mixed with visible words."""

import importlib.util
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

INVISIBLE_CATEGORIES = ("Zs", "Zl", "Zp", "Cc", "Cf")
invisible_text = st.text(
    st.characters(categories=INVISIBLE_CATEGORIES, exclude_characters="\x00"),
    max_size=40,
)
visible_word = st.text(
    st.characters(categories=("Lu", "Ll", "Nd", "Po", "Sm")), min_size=1, max_size=8
)


@pytest.fixture(scope="module")
def markov(default_project):
    """The default render's llm_markov.py, imported from its file."""
    path = default_project / "llm_markov.py"
    spec = importlib.util.spec_from_file_location("rendered_llm_markov", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def shows_something(word: str) -> bool:
    return any(
        unicodedata.category(character) not in INVISIBLE_CATEGORIES
        for character in word
    )


@given(text=invisible_text)
def test_text_of_invisible_characters_has_no_words(markov, text):
    assert markov.split_words(text) == []
    assert list(markov.words_of(text, 7)) == []
    assert markov.learn([text]) == {}


@given(words=st.lists(st.tuples(invisible_text, visible_word), max_size=8))
def test_only_visible_words_are_learned(markov, words):
    text = "".join(gap + " " + word + " " for gap, word in words)
    learned = markov.split_words(text)
    assert all(shows_something(word) for word in learned)
    # The invisible runs add nothing: the words are those of the visible words.
    assert learned == [part for _, word in words for part in markov.split_words(word)]
