"""The login form: server, tenant, email, password, then a code when MFA asks for one.

Every failure the REST layer can report has its own message: wrong credentials, per-field 422
errors under the field they concern, a 429 countdown (driven by the app's one-second tick and
the button disabled until it ends, so no retry storm), an unreachable server and a TLS error.
Server-provided text is shown through ``text.content`` only. The password never leaves the
Input widget except as an argument to ``Authenticator.login``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Input, Label, Static

from voki_tui.api.errors import (
    AuthError,
    MFARequired,
    NetworkError,
    RateLimitedError,
    TLSError,
    ValidationError,
    VokiError,
)
from voki_tui.live.state import UserInfo
from voki_tui.ports import Authenticator
from voki_tui.resources import styles_dir
from voki_tui.settings import without_credentials
from voki_tui.ui.contract import Clock, LiveScreen
from voki_tui.ui.i18n import tr
from voki_tui.ui.messages import LoggedIn
from voki_tui.ui.text import content

FIELDS = ("server", "tenant", "email", "password")


class LoginScreen(LiveScreen):
    """Asks for credentials; posts ``LoggedIn`` when the Authenticator accepts them. The
    fields start with ``given`` (server, tenant, email from the options), else the last
    login's."""

    CSS_PATH = str(styles_dir() / "login.tcss")

    def __init__(
        self,
        auth: Authenticator,
        clock: Clock,
        *,
        given: tuple[str | None, str | None, str | None] = (None, None, None),
        reason: str | None = None,
    ) -> None:
        super().__init__()
        self.auth = auth
        self.clock = clock
        self.given = given
        self.reason = reason
        self.mfa_token: str | None = None
        self.retry_until: datetime | None = None

    def compose(self) -> ComposeResult:
        last = self.auth.last()
        given_server, given_tenant, given_email = self.given
        # Credentials written into the URL are never used (the client drops them) nor shown.
        server = without_credentials(given_server or (last.server if last else ""))
        tenant = given_tenant or (last.tenant if last else "")
        email = given_email or (last.email if last else "")
        with Center(), Vertical(id="login-box"):
            yield Label(tr("Log in to Voki"), id="login-title")
            with Vertical(id="credentials"):
                yield from self._field("server", tr("Server URL"), server)
                yield from self._field("tenant", tr("Tenant"), tenant)
                yield from self._field("email", tr("Email"), email)
                yield from self._field("password", tr("Password"), "", password=True)
                yield Button(tr("Log in"), id="login-button", variant="primary")
            with Vertical(id="mfa"):
                yield Label(tr("Enter the 6-digit code from your authenticator app."))
                yield from self._field("code", tr("Verification code"), "")
                yield Button(tr("Verify"), id="verify-button", variant="primary")
            yield Static(content(self.reason) if self.reason else "", id="login-message")

    def _field(self, name: str, label: str, value: str, *, password: bool = False) -> ComposeResult:
        yield Label(label, classes="field-label")
        field = Input(value, id=f"field-{name}", password=password, select_on_focus=False)
        field.cursor_blink = False  # a blinking cursor repaints twice a second, forever
        yield field
        yield Static("", id=f"error-{name}", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#mfa").display = False
        for name in FIELDS:
            field = self.query_one(f"#field-{name}", Input)
            if not field.value:
                field.focus()
                break

    # ----------------------------------------------------------------- submitting

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.input.id == "field-code":
            self._verify()
        elif event.input.id == "field-password":
            self._submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#login-button")
    def _submit(self) -> None:
        if self._waiting_for_rate_limit():
            return
        values = {name: self.query_one(f"#field-{name}", Input).value.strip() for name in FIELDS}
        values["password"] = self.query_one("#field-password", Input).value
        errors = {name: tr("Required.") for name, value in values.items() if not value}
        if values["server"] and not values["server"].startswith(("https://", "http://")):
            errors["server"] = tr("Must start with https:// or http://")
        self._show_field_errors(errors)
        if errors:
            self._say(tr("Please correct the marked fields."))
            return
        self._say(tr("Logging in…"))
        self._set_busy(True)
        self._login(
            values["server"].rstrip("/"), values["tenant"], values["email"], values["password"]
        )

    # An explicit description: Textual's default one is the repr of the arguments (the password).
    @work(exclusive=True, group="login", exit_on_error=False, description="login")
    async def _login(self, server: str, tenant: str, email: str, password: str) -> None:
        try:
            user = await self.auth.login(server, tenant, email, password)
        except MFARequired as mfa:
            self._ask_for_code(mfa.mfa_token)
        except VokiError as error:
            self._show_error(error)
        else:
            self._done(user)
        finally:
            self._set_busy(False)

    def _verify(self) -> None:
        if self.mfa_token is None or self._waiting_for_rate_limit():
            return
        code = self.query_one("#field-code", Input).value.strip()
        if not code:
            self._show_field_errors({"code": tr("Required.")})
            return
        self._set_busy(True)
        self._verify_code(self.mfa_token, code)

    @on(Button.Pressed, "#verify-button")
    def _verify_pressed(self) -> None:
        self._verify()

    @work(exclusive=True, group="login", exit_on_error=False, description="verify code")
    async def _verify_code(self, mfa_token: str, code: str) -> None:
        try:
            user = await self.auth.verify_mfa(mfa_token, code)
        except AuthError:
            self._say(tr("Wrong or expired code."))
        except VokiError as error:
            self._show_error(error)
        else:
            self._done(user)
        finally:
            self._set_busy(False)

    def _ask_for_code(self, mfa_token: str) -> None:
        self.mfa_token = mfa_token
        self.query_one("#credentials").display = False
        self.query_one("#mfa").display = True
        self._say("")
        self.query_one("#field-code", Input).focus()

    def _done(self, user: UserInfo) -> None:
        self._say("")
        self.post_message(LoggedIn(user))

    # ----------------------------------------------------------------- messages

    def _show_error(self, error: VokiError) -> None:
        """One clear sentence per failure; the server's own words only as cleaned text."""
        self._show_field_errors({})
        if isinstance(error, RateLimitedError):
            self.retry_until = self.clock() + timedelta(seconds=max(1.0, error.retry_after))
            self.tick(self.clock())
        elif isinstance(error, ValidationError):
            known = {k: "; ".join(v) for k, v in error.fields.items() if k in (*FIELDS, "code")}
            self._show_field_errors(known)
            others = [f"{k}: {'; '.join(v)}" for k, v in error.fields.items() if k not in known]
            self._say(" ".join([tr("Please correct the marked fields."), *others]))
        elif isinstance(error, AuthError):
            self._say(tr("Wrong email, password or tenant."))
        elif isinstance(error, TLSError):
            self._say(
                tr("TLS error: {detail}. Check the server's certificate.").format(
                    detail=error.message
                )
            )
        elif isinstance(error, NetworkError):
            self._say(tr("Cannot reach the server: {detail}").format(detail=error.message))
        else:
            self._say(tr("Server error: {detail}").format(detail=error.message))

    def _show_field_errors(self, errors: dict[str, str]) -> None:
        for name in (*FIELDS, "code"):
            message = errors.get(name, "")
            widget = self.query_one(f"#error-{name}", Static)
            widget.update(content(message))
            widget.display = bool(message)
            self.query_one(f"#field-{name}", Input).set_class(bool(message), "-invalid")

    def _say(self, message: str) -> None:
        self.query_one("#login-message", Static).update(content(message, max_len=300))

    def _set_busy(self, busy: bool) -> None:
        limited = self.retry_until is not None
        for button in self.query(Button):
            button.disabled = busy or limited

    # ----------------------------------------------------------------- countdown

    def _waiting_for_rate_limit(self) -> bool:
        return self.retry_until is not None and self.clock() < self.retry_until

    def tick(self, now: datetime) -> None:
        """Count down a 429's ``Retry-After``; re-enable the buttons when it runs out."""
        if self.retry_until is None:
            return
        remaining = (self.retry_until - now).total_seconds()
        if remaining > 0:
            self._say(
                tr("Too many attempts. Try again in {n} s.").format(n=int(-(-remaining // 1)))
            )
            for button in self.query(Button):
                button.disabled = True
            return
        self.retry_until = None
        self._say(tr("You can try again now."))
        self._set_busy(False)
