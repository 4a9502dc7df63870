"""`chip2chat catalog list [KIND]` and `catalog show NAME` cover every catalog an error can point to
(issue 11); an unknown kind or name is one line: the kinds, or the closest names."""

from __future__ import annotations

import pytest
from contract import api_error, assert_bad

from chip2chat.catalog import CATALOGS, catalog_kind, find_everywhere

# one entry of each catalog, by id, display name or alias, as a user would type it
ONE_OF_EACH = {"accelerators": "H200", "memory": "hbm3e-12hi", "models": "llama-3.1-8b", "sites": "us-hyperscale",
               "servers": "hgx-8gpu", "devices": "iphone-16-pro", "networks": "wifi",
               "speech-models": "whisper-small", "designs": "hbm4-custom", "process-nodes": "N3",
               "scenarios": "voice-assistant"}


def test_every_catalog_the_errors_name_is_listable():
    assert set(CATALOGS) == set(ONE_OF_EACH)


@pytest.mark.parametrize("kind", list(ONE_OF_EACH))
def test_each_kind_lists_and_one_of_its_entries_shows(cli, kind):
    listed = cli("catalog", "list", kind)
    assert listed.code == 0 and listed.err == "", listed.err
    first_id = next(iter(CATALOGS[kind].entries()))
    assert first_id in listed.out
    shown = cli("catalog", "show", ONE_OF_EACH[kind], "--kind", kind)
    assert shown.code == 0 and f"{CATALOGS[kind].title}: " in shown.out, shown.err


def test_list_without_a_kind_prints_every_catalog(cli):
    r = cli("catalog", "list")
    assert r.code == 0 and all(name in r.out for name in ("h200-sxm", "wifi", "N3", "hbm4-custom", "us-hyperscale"))


def test_kinds_are_forgiving_about_underscores_and_case():
    assert catalog_kind("speech_models") == catalog_kind("Speech Models") == "speech-models"


def test_a_name_in_two_catalogs_shows_the_first_and_names_the_other(cli):
    # h200-sxm is an accelerator and a modelled design
    r = cli("catalog", "show", "h200-sxm")
    assert r.code == 0 and "accelerator: h200-sxm" in r.out and "also in designs" in r.out
    assert [k for k, _, _ in find_everywhere("h200-sxm")] == ["accelerators", "designs"]
    r = cli("catalog", "show", "h200-sxm", "--kind", "designs")
    assert r.code == 0 and "chip design: h200-sxm" in r.out


@pytest.mark.parametrize("args, mentions", [
    (["list", "gpus"], ["unknown catalog kind 'gpus'", "accelerators", "speech-models", "process-nodes"]),
    (["list", ""], ["unknown catalog kind ''", "kinds:"]),
    (["show", "h201"], ["unknown catalog entry 'h201'", "closest"]),
    (["show", ""], ["unknown catalog entry ''"]),
    (["show", "wifi", "--kind", "designs"], ["unknown catalog entry 'wifi'"]),
    (["show", "wifi", "--kind", "radios"], ["unknown catalog kind 'radios'", "networks"]),
    (["show"], ["Missing argument 'name'"]),
    (["list", "models", "extra"], ["unexpected extra argument"]),
])
def test_bad_catalog_request_is_one_line(cli, args, mentions):
    assert_bad(cli("catalog", *args), 2, *mentions)


def test_python_catalog_kind_errors_are_one_line():
    api_error(catalog_kind, "unknown catalog kind 'x'", "scenarios", kind="x")
    api_error(catalog_kind, "catalog kind", "accelerators", kind=None)
