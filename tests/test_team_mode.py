"""Team mode (issue 7): login for pages, 401 JSON or tokens for the API, closed WebSockets for
anonymous visitors, a refusal to start on the dev secret key, HTTPS settings.

Local mode (the default) is what every other web test runs in; here ``team`` switches the
setting the middleware reads on each request.
"""

from __future__ import annotations

import io
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ApiToken
from heatmap.models import Run
from tests.heatmap_data import make_run
from tests.test_web_security import manage, settings_in_child

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

PASSWORD = "correct horse battery staple"
STRONG_KEY = "k3y-" + "x7Qp2" * 12
TEAM_ENV = {"DJANGO_ALLOWED_HOSTS": "skillcheck.example.com", "DJANGO_SECRET_KEY": STRONG_KEY}


@pytest.fixture
def team(settings):
    settings.SKILLCHECK_REQUIRE_LOGIN = True


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def admin_user_team():
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def new_token(username: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", username, "--name", "ci", stdout=out, stderr=err)
    assert "shown once" in err.getvalue()
    return out.getvalue().strip()


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- Pages -----------------------------------------------------------------------------------


def test_pages_redirect_anonymous_visitors_to_the_login_page(client, team, catalog):
    for url in ("/heatmap/", "/runs/", "/run-controls/plan/", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_an_htmx_poll_after_the_session_ended_sends_the_page_to_login(client, team, catalog):
    response = client.get("/heatmap/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_login_page_is_styled_like_the_app(client, team):
    html = client.get("/accounts/login/?next=/runs/").content.decode()
    assert 'class="site"' in html and "app.css" in html
    assert 'name="username"' in html and 'name="password"' in html
    assert 'value="/runs/"' in html
    assert 'href="/runs/"' not in html.split('<main id="main">')[0]  # no links that bounce back


def test_signing_in_opens_the_pages_and_signing_out_closes_them(client, team, catalog, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/runs/"}
    )
    assert response.status_code == 302 and response["Location"] == "/runs/"
    page = client.get("/heatmap/").content.decode()
    assert "alice" in page and "Sign out" in page
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/heatmap/").status_code == 302


def test_a_wrong_password_says_so(client, team, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200 and "do not match" in response.content.decode()


def test_repeated_wrong_passwords_lock_that_account_from_that_address(
    client, team, alice, settings, empty_cache
):
    settings.SKILLCHECK_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "alice", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "Alice", "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed sign-ins" in response.content.decode()
    assert client.get("/heatmap/").status_code == 302  # still signed out
    other = Client(REMOTE_ADDR="10.0.0.7")
    response = other.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302  # another address is not locked out


@pytest.mark.parametrize("variant", ["alice ", " alice", "alice\t", "\uff41lice", "ALICE"])
def test_spellings_of_one_username_share_its_budget(
    client, team, alice, settings, empty_cache, variant
):
    """Issue 21 (1): Django strips and NFKC-normalizes the username before it checks the
    password, so every spelling it accepts as ``alice`` spends alice's budget."""
    settings.SKILLCHECK_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "alice", "password": "guess"})
    response = client.post("/accounts/login/", {"username": variant, "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/heatmap/").status_code == 302  # still signed out


def test_the_variants_signed_in_before_the_limit_count_for_alice(
    client, team, alice, settings, empty_cache
):
    settings.SKILLCHECK_LOGIN_MAX_FAILURES = 3
    for variant in (" alice", "alice\t", "\uff41lice"):
        response = client.post("/accounts/login/", {"username": variant, "password": "guess"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_one_address_has_a_budget_over_all_usernames(client, team, alice, settings, empty_cache):
    settings.SKILLCHECK_LOGIN_MAX_FAILURES = 3
    settings.SKILLCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for name in ("bob", "carol", "dave", "erin"):
        client.post("/accounts/login/", {"username": name, "password": "guess"})
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.7")
    response = other.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(client, team, alice, settings, empty_cache):
    settings.SKILLCHECK_LOGIN_MAX_FAILURES = 3
    for attempt in ("a", "b", PASSWORD, "c", "d"):
        client.post("/accounts/login/", {"username": "alice", "password": attempt})
    client.logout()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_state_changing_pages_need_a_user_too(client, team, catalog, dispatched):
    run = make_run(status=Run.Status.RUNNING, total=4)
    assert client.post(f"/runs/{run.run_id}/cancel/").status_code == 302
    assert client.post("/run-controls/start/", {"all": "1"}).status_code == 302
    run.refresh_from_db()
    assert not run.cancel_requested and Run.objects.count() == 1 and dispatched == []


def test_the_admin_uses_the_same_accounts(client, team, admin_user_team, alice):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    client.post("/accounts/login/", {"username": "root", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200
    other = Client()
    other.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert other.get("/heatmap/").status_code == 200
    response = other.get("/admin/", follow=True)  # not staff: told so on the sign-in page
    assert response.status_code == 200 and "cannot open that page" in response.content.decode()


def test_local_mode_needs_no_login(client, catalog):
    assert client.get("/heatmap/").status_code == 200
    assert client.get("/api/heatmap/domains").status_code == 200


# --- API -------------------------------------------------------------------------------------


def test_api_answers_anonymous_callers_with_401_json(client, team, catalog, dispatched):
    response = client.get("/api/heatmap/domains")
    assert response.status_code == 401
    assert "create_api_token" in response.json()["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    response = client.post("/api/heatmap/run", {"models": ["heuristic"]}, "application/json")
    assert response.status_code == 401 and dispatched == []


def test_a_personal_token_opens_the_api(client, team, catalog, alice, dispatched):
    token = new_token("alice")
    assert client.get("/api/heatmap/models", **bearer(token)).status_code == 200
    response = client.post(
        "/api/heatmap/run", {"models": ["heuristic"]}, "application/json", **bearer(token)
    )
    assert response.status_code == 201 and len(dispatched) == 1
    assert ApiToken.objects.get().last_used_at is not None


def test_tokens_are_stored_hashed(team, alice):
    token = new_token("alice")
    row = ApiToken.objects.get()
    stored = json.dumps(list(ApiToken.objects.values().get().values()), default=str)
    assert token not in stored and token[len(row.prefix) :] not in stored
    assert token.startswith(row.prefix)


def test_a_token_revoked_in_the_admin_is_refused(client, team, catalog, alice, admin_user_team):
    token = new_token("alice")
    assert client.get("/api/heatmap/domains", **bearer(token)).status_code == 200
    admin = Client()
    admin.force_login(admin_user_team)
    row = ApiToken.objects.get()
    response = admin.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    response = client.get("/api/heatmap/domains", **bearer(token))
    assert response.status_code == 401 and "revoked" in response.json()["error"]


def test_unknown_tokens_and_inactive_users_are_refused(client, team, catalog, alice):
    token = new_token("alice")
    assert client.get("/api/heatmap/domains", **bearer("sct_made-up")).status_code == 401
    alice.is_active = False
    alice.save()
    assert client.get("/api/heatmap/domains", **bearer(token)).status_code == 401


def test_a_bad_token_on_a_page_is_a_401_not_a_login_form(client, team, catalog):
    assert client.get("/heatmap/", **bearer("sct_nope")).status_code == 401


def test_create_api_token_names_an_unknown_user(team):
    with pytest.raises(CommandError, match="no user 'bob'"):
        call_command("create_api_token", "bob")


# --- WebSocket -------------------------------------------------------------------------------


async def _connect(headers: list[tuple[bytes, bytes]]) -> bool:
    from simsite.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/runs/run-x/?format=json",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), *headers],
    )
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.django_db(transaction=True)
async def test_websocket_is_closed_for_anonymous_visitors_in_team_mode(team, in_memory_layer):
    assert await _connect([]) is False


@pytest.mark.django_db(transaction=True)
async def test_websocket_opens_with_a_token_or_a_session(team, in_memory_layer):
    from asgiref.sync import sync_to_async

    def arrange() -> tuple[str, str]:
        get_user_model().objects.create_user("alice", password=PASSWORD)
        client = Client()
        assert client.login(username="alice", password=PASSWORD)
        return new_token("alice"), client.cookies["sessionid"].value

    token, session = await sync_to_async(arrange)()
    assert await _connect([(b"authorization", f"Bearer {token}".encode())]) is True
    assert await _connect([(b"cookie", f"sessionid={session}".encode())]) is True
    assert await _connect([(b"authorization", b"Bearer sct_wrong")]) is False


@pytest.mark.django_db(transaction=True)
async def test_websocket_needs_no_login_in_local_mode(in_memory_layer):
    assert await _connect([]) is True


# --- Start-up checks (real processes: settings are read once) ---------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_ALLOWED_HOSTS": "skillcheck.example.com"},
        {"DJANGO_ALLOWED_HOSTS": "*"},
        {"SKILLCHECK_REQUIRE_LOGIN": "1"},
        {"SKILLCHECK_REQUIRE_LOGIN": "1", "DJANGO_SECRET_KEY": "short"},
    ],
)
def test_team_mode_refuses_to_start_on_the_dev_secret_key(env):
    result = settings_in_child("from django.conf import settings; settings.DEBUG", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_team_mode_starts_with_a_secret_key_of_its_own():
    result = manage("check", env=TEAM_ENV)
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_in_team_mode_with_https():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**TEAM_ENV, "DJANGO_HTTPS": "1"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing():
    result = manage("check", "--deploy", env=TEAM_ENV)
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stdout + result.stderr


def test_https_turns_on_secure_cookies_hsts_and_the_redirect():
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    result = settings_in_child(code, {**TEAM_ENV, "DJANGO_HTTPS": "1"})
    assert result.stdout.strip().splitlines()[-1] == "True True True True"


def test_local_mode_admin_signs_in_on_the_same_page(client, admin_user_team):
    response = client.get("/admin/", follow=True)
    assert "createsuperuser" in response.content.decode()
    client.post("/accounts/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


# --- Whose run it is (issue 21) --------------------------------------------------------------


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password=PASSWORD)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_run_belongs_to_the_user_who_started_it(team, catalog, domain_id, alice, dispatched):
    token = new_token("alice")
    response = Client().post(
        "/api/heatmap/run",
        json.dumps({"domains": [domain_id], "models": ["heuristic"]}),
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 201
    assert Run.objects.get(run_id=response.json()["run_id"]).started_by == alice
    signed_in(alice).post("/run-controls/start/", {"domains": domain_id, "models": "heuristic"})
    assert Run.objects.filter(started_by=alice).count() == 2


def test_others_see_a_run_but_cannot_change_it(team, catalog, alice, bob, dispatched):
    """Any team user could cancel or resume any other user's run."""
    active = make_run(status=Run.Status.RUNNING, total=4, started_by=alice)
    stopped = make_run(status=Run.Status.CANCELLED, total=4, failed=1, started_by=alice)
    other = signed_in(bob)
    page = other.get(f"/runs/{stopped.run_id}/").content.decode()
    assert other.get("/runs/").status_code == 200
    assert "Started by alice" in page and "Resume</button>" not in page

    assert other.post(f"/runs/{active.run_id}/cancel/").status_code == 403
    assert other.post(f"/runs/{stopped.run_id}/resume/").status_code == 403
    assert other.post(f"/runs/{stopped.run_id}/retry-errors/").status_code == 403
    response = Client().post(
        f"/api/heatmap/run/{active.run_id}/cancel",
        content_type="application/json",
        **bearer(new_token("bob")),
    )
    assert response.status_code == 403 and "started this run" in response.json()["error"]

    active.refresh_from_db()
    stopped.refresh_from_db()
    assert not active.cancel_requested and stopped.status == "cancelled" and dispatched == []


def test_the_owner_and_staff_may_change_it(team, catalog, alice, bob, admin_user_team):
    first = make_run(status=Run.Status.RUNNING, total=4, started_by=alice)
    second = make_run(status=Run.Status.RUNNING, total=4, started_by=alice)
    assert "Cancel</button>" in signed_in(alice).get(f"/runs/{first.run_id}/").content.decode()
    signed_in(alice).post(f"/runs/{first.run_id}/cancel/")
    signed_in(admin_user_team).post(f"/runs/{second.run_id}/cancel/")
    for run in (first, second):
        run.refresh_from_db()
        assert run.cancel_requested


def test_a_command_line_run_is_changed_by_staff_only(team, catalog, bob, admin_user_team):
    run = make_run(status=Run.Status.RUNNING, total=4)  # run_scored: nobody's
    assert signed_in(bob).post(f"/runs/{run.run_id}/cancel/").status_code == 403
    signed_in(admin_user_team).post(f"/runs/{run.run_id}/cancel/")
    run.refresh_from_db()
    assert run.cancel_requested


def test_local_mode_lets_anyone_change_any_run(client, catalog, alice):
    run = make_run(status=Run.Status.RUNNING, total=4, started_by=alice)
    assert client.post(f"/runs/{run.run_id}/cancel/").status_code == 302
    run.refresh_from_db()
    assert run.cancel_requested
