"""Create, check and revoke API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken

TOKEN_PREFIX = "sct_"
# A token's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    # The token is 256 random bits: a fast hash cannot be brute-forced, a slow one would only
    # slow every API call.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: the row (holding only a hash) and the token, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user, name=name, prefix=token[: len(TOKEN_PREFIX) + 6], key_hash=_hash(token)
    )
    return row, token


def api_token_authenticate(*, token: str) -> ApiToken | None:
    """The live token row for a presented token, or None (unknown, revoked, user inactive)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def api_tokens_revoke(*, tokens: QuerySet[ApiToken]) -> int:
    """Revoke tokens at once; the number revoked now (already revoked ones are left)."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
