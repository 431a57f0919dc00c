"""The text of each kind's SMS template, in both languages, as registered with the provider.

An SMS provider in China sends only templates it has approved; the adapter sends the template
id and these parameters ({1}, {2}, ... in order). The log channel of the demo renders the text
here. No template has a place for a blood-pressure value or a PIN.
"""

from __future__ import annotations

from booking.messages import kinds

Template = tuple[str, str]  # (zh_CN, en)

GENERIC: Template = (
    "【邻里】您有一条新通知，请到中心自助机查看。",
    "[Linli] You have a new notice: please read it at the centre's kiosk.",
)

TEMPLATES: dict[str, Template] = {
    "booking_reminder": (
        "【邻里】提醒：您预约的{1}将于{2}开始。",
        "[Linli] Reminder: your booking of {1} starts at {2}.",
    ),
    "booking_approved": (
        "【邻里】您预约的{1}（{2}）已通过审核。",
        "[Linli] Your booking of {1} ({2}) was approved.",
    ),
    "booking_rejected": (
        "【邻里】您预约的{1}（{2}）未通过审核，原因：{3}。",
        "[Linli] Your booking of {1} ({2}) was not approved: {3}.",
    ),
    "closure": (
        "【邻里】{1}因临时关闭，您在{2}的预约已取消，原因：{3}。",
        "[Linli] {1} is closed: your booking at {2} is cancelled ({3}).",
    ),
    "waitlist_offer": (
        "【邻里】{1}（{2}）有空位了，为您保留到{3}，请到自助机确认。",
        "[Linli] A place in {1} ({2}) is free: it is held for you until {3}. "
        "Accept it at the kiosk.",
    ),
    "waitlist_ended": (
        "【邻里】{1}已停止开放，您的候补已结束。",
        "[Linli] {1} is no longer offered: your place on its waiting list has ended.",
    ),
    "no_show": (
        "【邻里】您预约的{1}（{2}）未签到，已记一次爽约。",
        "[Linli] You did not check in to {1} ({2}): a no-show was recorded.",
    ),
    "suspended": (
        "【邻里】因多次爽约，您的预约权限暂停至{1}。",
        "[Linli] After several no-shows you cannot book until {1}.",
    ),
    "tool_reservation_ready": (
        "【邻里】您预约的{1}已为您保留到{2}，请到中心自助机取用。",
        "[Linli] The {1} you reserved is held for you until {2}: collect it at the kiosk.",
    ),
    "tool_queue_ready": (
        "【邻里】您排队等候的{1}已归还，为您保留到{2}，请到中心自助机取用。",
        "[Linli] The {1} you queued for is back and held for you until {2}: collect it at "
        "the kiosk.",
    ),
    "tool_no_show": (
        "【邻里】为您保留的{1}未被取用，保留已结束。",
        "[Linli] The {1} held for you was not collected: the hold has ended.",
    ),
    kinds.LOAN_DUE_TOMORROW: (
        "【邻里】您借的{1}明天（{2}）到期，请按时归还。",
        "[Linli] The {1} you borrowed is due back tomorrow ({2}).",
    ),
    kinds.LOAN_OVERDUE: (
        "【邻里】您借的{1}已于{2}到期，请尽快归还，其他邻居在等。",
        "[Linli] The {1} you borrowed was due back on {2}: please return it, "
        "neighbours are waiting.",
    ),
    kinds.LOAN_ESCALATED: (
        "【邻里】您借的{1}逾期已久，工作人员会与您联系。",
        "[Linli] The {1} you borrowed is long overdue: staff will contact you.",
    ),
    kinds.LENDING_SUSPENDED: (
        "【邻里】因多次逾期还工具，您的借用权限暂停至{1}。",
        "[Linli] After overdue returns you cannot borrow tools until {1}.",
    ),
    kinds.SIGN_IN_CODE: (
        "【邻里】您的登录验证码是{1}，24小时内有效。请勿告诉他人。",
        "[Linli] Your sign-in code is {1}, valid for 24 hours. Tell it to nobody.",
    ),
    kinds.HEALTH_CONTACT: (
        "【邻里】您的家人{1}今天在{2}测量了血压，工作人员希望与您联系，请与中心联系。",
        "[Linli] {1} had their blood pressure measured at {2} today and staff would like "
        "to speak with you: please contact the centre.",
    ),
}


def template_of(kind: str) -> Template:
    return TEMPLATES.get(kind, GENERIC)


def render(kind: str, language: str, params: list[str]) -> str:
    """The text a resident reads: the template in their language with its parameters."""
    zh, en = template_of(kind)
    text = zh if language.startswith("zh") else en
    for number, value in enumerate(params, start=1):
        text = text.replace(f"{{{number}}}", value)
    return text
