"""API tokens for the Zendesk app: created by an admin, shown once, stored only as a SHA-256 digest.

A token is 32 random bytes, so a plain (unsalted) digest is enough: nothing guessable is being hashed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from integration.storage.models import Base, BigId, UtcDateTime

PREFIX = "esc_"
# Each request would otherwise write a row; a minute is plenty for "when was it last used".
TOUCH_EVERY = dt.timedelta(minutes=1)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    hint: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart in a list
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    hint: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, name: str, now: dt.datetime) -> str:
    """A new token named `name`; the only time the token itself exists outside the caller's hands."""
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError("a token needs a name of 1 to 100 characters")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already (names stay taken after a revoke): pick another name")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=digest(token), hint=token[:8], created_at=now))
    return token


def listing(session: Session) -> list[TokenInfo]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [TokenInfo(r.id, r.name, r.hint, r.created_at, r.last_used_at, r.revoked_at) for r in rows]


def revoke(session: Session, name: str, now: dt.datetime) -> bool:
    """False when there is no live token of that name."""
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def authenticate(session: Session, presented: str, now: dt.datetime) -> TokenInfo | None:
    """The live token matching `presented`, its use recorded; None for anything else."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    wanted = digest(presented)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    # The lookup is by digest; compare again in constant time so a timing difference says nothing either.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return TokenInfo(row.id, row.name, row.hint, row.created_at, row.last_used_at, row.revoked_at)
