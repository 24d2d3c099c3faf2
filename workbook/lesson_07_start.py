"""Lesson 07's starting app: stage 7's files with the defences the student builds not built yet.

Each part of lesson 07 has the student attack, then defend. Their app starts from stage 7's
plumbing (its tables, modules and pages), with each defence the lesson has them build left
open: a code works twice, failures never pause, no browser is trusted, a
guesser below the pause guesses for ever, forms from anywhere are obeyed, an account's
session never times out or ends on the server, no recovery code gets in (the ten shown at
enrolment are stand-ins, and none is accepted), wrong tries at /replace-phone are not counted,
a new TOTP secret is stored as it is, and the owner's message repeats what was typed. Each place
carries the words ``Not built yet: Part N's Build``; the Build of part N puts the student's answer there.

``NOT_BUILT[part]`` lists that part's places as (file, stage 7's text, the text left open).
``start_from(7, part=N)`` (workbook/my_app.py) opens the places of part N and every later part;
``check_my_app(7)`` runs the tests of the parts whose places are open only once they are built
(``TESTS_OF_PART``).

Every start has stage 7's recovery codes made by a function of Exercise 7.7's shape (``SHAPED``), so that
Part 7's Build is one swap: before Part 7 that function is the stand-in (Part 7's place), and a catch-up
after Part 7 has stage 7's own.
"""
import re
from pathlib import Path

MARKER = "Not built yet: Part {part}'s Build"
MARKER_PATTERN = re.compile(r"Not built yet: Part (\d+)'s Build")

# Stage 7's own maker of recovery codes, in the exercise's shape: what a catch-up after Part 7 has.
STAGE_7_MAKE_RECOVERY_CODES = '''RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0, 1, 8 or 9 to mistake for o, l, b, g


def make_recovery_codes(db, user_id):
    """Ten new codes of 24 characters from ``secrets``, in groups of four (abcd-efgh-ijkm-nopq-rstu-vwxy), stored
    hashed in place of the user's old ones and committed; returned, to be shown once."""
    codes = []
    for _ in range(10):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))
        codes.append("-".join(code[i:i + 4] for i in range(0, 24, 4)))
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                       [(user_id, hash_recovery_code(code)) for code in codes])
    return codes
'''

# Until Part 7's Build: stand-ins shown at enrolment, no code kept, and none accepted (``use``). An account has
# no way back in without its phone, as in stage 6; the start holds no answer to Exercise 7.7 or 7.8.
STAND_IN_RECOVERY_CODES = '''def make_recovery_codes(db, user_id):
    """Not built yet: Part 7's Build. Until then the ten codes shown are stand-ins that open nothing: a lost
    phone is a lost account."""
    return [f"not-built-yet-{number}" for number in range(1, 11)]
'''

NOT_BUILT = {
    1: [
        ("user_management.py",
         '''    changed = get_db().execute(
        "UPDATE users SET last_timecode = ?"
        " WHERE id = ? AND (last_timecode IS NULL OR last_timecode < ?)",
        (timecode, user_id, timecode),
    ).rowcount
    return changed == 1
''',
         '''    return True  # Not built yet: Part 1's Build puts your replay guard here. Until then a code works twice.
'''),
    ],
    2: [
        ("throttle.py",
         '            locked_until = now + min(MAX_DELAY, FIRST_DELAY << min(streak - limits["free"], 30))\n',
         "            locked_until = now  # Not built yet: Part 2's Build puts your pause here. "
         "Until then nobody waits.\n"),
    ],
    3: [
        ("devices.py",
         '''    device = this_browser()
    if device is None:
        return None
    row = get_db().execute("SELECT 1 FROM devices WHERE id_hash = ? AND user_id = ? AND expires > ?",
                           (device, user_id, now)).fetchone()
    return device if row else None
''',
         '''    return None  # Not built yet: Part 3's Build puts your device cookies here. Until then no browser is trusted.
'''),
        ("devices.py",
         '''    token = request.cookies.get(cookie_name(), "")
    if this_browser() is None:
        token = secrets.token_urlsafe(32)
    db = get_db()
    known = db.execute("SELECT 1 FROM devices WHERE id_hash = ? AND user_id = ? AND expires > ?",
                       (_key(token), user_id, now)).fetchone()
    db.execute("INSERT OR REPLACE INTO devices (id_hash, user_id, expires) VALUES (?, ?, ?)",
               (_key(token), user_id, now + LIFETIME))
    g.device_cookie = token  # set on the response (set_cookie below)
    return known is None
''',
         '''    return False  # Not built yet: Part 3's Build puts your device cookies here. Until then no browser is trusted.
'''),
    ],
    4: [
        ("throttle.py",
         '''        for window, ceiling in limits["ceilings"]:
            # The ceiling'th most recent failure in the window: once it is older than the
            # window, there is room for one more.
            oldest = db.execute(
                "SELECT at FROM failures WHERE subject = ? AND kind = ? AND bucket = ? AND at > ?"
                " ORDER BY at DESC LIMIT 1 OFFSET ?", (*key, now - window, ceiling - 1)).fetchone()
            if oldest is not None:
                return Attempt(key, None, oldest[0] + window - now)
''',
         '''        if limits["ceilings"] == CEILINGS:  # passwords, codes, recovery codes: ceiling_wait
            wait = ceiling_wait(db, key, now)
            if wait is not None:
                return Attempt(key, None, wait)
        else:  # registrations, names that are not accounts: stage 7's own ceilings
            for window, ceiling in limits["ceilings"]:
                # The ceiling'th most recent failure in the window: once it is older than the
                # window, there is room for one more.
                oldest = db.execute(
                    "SELECT at FROM failures WHERE subject = ? AND kind = ? AND bucket = ? AND at > ?"
                    " ORDER BY at DESC LIMIT 1 OFFSET ?", (*key, now - window, ceiling - 1)).fetchone()
                if oldest is not None:
                    return Attempt(key, None, oldest[0] + window - now)
'''),
        ("throttle.py",
         "@dataclass(frozen=True)\nclass Attempt:",
         '''def ceiling_wait(db, key, now):
    """None if this bucket may try again now; else the seconds until it may."""
    return None  # Not built yet: Part 4's Build puts your ceiling here. Until then a slow guesser never stops.


@dataclass(frozen=True)
class Attempt:'''),
    ],
    5: [
        ("app.py",
         "    CSRFProtect(app)\n",
         "    CSRFProtect(app)\n"
         "    app.config[\"WTF_CSRF_ENABLED\"] = False  # Not built yet: Part 5's Build. "
         "Until then a form from any site is obeyed.\n"),
        ("app.py",
         '''        message = ("This form is out of date or did not come from this site, so nothing was "
                   "changed. Go back, reload the page and send the form again.")
        return render_template("error.html", title="Form out of date", message=message), 400
''',
         '''        return "", 400  # Not built yet: Part 5's Build writes the page a refused form gets.
'''),
    ],
    6: [
        ("sessions.py",
         '''    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
''',
         '''    if row is None:
        return None
    if row["user_id"] is not None:  # an account's session (not a registration)
        return row  # Not built yet: Part 6's Build. Until then an account's session never times out.
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
'''),
        ("auth.py",
         '        sessions.end_all_sessions(g.user["id"])  # this browser, and every copy of its cookie\n',
         "        pass  # Not built yet: Part 6's Build. Until then logging out ends nothing on the server.\n"),
    ],
    7: [  # in the file as SHAPED leaves it
        ("recovery_codes.py", STAGE_7_MAKE_RECOVERY_CODES, STAND_IN_RECOVERY_CODES),
        ("recovery_codes.py",
         '''    deleted = get_db().execute(
        "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
        (user_id, hash_recovery_code(code)),
    ).rowcount
    return deleted == 1
''',
         "    return False  # Not built yet: Part 7's Build. Until then no recovery code is accepted.\n"),
    ],
    8: [
        ("sessions.py",
         '''    return get_db().execute(
        "UPDATE sessions SET reauth_failures = reauth_failures + 1"
        " WHERE id_hash = ? AND reauth_failures < ?",
        (session_key(token), allowed),
    ).rowcount == 1
''',
         '''    return True  # Not built yet: Part 8's Build. Until then wrong tries are never counted.
'''),
    ],
    9: [
        ("user_management.py",
         '(row["reserved_name"], row["password_hash"], secrets_at_rest.encrypt(secret), timecode),',
         '(row["reserved_name"], row["password_hash"], secret, timecode),'
         "  # Not built yet: Part 9's Build. Until then the secret is stored as it is."),
        ("user_management.py",
         "(secrets_at_rest.encrypt(secret), timecode, user_id, expected_version),",
         "(secret, timecode, user_id, expected_version),"
         "  # Not built yet: Part 9's Build. Until then the secret is stored as it is."),
    ],
    10: [
        ("events.py", "from flask import current_app\n", "from flask import current_app, request\n"),
        ("events.py",
         '    event = {"kind": kind, "detail": detail, "time": now}\n',
         "    # Not built yet: Part 10's Build. Until then the owner's message repeats what was typed.\n"
         '    event = {"kind": kind, "detail": f"{detail} You typed: {request.form.to_dict()}", "time": now}\n'),
    ],
}

# Stage 7's recovery codes in the shape of Exercise 7.7 (a function that makes the codes, stores them hashed and
# returns them), behaving as stage 7's own. Applied by every start, before the parts' places: Part 7's place then
# puts the stand-in in that function's stead, and Part 7's Build swaps in the student's function in that one
# place, instead of rewiring four files.
IN_TRANSACTION = '''class InTransaction:
    """``db`` for a function that commits its own writes (``with db:``), called inside ``transaction(db)``:
    there its commit waits for the transaction's, so all of it is kept, or none."""

    def __init__(self, db):
        self.db = db

    def __getattr__(self, name):
        return getattr(self.db, name)

    def __enter__(self):
        return self

    def __exit__(self, *error):
        return False

    def commit(self):
        pass
'''

SHAPED = [
    ("db.py", "\n\n\ndef close_db(", "\n\n\n" + IN_TRANSACTION + "\n\ndef close_db("),
    ("recovery_codes.py",
     "The codes themselves are made in two_factor.py (``new_recovery_code``); this module keeps them.",
     "The codes are made here (make_recovery_codes), shown once, and kept hashed."),
    ("recovery_codes.py", "import hashlib\n\nfrom db import get_db\n",
     "import hashlib\nimport secrets\n\nfrom db import InTransaction, get_db\n"),
    ("recovery_codes.py",
     '''def store(db, user_id, codes, now):
    db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    db.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
        [(user_id, hash_recovery_code(code)) for code in codes],
    )
''',
     STAGE_7_MAKE_RECOVERY_CODES + '''

def store(db, user_id, now):
    codes = make_recovery_codes(InTransaction(db), user_id)
'''),
    ("user_management.py", "def create_user(session_token, secret, timecode, codes, now):",
     "def create_user(session_token, secret, timecode, now):"),
    ("user_management.py", "def replace_secret(user_id, secret, timecode, expected_version, codes, now,",
     "def replace_secret(user_id, secret, timecode, expected_version, now,"),
    ("user_management.py", "        recovery_codes.store(db, user_id, codes, now)\n    return user_id",
     "        recovery_codes.store(db, user_id, now)\n    return user_id"),
    ("user_management.py", "            recovery_codes.store(db, user_id, codes, now)\n",
     "            recovery_codes.store(db, user_id, now)\n"),
    ("two_factor.py", "create_user(session[\"sid\"], secret, timecode, new_recovery_codes(), clock())",
     "create_user(session[\"sid\"], secret, timecode, clock())"),
    ("two_factor.py", "new_recovery_codes(), now, session[\"sid\"], devices.this_browser())",
     "now, session[\"sid\"], devices.this_browser())"),
    ("two_factor.py", "import secrets\n", ""),
    ("two_factor.py", "RECOVERY_CODE_COUNT = 10\n", ""),
    ("two_factor.py", '''RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0, 1, 8 or 9 to mistake for o, l, b, g


''', ""),
    ("two_factor.py", '''def new_recovery_code():
    """24 characters from ``secrets``, in groups of four: abcd-efgh-ijkm-nopq-rstu-vwxy."""
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


''', ""),
    ("two_factor.py", '''def new_recovery_codes():
    return [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


''', ""),
]

PARTS = sorted(NOT_BUILT)

# Lesson 07's attacks, and the part whose Build defends the student's app against each.
PART_OF_ATTACK = {"7.A1": 1, "7.A2": 5, "7.A3": 6}


def open_places(folder, part):
    """In the stage 7 copy in ``folder``: its recovery codes in the exercise's shape (``SHAPED``), and the places of
    ``part`` and every later part left open."""
    folder = Path(folder)
    changes = [("the recovery codes' shape", place) for place in SHAPED]
    changes += [(f"Part {number}'s place", place) for number in PARTS if number >= part for place in NOT_BUILT[number]]
    for what, (file, built, changed) in changes:
        path = folder / file
        source = path.read_text(encoding="utf-8")
        if source.count(built) != 1:
            raise ValueError(f"stage 7's {file} no longer holds {what} once: update workbook/lesson_07_start.py")
        path.write_text(source.replace(built, changed), encoding="utf-8")


def files_not_built(folder, part):
    """The files of the app in ``folder`` that still say Part ``part`` is not built, by name."""
    marker = MARKER.format(part=part)
    return sorted(path.name for path in Path(folder).glob("*.py")
                  if marker in path.read_text(encoding="utf-8", errors="replace"))


def parts_not_built(folder):
    """The parts whose places in the app in ``folder`` still say they are not built, in order."""
    found = set()
    for path in Path(folder).glob("*.py"):
        found.update(int(number) for number in MARKER_PATTERN.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found & set(PARTS))

# The stage 7 tests of each part's defences: those that fail while its places are open (found by running the
# stage 7 suite on stage 7 with that part's places alone left open; tests/test_lesson_07_start.py holds it).
TESTS_OF_PART = {
    1: [
        "test_a_code_works_once_across_sessions",
        "test_a_code_works_once_across_workers",
        "test_a_code_works_once_in_the_same_session",
        "test_an_older_step_is_refused_after_a_newer_one",
        "test_replace_phone_needs_password_and_a_fresh_code",
        "test_the_enrolment_code_counts_as_used",
        "test_the_step_is_stored_not_the_code",
    ],
    2: [
        "test_a_browser_another_account_trusts_is_a_stranger_to_yours",
        "test_a_recovery_code_works_while_the_code_step_is_throttled",
        "test_a_replaced_phone_ends_every_other_session_and_device_cookie",
        "test_a_strangers_password_guesses_are_paused_then_capped",
        "test_a_trusted_browser_gets_in_while_strangers_are_paused",
        "test_a_trusted_browser_is_a_strangers_once_its_ninety_days_are_over_even_just_after_a_sweep",
        "test_changing_the_password_ends_every_other_session_and_device_cookie",
        "test_delay_grows_then_success_resets_it",
        "test_logins_to_unknown_names_are_throttled_per_client_address",
        "test_password_failures_from_strangers_close_the_strangers_bucket_only",
        "test_password_guessing_on_one_account_is_throttled",
        "test_sixth_attempt_waits_even_with_the_right_code",
        "test_the_device_cookie_is_httponly_lax_secure_lasts_ninety_days_and_is_kept_hashed",
        "test_unknown_names_are_throttled_per_client_address",
        "test_wrong_recovery_codes_have_a_throttle_of_their_own",
        "test_x_forwarded_for_is_believed_only_behind_a_proxy",
    ],
    3: [
        "test_a_password_holder_failing_codes_never_closes_the_owners_code_step",
        "test_a_replaced_phone_ends_every_other_session_and_device_cookie",
        "test_a_stolen_database_file_holds_no_live_session_or_device_id",
        "test_a_trusted_browser_gets_in_while_strangers_are_paused",
        "test_a_week_of_attacks_never_keeps_the_owners_trusted_browser_out",
        "test_at_most_a_hundred_guesses_a_year_whatever_successes_come_between",
        "test_change_password_needs_every_factor_and_ends_the_other_sessions",
        "test_changing_the_password_ends_every_other_session_and_device_cookie",
        "test_events_are_stored_listed_and_notified",
        "test_every_security_event_goes_to_notify",
        "test_ninety_days_give_at_most_thirty_guesses_a_month_whatever_successes_come_between",
        "test_password_failures_from_strangers_close_the_strangers_bucket_only",
        "test_recovery_guesses_close_the_strangers_recovery_step_never_the_owners_browser",
        "test_the_dashboard_lists_the_latest_ten_events_newest_first",
        "test_the_device_cookie_is_httponly_lax_secure_lasts_ninety_days_and_is_kept_hashed",
        "test_the_device_cookie_is_set_after_a_full_login_and_kept_at_logout",
    ],
    4: [
        "test_a_recovery_code_still_works_when_the_strangers_code_ceiling_is_reached",
        "test_a_strangers_password_guesses_are_paused_then_capped",
        "test_a_week_of_attacks_never_keeps_the_owners_trusted_browser_out",
        "test_an_owner_signing_in_between_does_not_reset_the_ceiling",
        "test_at_most_a_hundred_guesses_a_year_whatever_successes_come_between",
        "test_never_more_than_a_hundred_failures_in_a_year",
        "test_ninety_days_give_at_most_thirty_guesses_a_month_whatever_successes_come_between",
        "test_recovery_guesses_close_the_strangers_recovery_step_never_the_owners_browser",
        "test_thirty_days_of_guessing_count_the_failures_before_the_owners_login_too",
        "test_thirty_days_of_guessing_end_thirty_days_after_the_first_failure",
        "test_thirty_days_of_guessing_give_at_most_thirty_guesses",
    ],
    5: [
        "test_enrolment_without_csrf_token_leaves_2fa_off",
        "test_forged_csrf_token_is_a_400",
        "test_post_without_csrf_token_is_a_400_and_changes_nothing",
    ],
    6: [
        "test_a_copied_cookie_opens_nothing_after_logout",
        "test_a_session_ends_after_thirty_idle_minutes",
        "test_a_session_ends_after_thirty_idle_minutes_even_just_after_a_sweep",
        "test_a_session_ends_twelve_hours_after_its_login",
        "test_logout_ends_every_session_of_the_user",
    ],
    7: [
        "test_a_lost_phone_is_recoverable_with_a_recovery_code",
        "test_a_lost_phone_is_replaced_with_password_and_a_recovery_code",
        "test_a_recovery_code_logs_in_once",
        "test_a_recovery_code_still_works_when_the_strangers_code_ceiling_is_reached",
        "test_a_recovery_code_works_while_the_code_step_is_throttled",
        "test_a_used_recovery_code_does_not_replace_the_phone",
        "test_an_event_repeats_nothing_that_was_typed",
        "test_another_accounts_recovery_codes_leave_yours_working",
        "test_another_users_recovery_code_does_not_work",
        "test_at_most_a_hundred_guesses_a_year_whatever_successes_come_between",
        "test_changing_the_password_with_a_recovery_code",
        "test_enrolment_shows_ten_recovery_codes_until_saved",
        "test_every_security_event_goes_to_notify",
        "test_new_recovery_codes_come_with_a_new_phone_and_the_old_ones_stop_working",
        "test_ninety_days_give_at_most_thirty_guesses_a_month_whatever_successes_come_between",
        "test_recovery_codes_are_random_in_every_character",
        "test_recovery_codes_are_stored_hashed",
        "test_recovery_guesses_close_the_strangers_recovery_step_never_the_owners_browser",
        "test_replacing_the_phone_needs_password_and_code_then_swaps_in_the_same_session",
        "test_the_dashboard_lists_recent_security_events",
    ],
    8: [
        "test_replace_phone_failures_end_the_session_not_the_account",
    ],
    9: [
        "test_a_stolen_database_file_holds_no_totp_secret",
        "test_the_database_holds_no_totp_secret",
        "test_the_keys_come_from_flask_totp_encryption_keys",
        "test_the_secret_is_useless_without_the_key",
    ],    10: [
        "test_an_event_repeats_nothing_that_was_typed",
        "test_every_security_event_goes_to_notify",
    ],
}
