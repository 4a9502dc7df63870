"""Usage errors are one line too: the option, the bad value, where to look."""

from contract import assert_bad


def test_non_integer_option_names_the_option(cli):
    assert_bad(cli("estimate", "--model", "llama-3.1-8b", "--hardware", "h100", "--batch", "abc"), 2,
               "'--batch'", "valid integer", "chip2chat estimate --help")


def test_unknown_option(cli):
    assert_bad(cli("simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--bogus"), 2, "--bogus")


def test_unknown_command_suggests_the_closest(cli):
    assert_bad(cli("estimat"), 2, "No such command", "'estimate'")


def test_missing_required_option(cli):
    assert_bad(cli("estimate", "--hardware", "h100"), 2, "--model")


def test_square_brackets_in_a_message_are_kept(cli):
    # rich markup would eat "[calibrate]"; messages are printed as written
    assert_bad(cli("catalog", "show", "[calibrate]"), 2, "'[calibrate]'")
