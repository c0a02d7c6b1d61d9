"""Valid PDF documents (a treatment overview, an IPR form), deterministic per seed.

One page of text in Helvetica (the title and a few lines the caller gives), a cross-reference
table with exact offsets, so any reader opens it. A target size (benchmarks, or a portal that
shows large reports) is reached with an unreferenced stream of seeded noise, which readers
skip; the result is exactly `size` bytes whenever `size` is at least the bare document's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PdfSpec:
    seed: int
    title: str
    lines: tuple[str, ...] = ()
    size: int | None = None


def _escape(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode()
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(title: str, lines: Sequence[str]) -> bytes:
    out = ["BT", "/F1 18 Tf", "56 770 Td", f"({_escape(title)}) Tj", "/F1 11 Tf", "0 -28 Td"]
    for line in lines:
        out += [f"({_escape(line)}) Tj", "0 -16 Td"]
    out.append("ET")
    return "\n".join(out).encode()


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def _stream(data: bytes) -> bytes:
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def pdf_document(spec: PdfSpec) -> bytes:
    """The whole document (PDFs here stay small enough to make in one piece)."""
    rng = random.Random(f"pdf:{spec.seed}:{spec.title}")
    lines = [*spec.lines, f"Document reference {rng.getrandbits(48):012x}"]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(_content(spec.title, lines)),
    ]
    noise = rng.randbytes(64)  # every document carries bytes no other one has
    bare = _assemble([*objects, _stream(noise)])
    if spec.size is None or spec.size <= len(bare):
        return bare
    extra = spec.size - len(bare)
    # The Length field grows by a digit or two with the padding: settle it in two passes.
    for _ in range(3):
        padded = _assemble([*objects, _stream(noise + rng.randbytes(extra))])
        if len(padded) == spec.size:
            return padded
        extra += spec.size - len(padded)
    return padded
