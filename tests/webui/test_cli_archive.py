"""``kap12 arkiv``: the Noark 5 extract as a scheduled job — idempotent, the SHA-256 printed and
written beside the package, one clear line and a non-zero exit when nothing can be exported or
the user may not; progress only on a terminal."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from tests.webui.cli_support import invoker
from webui.progress import Progress

YEARS = ("--fra", "2020-01-01", "--til", "2099-12-31")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    instance = tmp_path_factory.mktemp("arkiv")
    mp = pytest.MonkeyPatch()
    mp.setenv("KAP12_INSTANCE_DIR", str(instance))
    mp.delenv("KAP12_DATABASE_URL", raising=False)
    invoke = invoker()
    invoke("demo")  # one closed A case at Nordli, among open ones
    yield invoke
    mp.undo()


def test_a_period_is_exported_once_and_again_unchanged(run, tmp_path):
    code, out, err = run("arkiv", "--bruker", "rektor", *YEARS, "--ut", str(tmp_path), "--json")
    assert code == 0 and err == ""  # no progress line in a pipe
    first = json.loads(out)
    package = tmp_path / "noark5-uttrekk-2020-01-01_2099-12-31.zip"
    assert first["file"] == str(package) and first["written"] and len(first["cases"]) == 1
    content = package.read_bytes()
    assert hashlib.sha256(content).hexdigest() == first["sha256"]
    assert (tmp_path / (package.name + ".sha256")).read_text() == f"{first['sha256']}  {package.name}\n"
    assert "arkivstruktur.xml" in zipfile.ZipFile(io.BytesIO(content)).namelist()
    stat = package.stat()

    code, out, _ = run("arkiv", "--bruker", "rektor", *YEARS, "--ut", str(tmp_path))
    assert code == 0 and "uendret" in out and first["sha256"] in out and first["cases"][0] in out
    assert package.read_bytes() == content and package.stat().st_ino == stat.st_ino  # not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == [package.name, package.name + ".sha256"]

    # The same case by its number: the same content under the case's own name.
    code, out, _ = run("arkiv", "--bruker", "rektor", "--saker", first["cases"][0], "--ut", str(tmp_path), "--json")
    single = json.loads(out)
    assert code == 0 and single["sha256"] == first["sha256"] and first["cases"][0] in single["file"]


@pytest.mark.parametrize("args, exit_code, says", [
    (("--bruker", "ansatt", *YEARS), 5, "Bare skolens ledelse eller skoleeier"),
    (("--bruker", "revisor", *YEARS), 5, "Bare skolens ledelse eller skoleeier"),
    (("--bruker", "rektor2", *YEARS), 4, "Ingen avsluttede saker rektor2 kan arkivere"),  # another school
    (("--bruker", "rektor", "--fra", "2021-01-01", "--til", "2021-12-31"), 4, "Ingen avsluttede saker"),
    (("--bruker", "rektor", "--fra", "2021-12-31", "--til", "2021-01-01"), 2, "før fra-datoen"),
    (("--bruker", "rektor", "--saker", "1999-9999"), 4, "finnes ikke"),
    (("--bruker", "rektor", "--saker", "1"), 2, "ikke avsluttet"),
    (("--bruker", "ansatt2", "--saker", "4"), 4, "finnes ikke"),  # the accused in B
    (("--bruker", "rektor",), 2, "Oppgi perioden"),
    (("--bruker", "rektor", "--saker", "1", *YEARS), 2, "enten --saker eller"),
    (("--bruker", "ingen", *YEARS), 4, "finnes ikke"),
])
def test_nothing_exported_is_one_line_and_non_zero(run, tmp_path, args, exit_code, says):
    code, out, err = run("arkiv", *args, "--ut", str(tmp_path))
    assert code == exit_code and says in err and err.count("\n") == 1 and out == ""
    assert list(tmp_path.iterdir()) == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only():
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with Progress("Lager dokumentene", stream) as progress:
            progress(1, 2, "2026-0001")
            progress(2, 2, "2026-0002")
    assert "Lager dokumentene: 2/2 2026-0002" in terminal.getvalue() and terminal.getvalue().endswith("\r\x1b[K")
    assert pipe.getvalue() == ""
