"""A tiny PNG reader and writer (8-bit RGB/RGBA/gray, non-interlaced): enough to check and crop
Chromium's screenshots without an imaging library.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


@dataclass(frozen=True)
class Image:
    pixels: np.ndarray  # (height, width, channels) uint8

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]


def _chunks(data: bytes):
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    position = len(SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        yield kind, data[position + 8 : position + 8 + length]
        position += 12 + length


def read_png(data: bytes) -> Image:
    header = None
    compressed = bytearray()
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = _CHANNELS[colour]
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(bytes(compressed)), dtype=np.uint8).reshape(height, stride + 1)
    filters, rows = raw[:, 0], raw[:, 1:].astype(np.int32)
    out = np.zeros((height, stride), dtype=np.int32)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        line, kind = rows[y], filters[y]
        if kind == 0:
            current = line
        elif kind == 1:  # Sub: a running sum per channel
            current = (np.cumsum(line.reshape(width, channels), axis=0) % 256).reshape(stride)
        elif kind == 2:  # Up
            current = (line + previous) % 256
        elif kind in (3, 4):  # Average, Paeth: left to right
            current = np.zeros(stride, dtype=np.int32)
            values, above = line.tolist(), previous.tolist()
            decoded = [0] * stride
            for i in range(stride):
                left = decoded[i - channels] if i >= channels else 0
                if kind == 3:
                    predictor = (left + above[i]) // 2
                else:
                    upper_left = above[i - channels] if i >= channels else 0
                    estimate = left + above[i] - upper_left
                    distance_a, distance_b, distance_c = (
                        abs(estimate - left),
                        abs(estimate - above[i]),
                        abs(estimate - upper_left),
                    )
                    if distance_a <= distance_b and distance_a <= distance_c:
                        predictor = left
                    elif distance_b <= distance_c:
                        predictor = above[i]
                    else:
                        predictor = upper_left
                decoded[i] = (values[i] + predictor) % 256
            current = np.array(decoded, dtype=np.int32)
        else:
            raise ValueError(f"bad PNG filter type {kind} on row {y}")
        out[y] = current
        previous = current
    return Image(out.astype(np.uint8).reshape(height, width, channels))


def write_png(image: Image) -> bytes:
    """Encode with the Up filter (good for screenshots' long uniform runs), zlib level 9."""
    pixels = image.pixels
    height, width, channels = pixels.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = pixels.reshape(height, width * channels).astype(np.int16)
    above = np.vstack([np.zeros((1, width * channels), dtype=np.int16), rows[:-1]])
    filtered = ((rows - above) % 256).astype(np.uint8)
    raw = np.hstack([np.full((height, 1), 2, dtype=np.uint8), filtered]).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def distinct_colours(image: Image, limit: int = 1000) -> int:
    """How many different pixel values the image has (counting stops at `limit`)."""
    flat = image.pixels.reshape(-1, image.pixels.shape[2])
    sample = flat[:: max(1, len(flat) // 200_000)]
    return min(len(np.unique(sample, axis=0)), limit)


def crop_bottom(image: Image, margin: int = 24) -> Image:
    """Drop the rows at the bottom that are all the colour of the bottom-left pixel."""
    background = image.pixels[-1, 0]
    differs = np.any(image.pixels != background, axis=(1, 2))
    rows = np.flatnonzero(differs)
    last = int(rows[-1]) if rows.size else 0
    return Image(image.pixels[: min(image.height, last + 1 + margin)])
