from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for USERNAME and print it (only once: the database keeps "
        "a hash). Scripts send it as 'Authorization: Bearer TOKEN'; revoke it in the admin."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["username"]})
        except user_model.DoesNotExist:
            raise CommandError(
                f"no user {options['username']!r}: create one with createsuperuser or the admin"
            ) from None
        if not user.is_active:
            raise CommandError(f"user {options['username']!r} is inactive")
        row, token = api_token_create(user=user, name=options["name"])
        self.stderr.write(f"API token {row.prefix}… for {user} (shown once, keep it secret):")
        self.stdout.write(token)
