"""A kind of tool a centre lends (a drill, a folding ladder): its names, its loan period, its
safety note."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from booking.lending.models.tools import Item


class ToolType(Base):
    """A kind of tool the station lends (电钻 electric drill), with its lending policy."""

    __tablename__ = "tool_types"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    safety_note_zh: Mapped[str] = mapped_column(Text, default="")
    safety_note_en: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(40), default="tool")
    loan_days: Mapped[int] = mapped_column(default=3)
    # Retired by an admin: lent no more and left out of the catalogue; its items' history stays.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[Item]] = relationship(back_populates="tool_type")
