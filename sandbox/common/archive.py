"""Zip archives of meshes (a treatment plan's staging models), deterministic per seed.

Members are stored (not deflated), with a fixed timestamp and no extra fields, so the size of
the archive is known from its members' sizes alone (`archive_size`) before it is made, and the
same seed gives the same bytes.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

from sandbox.common.stl import ArchSpec, stl_chunks, stl_size

_LOCAL = 30
_CENTRAL = 46
_END = 22
_STAMP = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ArchiveSpec:
    """Staging models: the upper and lower arch at `stages` steps; `size` a target for the
    whole archive (None: small meshes)."""

    seed: int
    stages: int = 2
    size: int | None = None

    def members(self) -> list[tuple[str, ArchSpec]]:
        count = 2 * self.stages
        each = None
        if self.size is not None:
            names = sum(len(f"Stage_{s:02d}_upper.stl") for s in range(self.stages)) * 2
            each = max(1, (self.size - _END - count * (_LOCAL + _CENTRAL) - names) // count)
        made = []
        for stage in range(self.stages):
            for arch in ("upper", "lower"):
                mesh = ArchSpec(self.seed * 100 + stage, arch == "upper", each)
                made.append((f"Stage_{stage:02d}_{arch}.stl", mesh))
        return made


def archive_size(spec: ArchiveSpec) -> int:
    """The archive's exact size: each member's local header, data and central entry, and the
    end record."""
    return _END + sum(
        _LOCAL + _CENTRAL + 2 * len(name.encode()) + stl_size(mesh) for name, mesh in spec.members()
    )


def write_archive(spec: ArchiveSpec, out: IO[bytes]) -> None:
    """Write the archive to a seekable file (a member is streamed in, never held whole)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, mesh in spec.members():
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = stl_size(mesh)
            with archive.open(info, "w") as member:
                for piece in stl_chunks(mesh):
                    member.write(piece)
