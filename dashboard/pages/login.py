"""The login page (``/login``): a plain HTML form posting to ``/auth/login`` with a CSRF token.

The form works without JavaScript; the server checks the double-submit token, the password
(scrypt, lockout) and starts a new session (see :mod:`dashboard.auth`). Administrators and
auditors get a second step (``?step=code``): a form with only the 6-digit code of their
authenticator app. An app without an
event store (registry only) has no accounts: the page then says so and links to the wall
screen as before.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard.auth import CSRF_FIELD, pre_session_csrf
from dashboard.i18n import DEFAULT_LANG, LANGS, t

dash.register_page(__name__, path="/login", name="Login", title="StreetTwin 登录", order=9)

TEXT = {
    "zh": {
        "submit": "登录",
        "failed": "用户名或密码错误，或账户已暂时锁定。",
        "no_accounts": "此实例未配置账户（无事件库）；以本地值班员身份进入。",
        "report": "群众上报",
        "code": "动态验证码（6位）",
        "code_hint": "管理员和审计员账户需输入身份验证器应用中的动态验证码。",
        "code_failed": "验证码错误或已使用，请等待下一个验证码。",
        "restart": "重新登录",
    },
    "en": {
        "submit": "Sign in",
        "failed": "Wrong user name or password, or the account is locked for a while.",
        "no_accounts": "This instance has no accounts (no event store); enter as local operator.",
        "report": "Report a problem",
        "code": "One-time code (6 digits)",
        "code_hint": "Administrator and auditor accounts need the code from their "
        "authenticator app.",
        "code_failed": "Wrong or already used code; wait for the next one.",
        "restart": "Start again",
    },
}


def code_form(token: str, next: str, txt: dict[str, str]) -> html.Form:
    """The second step: the one-time code alone (the password was checked in step one)."""
    return html.Form(
        action="/auth/login",
        method="POST",
        id="st-login-code-form",
        children=[
            dcc.Input(type="hidden", name=CSRF_FIELD, value=token),
            dcc.Input(type="hidden", name="next", value=next or "/ops"),
            dcc.Input(type="hidden", name="step", value="code"),
            html.P(txt["code_hint"]),
            html.Label(
                [
                    txt["code"],
                    dcc.Input(
                        type="text",
                        name="code",
                        id="st-login-code",
                        inputMode="numeric",
                        pattern="[0-9]{6}",
                        maxLength=6,
                        autoComplete="one-time-code",
                        autoFocus=True,
                        required=True,
                    ),
                ]
            ),
            html.Button(txt["submit"], type="submit"),
        ],
    )


def layout(
    lang: str = DEFAULT_LANG, failed: str = "", next: str = "/ops", step: str = "", **_: Any
) -> html.Div:
    """The sign-in form in ``lang`` (``?lang=en``); ``?failed=1`` shows the refusal;
    ``?step=code`` asks for the one-time code of an administrator or auditor."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    other = "en" if lang == "zh" else "zh"
    txt = TEXT[lang]
    token = pre_session_csrf()
    children: list = [html.H1(t("login_title", lang))]
    if failed:
        msg = txt["code_failed"] if step == "code" else txt["failed"]
        children.append(html.P(msg, id="st-login-failed", role="alert"))
    if token and step == "code":
        children += [
            code_form(token, next, txt),
            html.P(html.A(txt["restart"], href=f"/login?lang={lang}")),
        ]
    elif token:
        children.append(
            html.Form(
                action="/auth/login",
                method="POST",
                id="st-login-form",
                children=[
                    dcc.Input(type="hidden", name=CSRF_FIELD, value=token),
                    dcc.Input(type="hidden", name="next", value=next or "/ops"),
                    html.Label(
                        [
                            t("login_user", lang),
                            dcc.Input(
                                type="text", name="username", autoComplete="username", required=True
                            ),
                        ]
                    ),  # fmt: skip
                    html.Label(
                        [
                            t("login_password", lang),
                            dcc.Input(
                                type="password",
                                name="password",
                                autoComplete="current-password",
                                required=True,
                            ),
                        ]
                    ),  # fmt: skip
                    html.Button(txt["submit"], type="submit"),
                ],
            )
        )
    else:
        children += [
            html.P(txt["no_accounts"], id="st-login-note"),
            html.A(t("login_enter", lang), href=f"/ops?lang={lang}", className="st-login-enter"),
        ]
    children += [
        html.P(html.A(txt["report"], href=f"/report?lang={lang}")),
        html.P(html.A(t("lang_switch", lang), href=f"/login?lang={other}")),
        html.P(t("kiosk_hint", lang)),
    ]
    return html.Div(className="st-login", lang="zh-CN" if lang == "zh" else "en", children=children)
