"""Vectorised conversion between SI values and 16-bit Modbus registers, per register map row.

A :class:`RegisterCodec` is built once for a set of :class:`~twin.registermap.RegisterSpec`
and a register *image* (a ``uint16`` array holding a device's registers from some base
address). Decoding a whole device is then a handful of numpy operations, whatever its size.

Conventions: registers are big-endian 16-bit words (Modbus); a 32-bit value with word order
``"big"`` has its high word at the lower address, ``"little"`` its low word there. The raw
bit pattern is compared with the sentinel *before* scaling; a float32 NaN is also "not
available".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.registermap import RegisterSpec

_KINDS = {"int16": 0, "uint16": 1, "int32": 2, "uint32": 3, "float32": 4}
_INT_RANGE = {
    0: (-(1 << 15), (1 << 15) - 1),
    1: (0, (1 << 16) - 1),
    2: (-(1 << 31), (1 << 31) - 1),
    3: (0, (1 << 32) - 1),
}
FLOAT32_NAN_BITS = 0x7FC00000


@dataclass(frozen=True)
class RegisterCodec:
    """Encode and decode many register values at once.

    Parameters
    ----------
    index : numpy.ndarray of int64
        Position in the image of each value's first register.
    kind, two, little : numpy.ndarray
        Data type code, 2-register flag, low-word-first flag.
    scale, offset, si_factor : numpy.ndarray of float64
        ``si = (raw * scale + offset) * si_factor``.
    sentinel : numpy.ndarray of uint32
        Raw "not available" bit pattern, valid where ``has_sentinel``.
    """

    index: np.ndarray
    kind: np.ndarray
    two: np.ndarray
    little: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    si_factor: np.ndarray
    sentinel: np.ndarray
    has_sentinel: np.ndarray

    @classmethod
    def from_specs(cls, specs: Sequence[RegisterSpec], index: np.ndarray | None = None):
        """Codec for ``specs``; ``index`` defaults to each spec's address (image base 0)."""
        idx = np.array([s.address for s in specs] if index is None else index, dtype=np.int64)
        return cls(
            index=idx,
            kind=np.array([_KINDS[s.dtype] for s in specs], dtype=np.int8),
            two=np.array([s.words == 2 for s in specs], dtype=bool),
            little=np.array([s.word_order == "little" for s in specs], dtype=bool),
            scale=np.array([s.scale for s in specs], dtype=np.float64),
            offset=np.array([s.offset for s in specs], dtype=np.float64),
            si_factor=np.array([s.si_factor for s in specs], dtype=np.float64),
            sentinel=np.array([s.sentinel or 0 for s in specs], dtype=np.uint32),
            has_sentinel=np.array([s.sentinel is not None for s in specs], dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.index)

    def decode(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SI values and a "not available" mask from a register image.

        Parameters
        ----------
        image : numpy.ndarray of uint16 (or ints 0..65535)
            Registers; ``image[index]`` is each value's first register.

        Returns
        -------
        values : numpy.ndarray of float64
            SI values; NaN where not available.
        not_available : numpy.ndarray of bool
            The sentinel (or a float NaN/inf) was read.
        """
        img = np.asarray(image, dtype=np.uint32)
        w0 = img[self.index]
        w1 = img[np.where(self.two, self.index + 1, self.index)]
        hi = np.where(self.little, w1, w0)
        lo = np.where(self.little, w0, w1)
        bits = np.where(self.two, (hi << 16) | lo, w0).astype(np.uint32)
        raw = np.empty(len(self), dtype=np.float64)
        k = self.kind
        raw[k == 0] = w0[k == 0].astype(np.uint16).view(np.int16)
        raw[k == 1] = w0[k == 1]
        raw[k == 2] = bits[k == 2].view(np.int32)
        raw[k == 3] = bits[k == 3]
        raw[k == 4] = bits[k == 4].view(np.float32)
        not_available = (self.has_sentinel & (bits == self.sentinel)) | ~np.isfinite(raw)
        values = (raw * self.scale + self.offset) * self.si_factor
        values[not_available] = np.nan
        return values, not_available

    def encode(self, values: np.ndarray, image: np.ndarray) -> np.ndarray:
        """Write SI values into a register image in place.

        Integers are rounded and clipped to their type's range; a value that would encode
        as the sentinel is moved one step towards zero. A non-finite value writes the
        sentinel, or a float32 NaN when there is none; integer registers without a
        sentinel keep their previous content.

        Returns
        -------
        numpy.ndarray of bool
            Rows written as "not available".
        """
        v = np.asarray(values, dtype=np.float64)
        missing = ~np.isfinite(v)
        with np.errstate(invalid="ignore"):
            raw = np.where(missing, 0.0, v) / self.si_factor
            raw = (raw - self.offset) / self.scale
        bits = np.zeros(len(self), dtype=np.int64)
        for code, (lo, hi) in _INT_RANGE.items():
            m = self.kind == code
            if m.any():
                r = np.clip(np.rint(raw[m]), lo, hi).astype(np.int64)
                mask = (1 << (32 if code > 1 else 16)) - 1
                clash = self.has_sentinel[m] & ((r & mask) == self.sentinel[m])
                r = np.where(clash, r - np.where(r > 0, 1, -1), r)
                bits[m] = r & mask
        f = self.kind == 4
        bits[f] = raw[f].astype(np.float32).view(np.uint32)
        na_bits = np.where(self.has_sentinel, self.sentinel, FLOAT32_NAN_BITS).astype(np.int64)
        bits = np.where(missing, na_bits, bits)
        write = ~missing | self.has_sentinel | f
        hi_w, lo_w = (bits >> 16) & 0xFFFF, bits & 0xFFFF
        first = np.where(self.two, np.where(self.little, lo_w, hi_w), bits & 0xFFFF)
        second = np.where(self.little, hi_w, lo_w)
        image[self.index[write]] = first[write]
        two = write & self.two
        image[self.index[two] + 1] = second[two]
        return missing & write


def encode_value(spec: RegisterSpec, value: float) -> list[int]:
    """Registers holding one SI value as ``spec`` lays it out.

    >>> from twin.registermap import RegisterSpec
    >>> s = RegisterSpec("d", "s", "holding", 0, "float32", "little", unit="kW")
    >>> [hex(w) for w in encode_value(s, 1500.0)]  # 1.5 kW = 0x3FC00000
    ['0x0', '0x3fc0']
    """
    image = np.zeros(spec.words, dtype=np.uint16)
    RegisterCodec.from_specs([spec], np.array([0])).encode(np.array([value]), image)
    return [int(w) for w in image]


def decode_value(spec: RegisterSpec, registers: Sequence[int]) -> float:
    """SI value of ``registers`` laid out as ``spec``; NaN when "not available".

    >>> from twin.registermap import RegisterSpec
    >>> s = RegisterSpec("d", "s", "input", 0, "int16", scale=0.1, unit="cm", sentinel=0x8000)
    >>> decode_value(s, [0xFFF6]), decode_value(s, [0x8000])  # -1.0 cm = -0.01 m
    (-0.01, nan)
    """
    codec = RegisterCodec.from_specs([spec], np.array([0]))
    values, _ = codec.decode(np.asarray(registers, dtype=np.uint16))
    return float(values[0])
