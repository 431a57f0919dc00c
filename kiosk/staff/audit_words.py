"""The audit log in the staff's words: the log stores stable codes ("resident.enrolled",
"staff:zhao", "resident:12", "purpose": "enrol"), the console shows what they mean.

Every action any module writes through :mod:`booking.core.audit` has its words here
(tests/staff/test_audit_log_in_words.py scans the sources for them); a code written after this
map was made reads "Other action", with the code beside it in small type. The details are put
into words by :mod:`kiosk.staff.audit_details`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.people.models.resident_codes import CodePurpose
from booking.people.models.sign_in_failures import SignInKind

ACTION: dict[str, LazyString] = {
    "admin.device_credentials_revoked": _l("Device's broker password revoked"),
    "admin.device_credentials_rotated": _l("Device given a new broker password"),
    "admin.device_registered": _l("Device registered"),
    "admin.item_added": _l("Tool added"),
    "admin.item_changed": _l("Tool changed"),
    "admin.lending_policy_changed": _l("Lending rules changed"),
    "admin.seat_added": _l("Seat added"),
    "admin.seat_changed": _l("Seat changed"),
    "admin.seats_added": _l("Seats added"),
    "admin.site_changed": _l("Centre details changed"),
    "admin.space_added": _l("Space added"),
    "admin.space_changed": _l("Space changed"),
    "admin.space_restored": _l("Space back in use"),
    "admin.space_retired": _l("Space retired"),
    "admin.space_rules_changed": _l("Space's booking rules changed"),
    "admin.tool_type_added": _l("Kind of tool added"),
    "admin.tool_type_changed": _l("Kind of tool changed"),
    "admin.tool_type_restored": _l("Kind of tool back in use"),
    "admin.tool_type_retired": _l("Kind of tool retired"),
    "alert.acknowledged": _l("Alert acknowledged"),
    "alert.resolved": _l("Alert resolved"),
    "alert.resolved_by_itself": _l("Alert resolved by itself"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "api_token.used": _l("API token used"),
    "booking.approve": _l("Booking approved"),
    "booking.booked_for_resident": _l("Booked for a resident"),
    "booking.cancel": _l("Booking cancelled"),
    "booking.cancelled_for_resident": _l("Booking cancelled for a resident"),
    "booking.check_in": _l("Checked in"),
    "booking.create": _l("Booking made"),
    "booking.reject": _l("Booking refused"),
    "booking.suspension_lifted": _l("Booking suspension lifted"),
    "closure.declare": _l("Closure declared"),
    "device.paired": _l("Kiosk reader paired"),
    "device.pairing_offered": _l("Kiosk reader pairing offered"),
    "device.session_counter_reset": _l("Device's message counter reset"),
    "health.consent_given": _l("Consent to health readings given"),
    "health.consent_withdrawn": _l("Consent to health readings withdrawn"),
    "health.exported": _l("Health readings exported"),
    "health.readings_purged": _l("Old health readings deleted"),
    "health.settings_changed": _l("Health settings changed"),
    "health.viewed": _l("Health readings viewed"),
    "kiosk.screen_set_up": _l("A browser set up as this centre's kiosk screen"),
    "lending.back_in_service": _l("Back in service"),
    "lending.hold_for_resident": _l("Held tool opened for a resident"),
    "lending.lent": _l("Lent"),
    "lending.locker_check_requested": _l("Locker asked to check its compartments"),
    "lending.lost": _l("Marked lost"),
    "lending.mismatch_cleared": _l("Locker mismatch cleared"),
    "lending.mismatch_resolved": _l("Locker mismatch resolved"),
    "lending.pickup_cancelled_for_resident": _l("Pickup cancelled for a resident"),
    "lending.pickup_for_resident": _l("Compartment opened for a resident's pickup"),
    "lending.queue": _l("Joined the queue for a tool"),
    "lending.queued_for_resident": _l("Queued for a tool for a resident"),
    "lending.renew": _l("Loan renewed"),
    "lending.renewed": _l("Renewed"),
    "lending.reservation_cancel": _l("Tool reservation cancelled"),
    "lending.reservation_cancelled_for_resident": _l("Tool reservation cancelled for a resident"),
    "lending.reserve": _l("Tool reserved"),
    "lending.reserved_for_resident": _l("Tool reserved for a resident"),
    "lending.returned": _l("Returned"),
    "lending.suspended": _l("Borrowing suspended"),
    "lending.suspension_lifted": _l("Borrowing suspension lifted"),
    "locker.opened_for_maintenance": _l("Compartment opened for maintenance"),
    "messages.preference": _l("Message preferences changed"),
    "resident.calendar_feed_made": _l("Calendar link made"),
    "resident.calendar_feed_revoked": _l("Calendar link revoked"),
    "resident.card_bind_refused": _l("Card not bound"),
    "resident.card_bind_started": _l("Card binding started"),
    "resident.card_bound": _l("Card bound"),
    "resident.card_unbound": _l("Card unbound"),
    "resident.deactivated": _l("Account deactivated"),
    "resident.details_changed": _l("Resident's details changed"),
    "resident.enrolled": _l("Resident enrolled"),
    "resident.first_visit": _l("First visit from another centre of the district"),
    "resident.erased": _l("Resident's data erased"),
    "resident.merged": _l("Accounts merged"),
    "resident.pin_changed": _l("PIN changed"),
    "resident.reactivated": _l("Account reactivated"),
    "resident.roster_exported": _l("Roster exported"),
    "resident.roster_imported": _l("Roster imported"),
    "resident.sign_in_failures_cleared": _l("Wrong PIN count cleared"),
    "resident.signed_in_with_code": _l("Signed in with a code"),
    "series.create": _l("Repeating booking made"),
    "series.end": _l("Repeating booking ended"),
    "series.exception": _l("One date of a repeating booking changed"),
    "staff.account_added": _l("Staff account added"),
    "staff.account_disabled": _l("Staff account disabled"),
    "staff.account_enabled": _l("Staff account enabled again"),
    "staff.password_set": _l("Staff password set by an admin"),
    "staff.site_granted": _l("Staff account given another centre"),
    "staff.site_revoked": _l("Centre taken away from a staff account"),
    "staff.site_switched": _l("Console switched to another centre"),
}

CODE_PURPOSE: dict[str, LazyString] = {
    CodePurpose.ENROL.value: _l("first PIN"),
    CodePurpose.PIN_RESET.value: _l("forgotten PIN"),
    CodePurpose.SIGN_IN.value: _l("sign-in by phone"),
}
SIGN_IN_KIND: dict[str, LazyString] = {
    SignInKind.RESIDENT.value: _l("Resident"),
    SignInKind.STAFF.value: _l("Staff"),
}

# Codes built from a value, as the source writes them ("{}" is the value): the words, with
# "%(value)s" put into words through the map beside them.
PATTERNED: dict[str, tuple[LazyString, Mapping[str, LazyString]]] = {
    "resident.code_issued.{}": (_l("One-time code issued (%(value)s)"), CODE_PURPOSE),
    "resident.pin_set_with_code.{}": (_l("PIN chosen with a code (%(value)s)"), CODE_PURPOSE),
    "{}.sign_in_failed": (_l("Wrong sign-in: %(value)s"), SIGN_IN_KIND),
}

OTHER_ACTION = _l("Other action")


@dataclass(frozen=True)
class Words:
    """What a cell shows: the words, and the stored code in small type when there are none."""

    text: str
    code: str = ""


def action_words(action: str) -> Words:
    if action in ACTION:
        return Words(str(ACTION[action]))
    for template, (label, values) in PATTERNED.items():
        head, _sep, tail = template.partition("{}")
        middle = action[len(head) : len(action) - len(tail)]
        if action.startswith(head) and action.endswith(tail) and middle in values:
            return Words(str(label % {"value": values[middle]}))
    return Words(str(OTHER_ACTION), action)


@dataclass(frozen=True)
class Names:
    """The people the page's entries name: staff by username and by number, residents by
    number (their masked name, as the console shows them elsewhere)."""

    staff_by_username: Mapping[str, str]
    staff_by_id: Mapping[str, str]
    residents: Mapping[str, str]

    def staff(self, who: str) -> str:
        name = self.staff_by_username.get(who) or self.staff_by_id.get(who)
        return name or str(_("Staff %(name)s", name=who))

    def resident(self, number: str) -> str:
        masked = self.residents.get(number)
        if masked:
            return str(_("Resident %(name)s (no. %(number)s)", name=masked, number=number))
        return str(_("Resident no. %(number)s", number=number))

    def resident_named(self, number: str) -> str:
        """A resident a detail names, beside the label "Resident": masked name and number."""
        masked = self.residents.get(number)
        if masked:
            return str(_("%(name)s (no. %(number)s)", name=masked, number=number))
        return str(_("No. %(number)s", number=number))


SYSTEM_JOBS: dict[str, LazyString] = {
    "retention": _l("The system (deleting old records)"),
    "overdue": _l("The system (overdue loans)"),
    "demo": _l("The system (demo data)"),
}


def actor_words(actor: str, names: Names) -> Words:
    kind, _sep, who = actor.partition(":")
    if kind == "staff" and who:
        return Words(names.staff(who))
    if kind == "resident" and who:
        return Words(names.resident(who))
    if kind == "system":
        return Words(str(SYSTEM_JOBS.get(who, _l("The system"))))
    if kind == "api_token" and who:
        return Words(str(_("API token %(number)s", number=who)))
    if kind == "device" and who:
        return Words(str(_("Device %(device)s", device=who)))
    if kind == "client" and who:
        return Words(str(_("A console or kiosk at %(address)s", address=who)))
    if kind == "kiosk":
        return Words(str(_("A kiosk")))
    return Words(str(_("Someone else")), actor)


# A subject "kind:number": the thing's kind in words, numbered.
SUBJECT: dict[str, LazyString] = {
    "alert": _l("Alert no. %(number)s"),
    "api_token": _l("API token %(number)s"),
    "booking": _l("Booking no. %(number)s"),
    "closure": _l("Closure no. %(number)s"),
    "device": _l("Device %(number)s"),
    "door_session": _l("Locker opening no. %(number)s"),
    "item": _l("Tool no. %(number)s"),
    "loan": _l("Loan no. %(number)s"),
    "mismatch": _l("Locker mismatch no. %(number)s"),
    "phone": _l("Phone %(number)s"),
    "roster": _l("Roster file %(number)s"),
    "seat": _l("Seat no. %(number)s"),
    "series": _l("Repeating booking no. %(number)s"),
    "site": _l("Centre %(number)s"),
    "space": _l("Space no. %(number)s"),
    "staff": _l("Staff account %(number)s"),
    "tool_reservation": _l("Tool reservation no. %(number)s"),
    "tool_type": _l("Kind of tool no. %(number)s"),
}


def subject_words(subject: str, names: Names) -> Words:
    if not subject:
        return Words("")
    kind, _sep, which = subject.partition(":")
    if kind == "resident" and which:
        return Words(names.resident(which))
    if kind in SUBJECT and which:
        return Words(str(SUBJECT[kind] % {"number": which}))
    return Words(str(_("Something else")), subject)
