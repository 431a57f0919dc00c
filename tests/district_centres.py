"""More centres for the district overview's tests: each alike, with something of every figure
the overview shows, and a district admin to see them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.models.sites import Site
from booking.health.operations import ALERT_FOLLOW_UP
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people import residents, staff
from booking.people.models.staff import StaffRole
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from devices.models.device import Device, DeviceKind

DISTRICT_ADMIN = "quyu"
DISTRICT_PASSWORD = "linli-district-2026"
ITEM_STATUS = {
    LoanStatus.RETURNED: ItemStatus.AVAILABLE,
    LoanStatus.ACTIVE: ItemStatus.ON_LOAN,
    LoanStatus.OVERDUE: ItemStatus.OVERDUE,
}
TOWNS = ("安亭", "宝山", "城桥", "大场", "枫泾", "高桥", "华漕", "江桥", "金山", "罗店")


def add_district_admin(session: Session, *, now: datetime, site_slug: str = "xinhua") -> None:
    """``quyu``, a district admin whose home is ``site_slug``."""
    site_id = session.scalar(select(Site.id).where(Site.slug == site_slug))
    assert site_id is not None
    staff.create_staff(
        session, site_id=site_id, username=DISTRICT_ADMIN, display_name="钱区长",
        password=DISTRICT_PASSWORD, role=StaffRole.DISTRICT_ADMIN, now=now,
    )  # fmt: skip


def add_centres(session: Session, *, now: datetime, count: int, first: int = 0) -> list[int]:
    """``count`` centres ``c000``…, each (in Shanghai) with 6 study seats and two activity
    rooms; today one seat in use, one room booked and a loan lent; a week ago a used seat, a
    loan (returned since) and an urgent alert, still open; an hour ago a blood-pressure
    follow-up. Centre ``n`` also has ``n % 3`` overdue loans out (lent a week ago), and two
    lockers of which ``n % 2`` is offline."""
    zone = ZoneInfo("Asia/Shanghai")
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(9), tzinfo=zone)
    week_ago = start - timedelta(days=7)
    phones = int(session.scalar(select(func.count(Site.id))) or 0) * 100
    made = []
    for n in range(first, first + count):
        name = TOWNS[n % len(TOWNS)] + ("" if n < len(TOWNS) else str(n // len(TOWNS)))
        site = Site(slug=f"c{n:03d}", name_zh=f"{name}社区中心", name_en=f"Town {n} Centre")
        session.add(site)
        session.flush()
        study = Space(site_id=site.id, code="study", kind=SpaceKind.STUDY, name_zh="自习室",
                      name_en="Study room", capacity=6)  # fmt: skip
        study.seats = [Seat(number=k) for k in range(1, 7)]
        rooms = [
            Space(site_id=site.id, code=code, kind=SpaceKind.ACTIVITY, name_zh=zh, name_en=en,
                  capacity=12)
            for code, zh, en in (("dance", "舞蹈室", "Dance room"), ("chess", "棋牌室", "Chess"))
        ]  # fmt: skip
        session.add_all([study, *rooms])
        tool = ToolType(site_id=site.id, code="drill", name_zh="电钻", name_en="Drill")
        session.add(tool)
        session.flush()
        resident = residents.register_resident(
            session, site_id=site.id, name=f"居民{n}", phone=f"1370{phones + n:07d}",
            pin="275139", now=now - timedelta(days=30),
        )  # fmt: skip
        common = {"site_id": site.id, "resident_id": resident.id, "created_at": week_ago}
        session.add_all(
            [
                Booking(space_id=study.id, seat_id=study.seats[0].id,
                        status=BookingStatus.CHECKED_IN, starts_at=start,
                        ends_at=start + timedelta(hours=3), checked_in_at=start, **common),
                Booking(space_id=study.id, seat_id=study.seats[1].id,
                        status=BookingStatus.COMPLETED, starts_at=week_ago,
                        ends_at=week_ago + timedelta(hours=2), checked_in_at=week_ago, **common),
                Booking(space_id=rooms[0].id, status=BookingStatus.CONFIRMED,
                        starts_at=start + timedelta(hours=5), ends_at=start + timedelta(hours=6),
                        **common),
            ]
        )  # fmt: skip
        # A returned loan, one out and in time, and n % 3 overdue.
        statuses = [LoanStatus.RETURNED, LoanStatus.ACTIVE] + [LoanStatus.OVERDUE] * (n % 3)
        for k, status in enumerate(statuses):
            item = Item(site_id=site.id, tool_type_id=tool.id, asset_tag=f"C{n:03d}-{k}",
                        status=ITEM_STATUS[status])  # fmt: skip
            session.add(item)
            session.flush()
            session.add(
                Loan(site_id=site.id, item_id=item.id, tool_type_id=tool.id,
                     resident_id=resident.id, channel=LoanChannel.COUNTER, status=status,
                     started_at=week_ago if k != 1 else now - timedelta(hours=1),
                     due_at=week_ago + timedelta(days=3) if k != 1 else now + timedelta(days=3),
                     returned_at=week_ago + timedelta(days=1) if k == 0 else None,
                     overdue_since=week_ago + timedelta(days=3) if k > 1 else None)
            )  # fmt: skip
        session.add_all(
            [
                StaffAlert(site_id=site.id, kind="bp.urgent", severity=AlertSeverity.URGENT,
                           summary="Blood pressure measured", created_at=week_ago),
                StaffAlert(site_id=site.id, kind=ALERT_FOLLOW_UP, severity=AlertSeverity.WARNING,
                           summary="Visit the resident", created_at=now - timedelta(hours=1)),
            ]
        )  # fmt: skip
        for k in range(2):
            session.add(
                Device(site_id=site.id, device_id=f"c{n:03d}-locker-{k}", kind=DeviceKind.LOCKER,
                       mqtt_password_hash="-", online=not (k == 0 and n % 2), created_at=now)
            )  # fmt: skip
        made.append(site.id)
    session.flush()
    return made
