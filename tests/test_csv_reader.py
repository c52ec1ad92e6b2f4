"""Reading CSV records: a quote left open is reported where it opens, not read to the end."""

from __future__ import annotations

import io

import pytest

from spoke.contacts.csv_reader import MAX_RECORD_LINES, UNCLOSED_QUOTE, ImportFailed, records


def read(text: str) -> list:
    return list(records(io.StringIO(text, newline="")))


def test_a_quote_open_to_the_end_of_the_file_skips_only_its_row():
    rows = read('a,b,c\nAna,Lima,1\nBo,"Sm,2\n"Cy",Diaz,3\nDi,Eve,4\n')
    assert rows == [
        (1, ["a", "b", "c"]),
        (2, ["Ana", "Lima", "1"]),
        (3, UNCLOSED_QUOTE.format(line=3)),
        (4, ["Cy", "Diaz", "3"]),
        (5, ["Di", "Eve", "4"]),
    ]


def test_a_quote_open_past_the_line_limit_skips_only_its_row():
    rows = read('a,b,c\nBo,"Sm,2\n' + "x,y,z\n" * (MAX_RECORD_LINES + 5))
    assert rows[1] == (2, UNCLOSED_QUOTE.format(line=2))
    assert rows[2:] == [(n, ["x", "y", "z"]) for n in range(3, MAX_RECORD_LINES + 8)]


def test_line_numbers_count_values_that_span_lines():
    rows = read('a,b,c\nAna,"two\nlines",1\nBo,"open,2\n')
    assert rows == [
        (1, ["a", "b", "c"]),
        (2, ["Ana", "two\nlines", "1"]),
        (3, UNCLOSED_QUOTE.format(line=4)),
    ]
    assert "line 4" in rows[2][1]


@pytest.mark.parametrize(
    "text, cells",
    [
        ('"ab"c,d\n', ["abc", "d"]),  # tolerated as before
        ('q,"a""b"\n', ["q", 'a"b']),
        ("5'11\",tall\n", ["5'11\"", "tall"]),  # a quote inside a value opens nothing
        ('last,"closed"', ["last", "closed"]),  # no final newline
    ],
)
def test_closed_or_literal_quotes_read_as_before(text, cells):
    assert read(text) == [(1, cells)]


def test_a_bad_record_says_its_row_and_line():
    with pytest.raises(ImportFailed, match=r"Row 2 \(line 2\) is not valid CSV"):
        read("a,b\n" + '"' + "x" * 200_000 + '",y\n')
