"""python manage.py import_parcels FILE [...] — registered land parcels (宗地) from any vector file.

Existing parcel codes are left as they are (a re-run adds only new parcels). All or nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parcels.exceptions import SpatialInputError
from parcels.importers.vector import inspect_fields, read_frame
from parcels.services import parcel_load

# target column → source field names tried in order (national cadastral database names included:
# ZDDM 宗地代码, QLR 权利人, QLLX 权利类型, DLBM 地类编码)
FIELDS = {
    "code": ("code", "ZDDM", "zddm"),
    "right_holder": ("right_holder", "QLR", "qlr"),
    "right_type": ("right_type", "QLLX", "qllx"),
    "land_class": ("land_class", "DLBM", "dlbm", "TDYT"),
}


class Command(BaseCommand):
    help = "Import registered parcels (parcel code, right holder, right type, land class) from FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        for target in FIELDS:
            parser.add_argument(f"--{target.replace('_', '-')}-field", dest=f"{target}_field", help=f"source field for {target}")
        parser.add_argument("--source-layer")
        parser.add_argument("--srid", type=int)
        parser.add_argument("--encoding")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            fields = inspect_fields(path, layer=options["source_layer"])
            mapping = {}
            for target, candidates in FIELDS.items():
                chosen = options[f"{target}_field"] or next((c for c in candidates if c in fields), None)
                if chosen is None or chosen not in fields:
                    raise SpatialInputError(
                        f"no field for {target} (tried {', '.join(candidates) if not options[f'{target}_field'] else chosen}); "
                        f"its fields are: {', '.join(fields)}; use --{target.replace('_', '-')}-field",
                        source=path.name,
                    )
                mapping[chosen] = target
            frame, srid, warnings = read_frame(path, layer=options["source_layer"], srid=options["srid"], encoding=options["encoding"])
            frame = frame.rename(columns=mapping)
            created = parcel_load(frame=frame, source=path.name)
        except SpatialInputError as exc:
            raise CommandError(str(exc)) from exc
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        self.stdout.write(self.style.SUCCESS(f"{created} new parcel(s) of {len(frame)} imported from EPSG:{srid}"))
