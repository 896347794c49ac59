"""TypeScript types of the room protocol's catalogue, for the web app (static/src/room).

``python -m rooms.typescript`` writes ``static/src/room/protocol.gen.ts``; ``--check``
only says whether the committed file is current (``npm --prefix static run build`` runs
the generator first, and ``scripts/test`` fails when that changes the committed file).
Each model becomes an interface (every field, inherited ones included; sequenced events
gain ``seq``), enums become unions of their values, and the unions ``ClientMessage``,
``RoomEvent``, ``VolatileEvent``, ``DirectMessage`` and ``ServerMessage`` list the kinds.
"""

from __future__ import annotations

import enum
import sys
import types
import typing
import uuid
from pathlib import Path

from pydantic import BaseModel

from rooms.catalogue import CATALOGUE
from rooms.events import NULLABLE
from rooms.kinds import Catalogue, EventKind

OUTPUT = Path(__file__).resolve().parents[1] / "static" / "src" / "room" / "protocol.gen.ts"
HEADER = """\
// The room protocol's types, generated from the server's catalogue (rooms/catalogue.py)
// by `python -m rooms.typescript` (part of `npm run build`). Do not edit: change the
// models in rooms/messages.py, rooms/events.py or rooms/replies.py and regenerate.
"""


class _Writer:
    """Collects named declarations (interfaces, enum unions) in the order first needed."""

    def __init__(self) -> None:
        self.declared: dict[str, str] = {}
        self.names: dict[object, str] = {}
        self.inputs: set[object] = set()  # client messages: null is as good as absent

    def name(self, thing: type[BaseModel] | type[enum.Enum], name: str | None = None) -> str:
        """The TypeScript name of a model or enum, declaring it on first use."""
        if thing in self.names:
            return self.names[thing]
        chosen = name or thing.__name__
        if chosen in self.declared:
            raise ValueError(f"two protocol types are called {chosen}")
        self.names[thing] = chosen
        self.declared[chosen] = ""  # reserved: nested types follow their parent
        if issubclass(thing, enum.Enum):
            values = " | ".join(_literal(member.value) for member in thing)
            self.declared[chosen] = f"export type {chosen} = {values}\n"
        else:
            self.declared[chosen] = self._interface(chosen, thing, extra="")
        return chosen

    def event(self, kind: EventKind, name: str) -> str:
        """An event kind's interface; sequenced events carry ``seq``."""
        extra = "  seq: number\n" if kind.delivery == "sequenced" else ""
        self.names[kind.model] = name
        self.declared[name] = ""
        self.declared[name] = self._interface(name, kind.model, extra=extra)
        return name

    def _interface(self, name: str, model: type[BaseModel], *, extra: str) -> str:
        doc = (model.__doc__ or "").strip()
        lines = [f"/** {' '.join(doc.split())} */\n"] if doc and not _inherited_doc(model) else []
        lines.append(f"export interface {name} {{\n")
        fields = sorted(model.model_fields.items(), key=lambda item: item[0] != "type")
        for field_name, info in fields:
            text = self.type(info.annotation)
            if info.is_required():
                lines.append(f"  {field_name}: {text}\n")
                continue
            if model not in self.inputs and NULLABLE not in info.metadata:
                text = " | ".join(t for t in text.split(" | ") if t != "null")
            lines.append(f"  {field_name}?: {text}\n")
        lines.append(extra)
        lines.append("}\n")
        return "".join(lines)

    def type(self, annotation: object) -> str:
        """The TypeScript type of a Python annotation."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.type(args[0])
        if origin is typing.Literal:
            return " | ".join(_literal(arg) for arg in args)
        if origin in (typing.Union, types.UnionType):
            return " | ".join(self.type(arg) for arg in args)
        if origin is list:
            inner = self.type(args[0])
            return f"({inner})[]" if " | " in inner else f"{inner}[]"
        if origin is dict:
            return f"Record<string, {self.type(args[1])}>"
        if annotation is type(None):
            return "null"
        if annotation in (str, uuid.UUID):
            return "string"
        if annotation in (int, float):
            return "number"
        if annotation is bool:
            return "boolean"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum):
            return self.name(annotation)
        if annotation is typing.Any:
            return "unknown"
        raise TypeError(f"no TypeScript type for {annotation!r}")


def _inherited_doc(model: type[BaseModel]) -> bool:
    return any(model.__doc__ == base.__doc__ for base in model.__mro__[1:])


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "true" if value is True else "false" if value is False else str(value)


def _event_name(model: type[BaseModel]) -> str:
    name = model.__name__
    return name if name.endswith("Event") else f"{name}Event"


def render(catalogue: Catalogue = CATALOGUE) -> str:
    """The generated module's text."""
    writer = _Writer()
    writer.inputs = {kind.model for kind in catalogue.messages.values()}
    unions: dict[str, list[str]] = {
        "ClientMessage": [writer.name(kind.model) for kind in catalogue.messages.values()],
        "RoomEvent": [],
        "VolatileEvent": [],
        "DirectMessage": [writer.name(kind.model) for kind in catalogue.direct.values()],
    }
    for kind in catalogue.events.values():
        union = "RoomEvent" if kind.delivery == "sequenced" else "VolatileEvent"
        unions[union].append(writer.event(kind, _event_name(kind.model)))
    parts = [HEADER]
    parts.extend(f"\n{text}" for text in writer.declared.values())
    for union, members in unions.items():
        listed = "".join(f"\n  | {member}" for member in members)
        parts.append(f"\nexport type {union} ={listed}\n")
    parts.append(
        "\nexport type ServerMessage = RoomEvent | VolatileEvent | DirectMessage\n"
        "export type ClientMessageType = ClientMessage['type']\n"
        "export type RoomEventType = RoomEvent['type']\n"
    )
    return "".join(parts)


def main(argv: list[str]) -> int:
    """Write the generated types, or with ``--check`` report whether they are current."""
    text = render()
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if "--check" in argv:
        if current != text:
            print(f"{OUTPUT} is stale: run python -m rooms.typescript", file=sys.stderr)
            return 1
        return 0
    if current != text:
        OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
