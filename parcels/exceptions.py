"""One exception hierarchy for the spatial core. Views turn these into 4xx responses."""

from __future__ import annotations


class SpatialInputError(ValueError):
    """Input geometry or file that cannot be used; the message says where and why."""

    def __init__(self, message: str, *, source: str | None = None, location: str | None = None,
                 points: list[tuple[float, float]] | None = None) -> None:
        self.source = source
        self.location = location
        # where on the map the problem is (lon, lat in EPSG:4490), when it can be pinned to points
        self.points = points or []
        parts = [p for p in (source, location) if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)
        self.detail = message


class InvalidGeometryError(SpatialInputError):
    """A geometry is invalid (self-intersection, open ring, …) or empty."""


class CRSError(SpatialInputError):
    """Coordinates in an unknown, unsupported or implausible reference system."""


class TxtFormatError(SpatialInputError):
    """A boundary-point TXT file that cannot be read; the message names the line."""
