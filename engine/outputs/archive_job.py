"""The Noark 5 extract as a scheduled job (``kap12 arkiv``): choose the closed cases (a period or
named cases), write the package into a folder, and do nothing new when the same package is
already there. The package itself comes from ``noark.ZipExtract``, which is byte-for-byte stable,
so a job that runs twice over the same period leaves one file with one SHA-256."""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import select

from engine import access
from engine.errors import Denied, InvalidInput, NotFound
from engine.outputs import noark
from engine.store.models import Case
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12


@dataclass(frozen=True)
class FolderResult:
    result: noark.ArchiveResult
    path: Path
    written: bool  # False: the same package was already there


def case_ids(kap12: Kap12, refs: Sequence[str]) -> list[int]:
    """Case numbers (``2026-0003``) or ids, as given on the command line, to ids."""
    ids: list[int] = []
    with kap12.db.reading() as session:
        for ref in refs:
            ref = ref.strip()
            found = session.scalars(select(Case.id).where(Case.number == ref)).first()
            if found is None and ref.isdigit():
                found = session.scalars(select(Case.id).where(Case.id == int(ref))).first()
            if found is None:
                raise NotFound(Message("Saken %(ref)s finnes ikke.", ref=ref))
            ids.append(found)
    return ids


def archivable_in_period(kap12: Kap12, viewer: access.Viewer, first: date, last: date) -> list[int]:
    """The closed cases of the period that ``viewer`` may file in the archive."""
    if not access.may_archive_any(viewer):
        raise Denied(Message("Bare skolens ledelse eller skoleeier kan arkivere saker."))
    if last < first:
        raise InvalidInput(Message("Til-datoen er før fra-datoen."))
    ids = noark.closed_in_period(kap12, viewer, first, last)
    with kap12.db.reading() as session:
        return [i for i in ids if (case := session.get(Case, i)) is not None and access.may_archive(viewer, case)]


def write_extract(kap12: Kap12, viewer: access.Viewer, ids: Sequence[int], folder: Path, *, name: str | None = None,
                  progress: Callable[[int, int, str], None] | None = None) -> FolderResult:
    """Export ``ids`` as one package into ``folder`` (``name``, or the extract's own file name),
    with a ``.sha256`` file beside it in ``sha256sum`` format. The package is replaced only when
    its content differs, and always atomically: an archive system that picks files up from the
    folder never sees half a file. Written to the folder as it is made, a document at a time:
    a county's year of PDFs is never in memory at once."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".", suffix=".partial", delete=False) as out:
        partial = Path(out.name)
        try:
            result = write_package(kap12, viewer, ids, out, progress=progress)
            os.fsync(out.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    digest = result.sha256
    path = folder / (name or result.reference)
    written = not (path.is_file() and _sha256_of(path) == digest)
    if written:
        partial.replace(path)
    else:
        partial.unlink()
    _atomic_write(path.with_name(path.name + ".sha256"), f"{digest}  {path.name}\n".encode("ascii"))
    return FolderResult(result, path, written)


def write_package(kap12: Kap12, viewer: access.Viewer, ids: Sequence[int], out: IO[bytes], *,
                  progress: Callable[[int, int, str], None] | None = None) -> noark.ArchiveResult:
    """The package written into ``out`` (a file open for reading and writing), a document at a
    time, with the SHA-256 of what was written; ``out`` is left at its start, to be read."""
    result = noark.ZipExtract(kap12, viewer, progress=progress).write(ids, out)
    out.flush()
    out.seek(0)
    digest = _sha256_of_file(out)
    out.seek(0)
    return replace(result, sha256=digest)


def _sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return _sha256_of_file(f)


def _sha256_of_file(f: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, content: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
