"""The pages a read leads to besides the card's sign-in: the result in words (checked in, a
code not known here, …), and the waiting screen of a return started by a loan slip."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask import session as browser_session
from flask.typing import ResponseReturnValue

from kiosk.touch.lending import door
from kiosk.touch.reader import acts
from kiosk.touch.reader import words as reader_words


def result() -> ResponseReturnValue:
    """What the last read did, said in Chinese and then in English, once."""
    said = browser_session.pop(acts.RESULT_KEY, None)
    if not isinstance(said, dict):
        return redirect(url_for("touch.home"))
    return render_template("touch/reader_result.html", said=said)


def _granted(door_session_id: int) -> int:
    """The resident whose return this screen started from a loan slip; 404 for any other."""
    grant = browser_session.get(acts.DOOR_KEY)
    if not isinstance(grant, dict) or grant.get("door") != door_session_id:
        abort(404)
    resident_id = grant.get("resident")
    if not isinstance(resident_id, int):
        abort(404)
    return resident_id


def _finished(state: dict[str, object]) -> dict[str, object]:
    if "done_url" in state:
        # The locker has the tool back and the loan has ended: say so here (the condition
        # question needs a signed-in resident; the desk asks it when it matters).
        browser_session.pop(acts.DOOR_KEY, None)
        state["done_url"] = acts.say(reader_words.RETURN_DONE, ok=True)
    return state


def return_page(door_session_id: int) -> ResponseReturnValue:
    state, found = door.carried_on(_granted(door_session_id), door_session_id, "return")
    if "done_url" in _finished(state):
        return redirect(str(state["done_url"]))
    return render_template(
        "touch/tools_wait.html",
        service=door.SERVICE,
        state=state,
        locker=door.waiting_locker_name(found),
        compartment=found.compartment,
        purpose="return",
        scanned=True,
        status_url=url_for("touch.reader_return_status", door_session_id=door_session_id),
    )


def return_status(door_session_id: int) -> ResponseReturnValue:
    state, _ = door.carried_on(_granted(door_session_id), door_session_id, "return")
    return _finished(state)
