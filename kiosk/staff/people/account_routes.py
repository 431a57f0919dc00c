"""The URLs of a resident's account page (kiosk.staff.people.account), added to the console's
blueprint in one call so that its URL list stays one line longer, not twenty."""

from __future__ import annotations

from flask import Blueprint

from kiosk.staff.people import account


def register(bp: Blueprint) -> None:
    base = "/residents/<id:resident_id>"
    bp.add_url_rule(f"{base}/account", "resident_account", account.account)
    for path, endpoint, view in (
        ("card/read", "resident_card_read", account.read_card),
        ("card", "resident_card_type", account.type_card),
        ("card/unbind", "resident_card_unbind", account.unbind_card),
        ("deactivate", "resident_deactivate", account.deactivate),
        ("reactivate", "resident_reactivate", account.reactivate),
        ("merge", "resident_merge", account.merge),
    ):
        bp.add_url_rule(f"{base}/{path}", endpoint, view, methods=["POST"])
    bp.add_url_rule(
        f"{base}/card/binds/<id:bind_id>.json", "resident_card_bind_status", account.bind_status
    )
