"""The console's list pages whose rows each take an action with a small form (refuse a
booking with a reason, lift a suspension): a form per row, and the action run so that a
rule's refusal shows the list again instead of failing the request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, NotFound
from kiosk.extensions import clock, database

F = TypeVar("F", bound=FlaskForm)


def row_forms(row_ids: Iterable[int], make: Callable[[int], F], failed: tuple[int, F] | None
              ) -> dict[int, F]:  # fmt: skip
    """A fresh form for each row; the row whose POST was refused keeps the form it sent, so
    the input and its errors show again where the member of staff left them."""
    forms = {row_id: make(row_id) for row_id in row_ids}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    return forms


def run_or_refusal(action: Callable[[Session, datetime], None]) -> DomainError | None:
    """Run a row's action (with its audit entry) in one write transaction at the clock's
    now, and give back a rule's refusal, if any, for the page to show. Nothing found stays a
    404: the row is gone, there is no list to show it on."""
    now = clock().now()
    try:
        with database().write() as session:
            action(session, now)
    except NotFound:
        raise
    except DomainError as error:
        return error
    return None


def answer_row_form(
    row_id: int,
    form: F,
    action: Callable[[Session, datetime], None],
    *,
    page: Callable[[tuple[int, F] | None, int], ResponseReturnValue],
    show_error: Callable[[F, DomainError], None],
    done: str,
    back: str,
    refused: Callable[[DomainError], ResponseReturnValue | None] = lambda _error: None,
) -> ResponseReturnValue:
    """The whole POST of a row's form: check the form, run the action, then either show the
    list again with the errors beside the form (``refused`` may answer a refusal its own way
    first) or say it is done and go back to the list."""
    if not form.validate_on_submit():
        return page((row_id, form), 400)
    error = run_or_refusal(action)
    if error is not None:
        answer = refused(error)
        if answer is not None:
            return answer
        show_error(form, error)
        return page((row_id, form), error.status)
    flash(done, "success")
    return redirect(back, code=303)
