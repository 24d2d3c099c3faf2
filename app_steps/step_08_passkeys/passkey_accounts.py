"""Stage 8: the "passkeys only" setting of an account, which the code step reads.

A module of its own so that two_factor.py (which refuses codes for such an account) and
passkeys.py (which sets it, and logs in the way two_factor.py finishes a login) import it
without importing each other. The table is made by passkeys.py (its SCHEMA).
"""
from db import get_db

PASSKEYS_ONLY_MESSAGE = ("This account logs in with a passkey only: a code no longer does. Go back to the "
                         "login page and press \"Log in with a passkey\". Lost your passkey? Use a recovery code below.")


def passkeys_only(user_id):
    """True when the account logs in with a passkey only (checked where password + code would log in)."""
    row = get_db().execute("SELECT passkeys_only FROM passkey_accounts WHERE user_id = ?", (user_id,)).fetchone()
    return bool(row and row["passkeys_only"])
