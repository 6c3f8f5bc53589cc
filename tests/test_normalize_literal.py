"""The literal reading of the paper's post-processing (`normalize="dlcodegen-literal"`), step by step."""

from dlcodegen.metrics.normalize import normalize, space_specials_literally, strip_lines_literally


def test_fence_marker_lines_are_deleted_in_place_and_prose_is_kept():
    text = "Here is the code:\n```python\nx = 1\n```\nThat is all."
    assert strip_lines_literally(text) == "Here is the code:\nx = 1\nThat is all."


def test_a_line_starting_with_triple_quotes_toggles_a_skipped_block():
    text = 'a = 1\n"""Docstring\nstill skipped\n"""\nb = 2\n    """one line"""\nc = 3\n"""open\nd = 4'
    # a one-line docstring toggles too: everything after it until the next toggle is skipped
    assert strip_lines_literally(text) == "a = 1\nb = 2\nd = 4"


def test_hash_and_everything_after_it_go_even_inside_a_string():
    assert strip_lines_literally('url = "http://x#frag"  # note\ny = 2  # two') == 'url = "http://x\ny = 2  '


def test_strings_found_non_greedily_have_their_spaces_made_underscores():
    assert space_specials_literally('print("a b", \'c d\') + f(0.001)') == 'print ( "a_b" , \'c_d\' ) + f ( 0.001 )'


def test_black_failing_after_the_hash_cut_keeps_the_text_unformatted():
    result = normalize('s = "a # b"\nt = 1', "dlcodegen-literal")
    assert not result.black_formatted  # the cut left an unterminated string
    assert result.text.startswith('s = " a')


def test_the_whole_pipeline_on_a_fenced_answer():
    answer = 'Sure!\n```python\nimport numpy as np  # numbers\nx = np.array([1, 2])\nprint("x is", x)\n```'
    result = normalize(answer, "dlcodegen-literal")
    assert not result.black_formatted  # the prose kept around the code is not Python
    assert result.text == 'Sure ! import numpy as np x = np . array ( [ 1 , 2 ] ) print ( "x_is" , x )'
