"""The normalisations before CodeBLEU; the default (`normalize="dlcodegen"`, the paper's post-processing read
literally) step by step on small hand-made snippets."""

import pytest

from dlcodegen.metrics.normalize import (DEFAULT_NORMALIZATION, NORMALIZATIONS, black_format, delete_fence_lines,
                                         join_lines, normalize, normalize_dlcodegen, space_specials,
                                         space_specials_underscoring_strings, strip_comments_by_line)


def test_the_names_and_the_default():
    assert DEFAULT_NORMALIZATION == "dlcodegen" and NORMALIZATIONS[1] == DEFAULT_NORMALIZATION
    assert NORMALIZATIONS == ("none", "dlcodegen", "dlcodegen-principled", "dlcodegen-principled-split-strings")
    assert normalize("x=1") == normalize_dlcodegen("x=1") == normalize("x=1", "dlcodegen")
    assert normalize("x=1  # c", "none").text == "x=1  # c"
    for retired in ("dlcodegen-literal", "dlcodegen-split-strings", "paper"):
        with pytest.raises(ValueError, match="unknown normalize"):
            normalize("x = 1", retired)


# Step 1: fence lines


def test_fence_marker_lines_are_deleted_in_place_and_prose_is_kept():
    text = "Here is the code:\n```python\nx = 1\n```\nThat is all.\n  ```\ny = 2"
    assert delete_fence_lines(text) == "Here is the code:\nx = 1\nThat is all.\ny = 2"
    assert delete_fence_lines("a = '```'\nb = 1") == "a = '```'\nb = 1"  # only lines that start with a fence


# Step 2: comments


def test_a_line_starting_with_triple_quotes_toggles_a_skipped_block():
    text = 'a = 1\n"""Docstring\nstill skipped\n"""\nb = 2\n    """one line"""\nc = 3\n"""open\nd = 4'
    # a one-line docstring toggles too: everything after it until the next toggle is skipped
    assert strip_comments_by_line(text) == "a = 1\nb = 2\nd = 4"
    assert strip_comments_by_line("x = '''kept'''\ny = f(\"\"\"kept too\"\"\")") == \
        "x = '''kept'''\ny = f(\"\"\"kept too\"\"\")"  # only lines that start with \"\"\" toggle


def test_hash_and_everything_after_it_go_even_inside_a_string():
    assert strip_comments_by_line('url = "http://x#frag"  # note\ny = 2  # two\n# whole line') == \
        'url = "http://x\ny = 2  \n'


# Step 3: black


def test_black_formats_at_line_length_210():
    long_call = "model.compile(" + ", ".join(f"argument_{i}={i}" for i in range(12)) + ")"
    assert 88 < len(long_call) <= 210
    formatted, ok = black_format(long_call + "\nx=[1,2]\n")
    assert ok and formatted == long_call + "\nx = [1, 2]\n"  # not wrapped at black's default 88


def test_black_failure_keeps_the_text_unformatted():
    assert black_format("!pip install x\nx=1") == ("!pip install x\nx=1", False)
    result = normalize('s = "a # b"\nt = 1', "dlcodegen")
    assert not result.black_formatted  # the cut left an unterminated string
    assert result.text == 's = " a t = 1'


# Step 4: one line


def test_lines_are_stripped_and_joined_with_single_spaces():
    assert join_lines("def f():\n    return 1\n\n\n  x = f()  \n") == "def f(): return 1 x = f()"


# Step 5: spaces around special characters, strings whole with underscores


def test_strings_found_non_greedily_have_their_spaces_made_underscores():
    assert space_specials_underscoring_strings('print("a b", \'c d\') + f(0.001)') == \
        'print ( "a_b" , \'c_d\' ) + f ( 0.001 )'
    assert space_specials_underscoring_strings('x = "a b"', underscore=False) == 'x = "a b"'
    # the simple regex pairs quotes as it meets them: an apostrophe inside a double-quoted string is not special
    assert space_specials_underscoring_strings('"it\'s ok" + y[1e-4]') == '"it\'s_ok" + y [ 1e-4 ]'


# The whole pipeline


def test_the_whole_pipeline_on_a_fenced_answer():
    answer = 'Sure!\n```python\nimport numpy as np  # numbers\nx = np.array([1, 2])\nprint("x is", x)\n```'
    result = normalize(answer)
    assert not result.black_formatted  # the prose kept around the code is not Python
    assert result.text == 'Sure ! import numpy as np x = np . array ( [ 1 , 2 ] ) print ( "x_is" , x )'


def test_the_whole_pipeline_on_formattable_code():
    code = ('```python\n"""\nModule doc.\n"""\nimport numpy as np  # numbers\nlr=0.001\nname = \'a b(c)\'\n'
            'x = np.ones((2,3))\n```')
    result = normalize(code)
    assert result.black_formatted  # black also turns 'a b(c)' into "a b(c)"
    assert result.text == 'import numpy as np lr = 0.001 name = "a_b(c)" x = np . ones ( ( 2 , 3 ) )'


# The principled reading


def test_principled_reading():
    code = ('```python\n"""Module doc."""\nimport numpy as np  # numbers\nlr=0.001\nname = "a b(c)"\n'
            'x = np.ones((2,3))\n```')
    normalized = normalize(code, "dlcodegen-principled")
    assert normalized.black_formatted
    assert normalized.text == 'import numpy as np lr = 0.001 name = "a b(c)" x = np . ones ( ( 2 , 3 ) )'
    split = normalize(code, "dlcodegen-principled-split-strings")
    assert split.text == 'import numpy as np lr = 0.001 name = " a b ( c ) " x = np . ones ( ( 2 , 3 ) )'
    broken = normalize("Text first\n```python\n!pip install x\nmodel.fit(x)\n```", "dlcodegen-principled")
    assert not broken.black_formatted and broken.text == "! pip install x model . fit ( x )"
    assert space_specials("a='x,y'", split_strings=True) == "a = ' x , y '"
