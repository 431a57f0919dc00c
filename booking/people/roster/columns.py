"""The roster's columns: the names a community office gives them, in Chinese or English, and
how a cell's text becomes a resident's detail.

Offices keep the roster in Excel sheets made by hand, so a header is matched loosely: case,
spaces, a trailing ``*`` and a "(必填)" note are ignored, and each column has the names such
sheets use (手机号, 手机号码, 联系电话…). The first name of each is what an export writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One detail of a resident and the headers it goes by; ``key`` is the field name of
    booking.people.enrolment.EnrolmentDetails."""

    key: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def header(self) -> str:
        """The header an export writes (the first, Chinese, name)."""
        return self.headers[0]


NAME = Column("name", ("姓名", "名字", "居民姓名", "name", "full name"), required=True)
PHONE = Column(
    "phone",
    ("手机号", "手机", "手机号码", "电话", "联系电话", "phone", "mobile", "phone number"),
    required=True,
)
BIRTH_YEAR = Column(
    "birth_year",
    ("出生年份", "出生年", "出生日期", "出生年月", "year of birth", "birth year", "date of birth"),
)
BUILDING = Column("building", ("楼栋", "楼号", "楼", "栋", "building"))
UNIT = Column("unit", ("单元", "单元号", "unit"))
ROOM = Column("room", ("室号", "房号", "房间号", "室", "门牌号", "room"))
LIVES_ALONE = Column("lives_alone", ("独居", "是否独居", "lives alone"))
CONTACT_NAME = Column(
    "emergency_contact_name",
    ("紧急联系人", "紧急联系人姓名", "emergency contact", "emergency contact name"),
)
CONTACT_PHONE = Column(
    "emergency_contact_phone",
    ("紧急联系人电话", "紧急联系电话", "紧急联系人手机", "emergency contact phone"),
)
LANGUAGE = Column(
    "preferred_language",
    ("常用语言", "首选语言", "语言", "偏好语言", "preferred language", "language"),
)

COLUMNS: tuple[Column, ...] = (
    NAME, PHONE, BIRTH_YEAR, BUILDING, UNIT, ROOM, LIVES_ALONE, CONTACT_NAME, CONTACT_PHONE,
    LANGUAGE,
)  # fmt: skip
BY_KEY = {column.key: column for column in COLUMNS}

# Notes a header may carry that say nothing about which column it is.
_HEADER_NOISE = re.compile(r"[\s*＊:：]|[(（](必填|选填|可选|required|optional)[)）]")


def header_key(text: str) -> str:
    """A header as compared: "手机号码（必填）" and " Phone* " are 手机号码 and phone."""
    return _HEADER_NOISE.sub("", text.replace("\u3000", " ")).lower()


_BY_HEADER = {header_key(name): column for column in COLUMNS for name in column.headers}


def column_for(header: str) -> Column | None:
    """The column a header names, or None for one the roster does not know."""
    return _BY_HEADER.get(header_key(header))


# --- cell text to values -----------------------------------------------------------------------

YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "独居"})
NO = frozenset({"否", "n", "no", "false", "0", "×", "非独居", ""})
LANGUAGE_NAMES = {
    "zh_CN": frozenset(
        {"zh_cn", "zh-cn", "zh", "中文", "汉语", "普通话", "简体中文", "chinese", ""}
    ),
    "en": frozenset({"en", "english", "英文", "英语"}),
}
# A year alone (1950, 1950年), or the year of a date (1950-03-02, 1950/3/2, 1950年3月2日,
# 1950.3): a roster's 出生日期 column is read for its year, the only part kept.
_YEAR = re.compile(r"^(\d{4})(?:年|(?:[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?月?)?(?:\s+[\d:]+)?)$")


class NotAValue(ValueError):
    """A cell's text that is not one of the values its column takes."""


def parse_year(text: str) -> int | None:
    """The year of birth in a cell, None for an empty one; :class:`NotAValue` otherwise."""
    if not text:
        return None
    match = _YEAR.match(text)
    if match is None:
        raise NotAValue(text)
    return int(match.group(1))


def parse_yes_no(text: str) -> bool:
    """是/否 and the ways sheets write it; an empty cell is 否."""
    key = text.strip().lower()
    if key in YES:
        return True
    if key in NO:
        return False
    raise NotAValue(text)


def parse_language(text: str) -> str:
    """A language as the kiosk knows it (zh_CN, en); an empty cell is Chinese."""
    key = text.strip().lower()
    for language, names in LANGUAGE_NAMES.items():
        if key in names:
            return language
    raise NotAValue(text)


def language_label(language: str) -> str:
    """How an export writes a language: words an office reads, that import reads back."""
    return {"zh_CN": "中文", "en": "English"}.get(language, language)


def yes_no_label(value: bool) -> str:
    return "是" if value else "否"
