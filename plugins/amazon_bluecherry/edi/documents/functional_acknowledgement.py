"""997 Functional Acknowledgement (both directions)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

from amazon_bluecherry.edi.documents.base import (
    Code,
    EnvelopeRef,
    Text,
    _Document,
    _Model,
)
from amazon_bluecherry.edi.documents.codes import (
    GroupAcknowledgementCode,
    SetAcknowledgementCode,
)


class ElementError(_Model):
    """AK4: an element in error."""

    element_position: PositiveInt
    component_position: PositiveInt | None = None
    element_reference: Text | None = None  # data element number
    code: Text
    bad_value: Text | None = None


class SegmentError(_Model):
    """AK3 loop: a segment in error, with its element errors."""

    segment_id: Code
    segment_position: PositiveInt  # counted from ST = 1
    loop_id: Text | None = None
    code: Text | None = None
    element_errors: list[ElementError] = Field(default_factory=list)


class SetAcknowledgement(_Model):
    """AK2 loop: the verdict on one transaction set."""

    set_id: Code
    control_number: Text
    implementation_reference: Text | None = None  # 5010
    segment_errors: list[SegmentError] = Field(default_factory=list)
    status: SetAcknowledgementCode
    error_codes: list[Text] = Field(default_factory=list, max_length=5)


class FunctionalAcknowledgement(_Document):
    """997 Functional Acknowledgement (both directions)."""

    set_id: ClassVar[str] = "997"
    functional_id: ClassVar[str] = "FA"

    type: Literal["functional_acknowledgement"] = "functional_acknowledgement"
    acknowledged_functional_id: Code
    acknowledged_group_control_number: Text
    acknowledged_version: Text | None = None  # 5010
    sets: list[SetAcknowledgement] = Field(default_factory=list)
    group_status: GroupAcknowledgementCode
    sets_included: NonNegativeInt
    sets_received: NonNegativeInt
    sets_accepted: NonNegativeInt
    group_error_codes: list[Text] = Field(default_factory=list, max_length=5)
    envelope: EnvelopeRef | None = None

    @model_validator(mode="after")
    def _counts(self) -> FunctionalAcknowledgement:
        if self.sets_accepted > self.sets_received:
            raise ValueError(f"AK904 accepted {self.sets_accepted} > AK903 received {self.sets_received}")
        return self
