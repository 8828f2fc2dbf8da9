"""Identities: people and service accounts, their roles (global or per service) and their tokens."""

from relevo.identity.attempts import Attempts
from relevo.identity.identities import KINDS as IDENTITY_KINDS
from relevo.identity.identities import NAME as IDENTITY_NAME
from relevo.identity.identities import (
    Identity,
    add_identity,
    change_grants,
    disable_identity,
    has_identities,
    list_identities,
)
from relevo.identity.roles import ROLES, SPEC_ROLES, Grant, holds, require_grant
from relevo.identity.tokens import (
    TokenInfo,
    authenticate,
    create_token,
    list_tokens,
    remembered,
    required,
    revoke_token,
    sign_in,
)
from relevo.identity.verified import Principal, forget_tokens

__all__ = [
    "IDENTITY_KINDS", "IDENTITY_NAME", "ROLES", "SPEC_ROLES", "Attempts", "Grant", "Identity", "Principal", "TokenInfo", "add_identity", "authenticate",
    "change_grants", "create_token", "disable_identity", "forget_tokens", "has_identities", "holds", "list_identities",
    "list_tokens", "remembered", "require_grant", "required", "revoke_token", "sign_in",
]
