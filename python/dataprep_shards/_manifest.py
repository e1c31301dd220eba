"""The checks every reader of a shard set makes once, when the set is opened: the manifest's types
(what dataprep's Swift reader decodes) and its consistency (``ShardManifest.validate`` in
``Sources/Shards/ShardManifest.swift``, docs/shard-format.md "Validation"), with the same error
codes, so both readers refuse the same sets the same way."""

from __future__ import annotations

import math
import unicodedata
from typing import Any, Optional

import numpy as np

from ._format import HEADER_SIZE
from .errors import ShardError

#: The limits of ``ShardManifest`` and ``ImageSpec``.
MAXIMUM_CLASSES = 100_000
MAXIMUM_PARAMETERS = 64
MAXIMUM_ITEMS = 2**31 - 1
MAXIMUM_SIDE = 8192
MAXIMUM_PIXELS = 1 << 26
RESIZES = ("bilinear", "nearest", "keras-nearest")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _refuse_constant(name: str) -> Any:
    """``json.loads``'s hook for ``NaN`` and ``Infinity``, which are not JSON (Swift refuses them)."""
    raise ValueError(f"{name} is not a JSON number")


def _integral(value: Any, low: int, high: int) -> Optional[int]:
    """``value`` as an int when Swift's JSONDecoder decodes it as an integer in ``low ... high``: a
    JSON number (not a boolean) with no fraction, ``2.0`` and ``1e12`` included; else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        value = int(value)
    return value if low <= value <= high else None


def _is_int(value: Any) -> bool:
    """Whether ``value`` decodes as Swift's ``Int`` (64 bits)."""
    return _integral(value, _INT_MIN, _INT_MAX) is not None


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool))


def _is_control(character: str) -> bool:
    code = ord(character)
    return code < 0x20 or 0x7F <= code <= 0x9F


def plain_name_problem(name: str) -> Optional[str]:
    """Why ``name`` is not a single plain file or folder name (Support's ``PathComponent.validate``),
    or None when it is one."""
    if name == "":
        return "it is empty"
    if name in (".", ".."):
        return f"`{name}` names a folder, not an entry in it"
    if "/" in name:
        return "it holds `/`, so it is a path, not a single name"
    if "\0" in name:
        return "it holds a NUL character"
    if any(_is_control(c) for c in name):
        return "it holds a control character"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return "it is more than 255 bytes long"
    return None


def record_layout(height: int, width: int, channels: int, has_source: bool, parameter_count: int) -> dict:
    """The record layout for images of ``height × width × channels`` (docs/shard-format.md, "Records"):
    the layout keys of a manifest, ``sourceOffset``/``parametersOffset`` None when absent."""
    offset = (height * width * channels + 3) & ~3
    label = offset
    offset += 4
    source = offset if has_source else None
    if has_source:
        offset += 4
    parameters = offset if parameter_count > 0 else None
    offset += 4 * parameter_count
    return {
        "height": height,
        "width": width,
        "channels": channels,
        "stride": (offset + 7) & ~7,
        "labelOffset": label,
        "sourceOffset": source,
        "parametersOffset": parameters,
        "parameterCount": parameter_count,
    }


class _Shape:
    """Checks that a decoded JSON value has the types the Swift ``Codable`` manifest needs."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, what: str) -> ShardError:
        return ShardError("manifestMismatch", f"unreadable manifest: {where} {what}", self.path)

    def object(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, "is not an object")
        return value

    def key(self, container: dict, key: str, where: str, kind: str, optional: bool = False) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in container or (optional and container[key] is None):
            if optional:
                return None
            raise self.fail(name, "is missing")
        value = container[key]
        if kind in ("int", "uint64"):
            number = _integral(value, *((_INT_MIN, _INT_MAX) if kind == "int" else (0, 2**64 - 1)))
            if number is None:
                raise self.fail(name, f"is not {'an int' if kind == 'int' else 'a uint64'}")
            container[key] = number  # 2.0 reads as 2, as Swift decodes it
            return number
        ok = {
            "string": lambda v: isinstance(v, str),
            "float": _is_number,
            "object": lambda v: isinstance(v, dict),
            "list": lambda v: isinstance(v, list),
        }[kind](value)
        if not ok:
            raise self.fail(name, f"is not {'an' if kind == 'object' else 'a'} {kind}")
        return value

    def strings(self, container: dict, key: str) -> list:
        values = self.key(container, key, "", "list")
        if not all(isinstance(v, str) for v in values):
            raise self.fail(key, "holds a value that is not a string")
        return values


def validate_manifest(manifest: Any, path: str) -> None:
    """Checks a decoded ``manifest.json``: first that it has every key with the type dataprep's
    reader decodes, then every rule of ``ShardManifest.validate``.

    Raises :class:`ShardError` ``manifestMismatch`` saying what is wrong."""
    shape = _Shape(path)
    manifest = shape.object(manifest, "the manifest")
    for key in ("format", "split"):
        shape.key(manifest, key, "", "string")
    shape.key(manifest, "formatVersion", "", "int")
    class_names = shape.strings(manifest, "classNames")
    spec = shape.key(manifest, "spec", "", "object")
    for key in ("width", "height", "channels"):
        shape.key(spec, key, "spec", "int")
    if shape.key(spec, "resize", "spec", "string") not in RESIZES:
        raise shape.fail("spec.resize", f"is not one of {', '.join(RESIZES)}")
    rescale = shape.key(spec, "rescale", "spec", "float")
    with np.errstate(over="ignore"):
        if not math.isfinite(float(rescale)) or not np.isfinite(np.float32(rescale)):
            raise shape.fail("spec.rescale", "does not fit a float32")
    layout = shape.key(manifest, "layout", "", "object")
    for key in ("height", "width", "channels", "stride", "labelOffset", "parameterCount"):
        shape.key(layout, key, "layout", "int")
    for key in ("sourceOffset", "parametersOffset"):
        shape.key(layout, key, "layout", "int", optional=True)
    parameter_names = shape.strings(manifest, "parameterNames")
    for key in ("copies", "imagesPerCopy", "count"):
        shape.key(manifest, key, "", "int")
    shards = shape.key(manifest, "shards", "", "list")
    for number, shard in enumerate(shards):
        where = f"shards[{number}]"
        shape.object(shard, where)
        for key, kind in (("file", "string"), ("count", "int"), ("bytes", "int"), ("digest", "string")):
            shape.key(shard, key, where, kind)
    shape.strings(manifest, "sources")
    provenance = shape.key(manifest, "provenance", "", "object")
    for key in ("dataset", "tool", "created"):
        shape.key(provenance, key, "provenance", "string")
    options = shape.key(provenance, "options", "provenance", "object")
    if not all(isinstance(v, str) for v in options.values()):
        raise shape.fail("provenance.options", "holds a value that is not a string")
    shape.key(provenance, "seed", "provenance", "uint64", optional=True)
    part = shape.key(manifest, "part", "", "object", optional=True)
    if part is not None:
        for key in ("index", "count", "firstItem", "items", "totalItems", "shardBytes"):
            shape.key(part, key, "part", "int")
    _check_consistency(manifest, class_names, parameter_names, path)


def _check_consistency(manifest: dict, class_names: list, parameter_names: list, path: str) -> None:
    """``ShardManifest.validate``, rule for rule and in its order."""

    def refuse(why: str) -> ShardError:
        return ShardError("manifestMismatch", why, path)

    def plain(name: str, what: str) -> None:
        problem = plain_name_problem(name)
        if problem:
            raise refuse(f"{what} must be a single file or folder name, but {problem}: {name!r}")

    if manifest["format"] != "dataprep-shards":
        raise refuse(f"the format is {manifest['format']!r}, not dataprep-shards")
    plain(manifest["split"], "the split name")
    if not 1 <= len(class_names) <= MAXIMUM_CLASSES:
        raise refuse(f"{len(class_names)} class names; a set has 1...{MAXIMUM_CLASSES}")
    seen = set()
    for name in class_names:
        plain(name, "a class name")
        key = unicodedata.normalize("NFC", name)  # names equal up to normalisation are one name
        if key in seen:
            raise refuse(f"the class name {name!r} is listed twice")
        seen.add(key)
    spec, layout = manifest["spec"], manifest["layout"]
    width, height, channels = spec["width"], spec["height"], spec["channels"]
    if not (1 <= width <= MAXIMUM_SIDE and 1 <= height <= MAXIMUM_SIDE):
        raise refuse(f"the image spec: image size {width}x{height} is out of range")
    if width * height > MAXIMUM_PIXELS:
        raise refuse(f"the image spec: image size {width}x{height} has more than {MAXIMUM_PIXELS} pixels")
    if channels not in (1, 3):
        raise refuse(f"the image spec: channels must be 1 or 3, got {channels}")
    if not float(np.float32(spec["rescale"])) > 0:
        raise refuse(f"the image spec: rescale must be finite and positive, got {spec['rescale']}")
    count = layout["parameterCount"]
    expected = (
        record_layout(height, width, channels, layout.get("sourceOffset") is not None, count)
        if 0 <= count <= MAXIMUM_PARAMETERS
        else None
    )
    actual = {key: layout.get(key) for key in (expected or {})}
    if expected is None or actual != expected:
        raise refuse(f"the record layout does not match the image spec (or has more than {MAXIMUM_PARAMETERS} parameters)")
    if len(parameter_names) != count:
        raise refuse(f"{len(parameter_names)} parameter names for {count} parameters per record")
    for name in parameter_names:
        plain(name, "a parameter name")
    if layout.get("sourceOffset") is None and manifest["sources"]:
        raise refuse(f"{len(manifest['sources'])} sources, but the records carry no source ids")
    copies, images, total = manifest["copies"], manifest["imagesPerCopy"], manifest["count"]
    if copies < 1 or images < 0 or total < 0:
        raise refuse(f"copies {copies}, imagesPerCopy {images}, count {total}: copies must be at least 1")
    if copies * images != total or copies * images > _INT_MAX:
        raise refuse(f"count {total} is not copies × imagesPerCopy ({copies} × {images})")
    names, held = set(), 0
    for shard in manifest["shards"]:
        plain(shard["file"], "a shard's file")
        key = unicodedata.normalize("NFC", shard["file"])
        encoded = shard["file"].encode("utf-8", "surrogatepass")
        if encoded.startswith(b".") or not encoded.endswith(b".dps") or key in names:
            raise refuse(f"the shard file {shard['file']!r} is not a visible .dps name, or is listed twice")
        names.add(key)
        records = shard["count"] * (layout["stride"] + 8)
        if not 1 <= shard["count"] <= total or records > _INT_MAX or shard["bytes"] != HEADER_SIZE + records:
            raise refuse(
                f"the shard {shard['file']} has count {shard['count']} and bytes {shard['bytes']}; a shard holds "
                f"at least one sample and 128 + count × {layout['stride'] + 8} bytes"
            )
        digest = shard["digest"]
        if len(digest) != 16 or any(c not in "0123456789abcdef" for c in digest):
            raise refuse(f"the shard {shard['file']} has the digest {digest!r}, not 16 lowercase hex digits")
        held += shard["count"]
        if held > total:
            raise refuse(f"the shards hold more samples than the manifest's count {total}")
    if held != total:
        raise refuse(f"the shards hold {held} samples in all, the manifest says {total}")
    part = manifest.get("part")
    if part is not None:
        index, parts, first, items, all_items = (part[k] for k in ("index", "count", "firstItem", "items", "totalItems"))
        if not (
            parts >= 1
            and 0 <= index < parts
            and 0 <= all_items <= MAXIMUM_ITEMS
            and first >= 0
            and items >= 0
            and first <= all_items
            and items <= all_items - first
            and images <= items
            and part["shardBytes"] >= 1
        ):
            raise refuse(f"the part {index}/{parts} is inconsistent with itself or with {images} images")
