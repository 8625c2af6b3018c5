"""The crawl queue's messages, declared once: stage 3 and the stale detector build them, the queue
port sends each as its `model_dump_json()`, the crawl worker parses them at its edge (a Lambda
record's body is `Json[QueueMessage]`) and the pipeline takes them typed.

Wire format (compact JSON, fields in this order):

- item message: `{"type": "item", "run_id", "item_id", "url", "company", "hints"}`. It names one
  item of a run; `url`, `company` and `hints` are labels for people reading the queue: the worker
  reads what to crawl from the item row, so a label never rejects a message (one that is not
  what it should be reads as unset). A body without `type` is an item.
- listing message: `{"type": "listing", "run_id", "company_index", "company"}`: stage 3 of a run,
  one company (`company` is a label).

Ids are JSON integers (not strings, floats or booleans); any other field is ignored, so messages
sent by an older or newer release still parse. A body that is not JSON, not an object, of another
`type`, or without integer ids does not parse: the worker drops it (retrying cannot help).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)

ITEM = "item"
LISTING = "listing"


def _label(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A label never rejects a message: one that is not what it should be reads as unset."""
    try:
        return handler(value)
    except ValidationError:
        return {} if info.field_name == "hints" else None


class ItemMessage(BaseModel):
    """Crawl one item of an ingesting run (stage 4)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["item"] = ITEM
    run_id: StrictInt
    item_id: StrictInt
    url: str | None = None
    company: str | None = None
    hints: dict[str, Any] = Field(default_factory=dict)

    _labels = field_validator("url", "company", "hints", mode="wrap")(_label)


class ListingMessage(BaseModel):
    """List one company of an archiving run (stage 3)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["listing"] = LISTING
    run_id: StrictInt
    company_index: StrictInt
    company: str | None = None

    _labels = field_validator("company", mode="wrap")(_label)


def _kind(value: Any) -> str | None:
    """The tag of a body: its `type`, "item" when it has none; None for a body of no kind."""
    if isinstance(value, BaseModel):
        return getattr(value, "type", None)
    if not isinstance(value, dict):
        return None
    kind = value.get("type", ITEM)
    return kind if isinstance(kind, str) else None


QueueMessage = Annotated[
    Annotated[ItemMessage, Tag(ITEM)] | Annotated[ListingMessage, Tag(LISTING)],
    Discriminator(_kind),
]

_ADAPTER: TypeAdapter[ItemMessage | ListingMessage] = TypeAdapter(QueueMessage)


def parse_message(body: str | bytes) -> ItemMessage | ListingMessage:
    """A message body as its model; pydantic.ValidationError for a body that does not parse."""
    return _ADAPTER.validate_json(body)
