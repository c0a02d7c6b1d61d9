"""Binary STL meshes of one dental arch, deterministic per seed, streamed triangle by triangle.

A planner's viewer should open what the sandboxes serve, so the mesh is a plausible arch: 14
tooth crowns (incisors to molars, sized by their place) standing on a parabola, each a dome with
cusps, and a gum band under them. The band absorbs any triangle count, so a file can be asked
for at a target size (benchmarks) and still be a valid mesh; its size is exact and known before
a byte is made (`stl_size`), so a listing can show it.

Binary STL: an 80-byte header, a little-endian uint32 triangle count, then 50 bytes per
triangle (normal, three vertices as float32, a uint16 attribute count).
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

HEADER = 80
TRIANGLE = 50
#: Crown widths in mm from the midline back (central incisor .. second molar).
_WIDTHS = (8.5, 6.5, 7.5, 7.0, 6.5, 10.0, 9.0)
#: Triangles per crown at the default detail (rings x segments x 2, about).
_DEFAULT_DETAIL = (6, 14)
_TRIANGLE_STRUCT = struct.Struct("<12fH")
_BATCH = 2048


@dataclass(frozen=True)
class ArchSpec:
    """Which mesh: the seed picks the arch's shape; `upper` the arch; `size` a target in bytes
    (None: a small default mesh of a few thousand triangles)."""

    seed: int
    upper: bool = True
    size: int | None = None

    @property
    def detail(self) -> tuple[int, int]:
        """Rings and segments per crown: finer for large targets, so most of a big file is
        teeth rather than gum band."""
        if self.size is None:
            return _DEFAULT_DETAIL
        wanted = max(0, (self.size - HEADER - 4) // TRIANGLE)
        per_tooth = max(_tooth_triangles(*_DEFAULT_DETAIL), int(wanted * 0.7 / 14))
        segments = max(_DEFAULT_DETAIL[1], int(math.sqrt(per_tooth)))
        rings = max(_DEFAULT_DETAIL[0], per_tooth // (2 * segments))
        return rings, segments

    @property
    def triangles(self) -> int:
        teeth = 14 * _tooth_triangles(*self.detail)
        if self.size is None:
            return teeth + 2 * 14 * 8
        wanted = max(0, (self.size - HEADER - 4) // TRIANGLE)
        return max(teeth + 2, wanted)


def stl_size(spec: ArchSpec) -> int:
    """The exact size of the mesh's file, without making it."""
    return HEADER + 4 + TRIANGLE * spec.triangles


def _tooth_triangles(rings: int, segments: int) -> int:
    # A cap fan at the top, quads between rings, and a closing fan at the bottom.
    return segments + 2 * segments * (rings - 1) + segments


Vertex = tuple[float, float, float]


def _triangle(a: Vertex, b: Vertex, c: Vertex) -> bytes:
    ux, uy, uz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    vx, vy, vz = c[0] - a[0], c[1] - a[1], c[2] - a[2]
    nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    length = math.sqrt(nx * nx + ny * ny + nz * nz) or 1.0
    return _TRIANGLE_STRUCT.pack(
        nx / length, ny / length, nz / length, *a, *b, *c, 0
    )  # fmt: skip


def _tooth(
    center: Vertex, angle: float, width: float, depth: float, height: float, cusps: int,
    rings: int, segments: int, wobble: float,
) -> Iterator[bytes]:  # fmt: skip
    """A crown: a dome (cusped on top) around `center`, turned to face along the arch."""
    cx, cy, cz = center
    cos_a, sin_a = math.cos(angle), math.sin(angle)

    def point(ring: int, seg: int) -> Vertex:
        polar = (ring / rings) * (math.pi / 2)  # 0 at the top, pi/2 at the base
        around = 2 * math.pi * seg / segments
        ring_r = math.sin(polar) if ring else 0.0
        lx = 0.5 * width * ring_r * math.cos(around)
        ly = 0.5 * depth * ring_r * math.sin(around)
        top = math.cos(polar)
        bumps = 1 + 0.12 * math.cos(cusps * around) * ring_r * top
        lz = height * top * bumps * (1 + wobble * math.sin(3 * around))
        return (cx + lx * cos_a - ly * sin_a, cy + lx * sin_a + ly * cos_a, cz + lz)

    apex = point(0, 0)
    grid = [[point(r, s) for s in range(segments)] for r in range(1, rings + 1)]
    base = (cx, cy, cz - 0.05 * height)
    for s in range(segments):
        t = (s + 1) % segments
        yield _triangle(apex, grid[0][s], grid[0][t])
    for r in range(rings - 1):
        upper, lower = grid[r], grid[r + 1]
        for s in range(segments):
            t = (s + 1) % segments
            yield _triangle(upper[s], lower[s], lower[t])
            yield _triangle(upper[s], lower[t], upper[t])
    for s in range(segments):
        t = (s + 1) % segments
        yield _triangle(base, grid[-1][t], grid[-1][s])


def _band(path: list[Vertex], count: int, width: float) -> Iterator[bytes]:
    """A gum band of exactly `count` triangles along `path` (a strip, subdivided as needed)."""
    if count <= 0:
        return
    quads = (count + 1) // 2
    steps = max(1, quads)
    segments = len(path) - 1

    def along(i: int, inner: bool) -> Vertex:
        position = segments * i / steps
        k = min(int(position), segments - 1)
        f = position - k
        a, b = path[k], path[k + 1]
        x, y, z = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)
        scale = 0.86 if inner else 1.0
        return (x * scale, y * scale + (1 - scale) * width, z - (0.0 if inner else 2.0))

    made = 0
    for i in range(steps):
        a, b = along(i, False), along(i + 1, False)
        c, d = along(i, True), along(i + 1, True)
        for triangle in ((a, b, d), (a, d, c)):
            if made == count:
                return
            yield _triangle(*triangle)
            made += 1


def stl_chunks(spec: ArchSpec) -> Iterator[bytes]:
    """The file's bytes in pieces of a few thousand triangles."""
    rng = random.Random(f"stl:{spec.seed}:{spec.upper}")
    span = rng.uniform(46.0, 54.0) * (1.0 if spec.upper else 0.93)  # arch width, mm
    depth = rng.uniform(38.0, 46.0) * (1.0 if spec.upper else 0.92)
    rings, segments = spec.detail
    header = f"binary STL: {'upper' if spec.upper else 'lower'} arch, seed {spec.seed}".encode()
    yield header.ljust(HEADER, b" ") + struct.pack("<I", spec.triangles)

    # Tooth centres along x = span/2 * sin(t), y = depth * (1 - cos(t)) from right to left.
    order = list(reversed(_WIDTHS)) + list(_WIDTHS)
    total = sum(order)
    angles: list[float] = []
    walked = 0.0
    for width in order:
        angles.append(-1.25 + 2.5 * (walked + width / 2) / total)
        walked += width
    batch: list[bytes] = []
    path: list[Vertex] = []
    for place, (width, t) in enumerate(zip(order, angles, strict=True)):
        x = 0.5 * span * math.sin(t)
        y = depth * (1 - math.cos(t))
        tangent = math.atan2(depth * math.sin(t), 0.5 * span * math.cos(t))
        path.append((x, y, 0.0))
        rank = min(place, len(order) - 1 - place)  # 0 at the back (molars)
        molar = rank < 2
        height = (7.5 if molar else 9.5) * rng.uniform(0.92, 1.08)
        tooth = _tooth(
            (x, y, 0.0), tangent, width * rng.uniform(0.95, 1.03), (10.5 if molar else 7.0),
            height, 4 if molar else 2, rings, segments, rng.uniform(0.0, 0.04),
        )  # fmt: skip
        for triangle in tooth:
            batch.append(triangle)
            if len(batch) >= _BATCH:
                yield b"".join(batch)
                batch = []
    band = spec.triangles - 14 * _tooth_triangles(rings, segments)
    for triangle in _band(path, band, depth * 0.3):
        batch.append(triangle)
        if len(batch) >= _BATCH:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def read_triangle_count(head: bytes) -> int:
    """The triangle count a binary STL declares (its first 84 bytes)."""
    if len(head) < HEADER + 4:
        raise ValueError("not a binary STL: shorter than its header")
    return int(struct.unpack_from("<I", head, HEADER)[0])
