"""Baseline JPEG photos (an intra-oral or smile view, drawn), deterministic per seed.

A small baseline encoder (YCbCr 4:4:4, 8x8 DCT, one flat quantization table) in plain Python,
so the sandboxes need no imaging library. Its Huffman tables give every symbol a code of one
length (4 bits for DC categories, 8 bits for AC run/size pairs): valid for every decoder, if
not the tightest. A target size is reached with comment (COM) segments, which decoders skip.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass

WIDTH, HEIGHT = 96, 64
_QUANT = 6
_ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
    20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip
_COS = [
    [(math.sqrt(0.5) if u == 0 else 1.0) * math.cos((2 * x + 1) * u * math.pi / 16) / 2
     for x in range(8)]
    for u in range(8)
]  # fmt: skip
_DC_SYMBOLS = list(range(12))
_AC_SYMBOLS = [0x00, 0xF0] + [(run << 4) | size for run in range(16) for size in range(1, 11)]
_DC_CODES = {s: (i, 4) for i, s in enumerate(_DC_SYMBOLS)}
_AC_CODES = {s: (i, 8) for i, s in enumerate(_AC_SYMBOLS)}
_MAX_COMMENT = 65533


@dataclass(frozen=True)
class PhotoSpec:
    seed: int
    size: int | None = None


def _picture(seed: int) -> list[list[tuple[int, int, int]]]:
    """A drawn smile: skin-toned background, lips, and a row of teeth."""
    rng = random.Random(f"jpeg:{seed}")
    skin = (rng.randint(170, 235), rng.randint(120, 180), rng.randint(95, 150))
    lip = (rng.randint(150, 200), rng.randint(60, 90), rng.randint(70, 100))
    tooth = (rng.randint(225, 250), rng.randint(220, 245), rng.randint(200, 230))
    cx, cy = WIDTH / 2 + rng.uniform(-4, 4), HEIGHT / 2 + rng.uniform(-3, 3)
    rx, ry = WIDTH * rng.uniform(0.33, 0.4), HEIGHT * rng.uniform(0.22, 0.3)
    teeth = rng.randint(6, 8)
    rows = []
    for y in range(HEIGHT):
        row = []
        for x in range(WIDTH):
            dx, dy = (x - cx) / rx, (y - cy) / ry
            inside = dx * dx + dy * dy
            shade = 1 - 0.25 * (y / HEIGHT)
            if inside < 0.55 and abs(dy) < 0.55:
                gap = int((x - (cx - rx)) / (2 * rx) * teeth * 4) % 4 == 0
                colour = (90, 40, 40) if gap else tooth
            elif inside < 1.0:
                colour = lip
            else:
                colour = tuple(int(c * shade) for c in skin)  # type: ignore[assignment]
            row.append(colour)
        rows.append(row)
    return rows


def _fdct(block: list[float]) -> list[float]:
    rows = [[sum(block[y * 8 + x] * _COS[u][x] for x in range(8)) for u in range(8)]
            for y in range(8)]  # fmt: skip
    return [sum(rows[y][u] * _COS[v][y] for y in range(8)) for v in range(8) for u in range(8)]


def _category(value: int) -> int:
    return abs(value).bit_length()


def _bits(value: int, size: int) -> int:
    return value if value >= 0 else value + (1 << size) - 1


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, code: int, length: int) -> None:
        self._acc = (self._acc << length) | code
        self._count += length
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing
        self._acc &= (1 << self._count) - 1

    def flush(self) -> bytes:
        if self._count:
            self.write((1 << (8 - self._count)) - 1, 8 - self._count)
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def _huffman_table(table_class: int, table_id: int, length: int, symbols: list[int]) -> bytes:
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    return bytes([(table_class << 4) | table_id, *counts, *symbols])


def _scan(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    writer = _BitWriter()
    previous = [0, 0, 0]
    for by in range(0, HEIGHT, 8):
        for bx in range(0, WIDTH, 8):
            planes: list[list[float]] = [[], [], []]
            for y in range(by, by + 8):
                for x in range(bx, bx + 8):
                    r, g, b = pixels[y][x]
                    planes[0].append(0.299 * r + 0.587 * g + 0.114 * b - 128)
                    planes[1].append(-0.1687 * r - 0.3313 * g + 0.5 * b)
                    planes[2].append(0.5 * r - 0.4187 * g - 0.0813 * b)
            for component, plane in enumerate(planes):
                coefficients = _fdct(plane)
                quantized = [round(coefficients[i] / _QUANT) for i in _ZIGZAG]
                diff = quantized[0] - previous[component]
                previous[component] = quantized[0]
                size = _category(diff)
                writer.write(*_DC_CODES[size])
                if size:
                    writer.write(_bits(diff, size), size)
                run = 0
                for value in quantized[1:]:
                    if value == 0:
                        run += 1
                        continue
                    while run > 15:
                        writer.write(*_AC_CODES[0xF0])
                        run -= 16
                    size = min(_category(value), 10)
                    writer.write(*_AC_CODES[(run << 4) | size])
                    writer.write(_bits(value, size), size)
                    run = 0
                if run:
                    writer.write(*_AC_CODES[0x00])
    return writer.flush()


def jpeg_photo(spec: PhotoSpec) -> bytes:
    """The whole photo (a few kilobytes, or `size` bytes when that is larger)."""
    head = b"\xff\xd8" + _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    tables = (
        _segment(0xFFDB, bytes([0]) + bytes([_QUANT] * 64))
        + _segment(0xFFC0, struct.pack(">BHHB", 8, HEIGHT, WIDTH, 3)
                   + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]))
        + _segment(0xFFC4, _huffman_table(0, 0, 4, _DC_SYMBOLS)
                   + _huffman_table(1, 0, 8, _AC_SYMBOLS))
        + _segment(0xFFDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    )  # fmt: skip
    tail = _scan(_picture(spec.seed)) + b"\xff\xd9"
    bare = len(head) + len(tables) + len(tail)
    comments = bytearray()
    if spec.size is not None and spec.size >= bare + 4:
        rng = random.Random(f"jpeg-pad:{spec.seed}")
        left = spec.size - bare
        while left:
            payload = min(_MAX_COMMENT, left - 4)
            if 0 < left - 4 - payload < 4:  # keep room for one more whole segment
                payload -= 4
            comments += _segment(0xFFFE, rng.randbytes(payload))
            left -= payload + 4
    return head + bytes(comments) + tables + tail
