"""The Rust word counter, through Python, against collections.Counter."""

import errno
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ptm_fast


def reference_counts(lines):
    """Counts sorted by descending count, ties in first-seen order."""
    counter = Counter(word for line in lines for word in line.split())
    return sorted(counter.items(), key=lambda item: -item[1])


def test_counts_a_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat\non the mat\n\nthe end", encoding="utf-8")
    assert ptm_fast.count_words_in_file(path) == [
        ("the", 3),
        ("cat", 1),
        ("sat", 1),
        ("on", 1),
        ("mat", 1),
        ("end", 1),
    ]


def test_file_and_lines_agree(tmp_path):
    lines = ["α β γ", "β γ", "γ  δ\tε"]
    path = tmp_path / "greek.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert ptm_fast.count_words_in_file(str(path)) == ptm_fast.count_words(lines)


def test_missing_file_is_file_not_found_with_the_path(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError) as info:
        ptm_fast.count_words_in_file(missing)
    assert info.value.filename == str(missing)
    assert "No such file" in str(info.value)
    assert isinstance(info.value, ptm_fast.MissingFileError)
    assert isinstance(info.value, ValueError)
    assert info.value.errno == errno.ENOENT


def test_unreadable_path_stays_a_plain_os_error(tmp_path):
    with pytest.raises(OSError) as info:
        ptm_fast.count_words_in_file(tmp_path)  # a folder, not a file
    assert not isinstance(info.value, ptm_fast.MissingFileError)


def test_directory_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match=str(tmp_path)):
        ptm_fast.count_words_in_file(tmp_path)


def test_invalid_utf8_names_file_line_and_byte(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("fine\nalso fine\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError) as info:
        ptm_fast.count_words_in_file(path)
    message = str(info.value)
    assert str(path) in message and "line 3" in message and "byte 3" in message


def test_single_string_is_rejected():
    with pytest.raises(TypeError, match="iterable of lines"):
        ptm_fast.count_words("one line")


words = st.text(alphabet="abcdé日", min_size=1, max_size=4)


@given(st.lists(st.lists(words, max_size=8).map(" ".join), max_size=20))
def test_matches_counter_on_generated_lines(lines):
    assert ptm_fast.count_words(lines) == reference_counts(lines)
