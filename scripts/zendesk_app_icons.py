"""Draw the Zendesk app's PNG icons (assets/logo.png 320x320, assets/logo-small.png 128x128) with the standard
library only: a white clock on Escalator blue. Run from the repository root; the output is committed."""
from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

BLUE, WHITE = (31, 115, 183, 255), (255, 255, 255, 255)


def _near_segment(x: float, y: float, a: tuple[float, float], b: tuple[float, float], width: float) -> bool:
    (ax, ay), (bx, by) = a, b
    t = max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
    return math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))) <= width / 2


def pixel(x: float, y: float) -> tuple[int, int, int, int]:
    """The colour at (x, y) in a unit square."""
    ring = abs(math.hypot(x - 0.5, y - 0.55) - 0.28) <= 0.04
    hands = _near_segment(x, y, (0.5, 0.38), (0.5, 0.55), 0.08) or _near_segment(x, y, (0.5, 0.55), (0.63, 0.63), 0.08)
    button = _near_segment(x, y, (0.41, 0.16), (0.59, 0.16), 0.08)
    return WHITE if ring or hands or button else BLUE


def png(size: int) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(pixel((i + 0.5) / size, (j + 0.5) / size)) for i in range(size))
                    for j in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA (PNG-24 with transparency)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def main(root: Path) -> None:
    for name, size in (("logo.png", 320), ("logo-small.png", 128)):
        (root / "zendesk_app" / "assets" / name).write_bytes(png(size))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
