"""Right and wrong answers to every exercise, for tests/test_check_mutants.py.

Each ``lesson_NN.py`` here lists ``MUTANTS``: answers as a student would type them
in the exercise cell. A right one must get ✅ from the check cell and from the
grader; a wrong one must get ❌ from both, with a hint that names the mistake.

The source runs in a fresh namespace after ``LESSON_SETUP[lesson]``, which
stands for what the lesson's earlier cells define (imports, helpers, and the
answers to earlier exercises that later ones build on). A module may define its
own ``SETUP`` instead.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    exercise: str        # "3.3"
    name: str            # what the answer does, for the test id: "unquotes before splitting"
    source: str          # the cell as a student would write it, defining the names the exercise uses
    passes: bool         # True: a right answer (✅); False: a mistake (❌)
    hint: str = ""       # for a mistake: text the ❌ line must contain, naming that mistake


LESSON_SETUP = {
    0: """
import io
import pyotp
import pyqrcode
from workbook.phone import Phone
DEMO_SECRET = "WORKBOOKDEMOSECRETFORLESSONZERO2"
""",
    1: """
import importlib
import io
from importlib import metadata
import pyqrcode
""",
    2: """
import base64
import hashlib
import hmac
import struct
import flask
import pyotp
from flask.sessions import SecureCookieSessionInterface

def counter_bytes(unix_time):
    return struct.pack(">Q", int(unix_time) // 30)

def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""",
    3: """
import base64
import io
import pyotp
import pyqrcode
from urllib.parse import parse_qs, quote, unquote, urlsplit
ISSUER = "Flask 2FA Workbook"
""",
    4: """
import pyotp
from flask import Flask, render_template_string
from workbook.app_loader import load_module
from workbook.stages import stage
stage4 = load_module(stage(4).folder)
provisioning_uri, qr_data_uri = stage4.provisioning_uri, stage4.qr_data_uri

def grouped(secret):
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))

def enrolment_template():
    return '''<h1>Turn on 2FA for {{ account_name }}</h1>
<img src="{{ qr_code }}" alt="QR code for your authenticator app">
<p>No camera? Type this key: <code>{{ manual_key }}</code></p>
<form method="post" action="{{ url_for('home') }}">
  <label for="otp">Code</label>
  <input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">
</form>'''
""",
    5: """
import re
import time
import pyotp

def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)

def normalise_code(raw):
    if raw is None or len(raw) > 20:
        return None
    code = raw.replace(" ", "")
    return code if re.fullmatch("[0-9]{6}", code) else None
""",
    6: """
import functools
import hashlib
import hmac
import sqlite3
import pyotp
from flask import abort, redirect, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash
from workbook.phone import Phone, PhoneError
""",
    7: """
import hashlib
import random
import re
import secrets
import sqlite3
import tempfile
from pathlib import Path
import pyotp
from workbook.fixed_clock import FixedClock
from workbook.phone import Phone
PASSWORD = "correct horse battery"
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

def hash_code(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()
""",
}
