"""Answers to lesson 05's exercises."""
from . import Mutant


def normaliser(body):
    return "def normalise_code(raw):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"


def status_rule(body):
    return "def status_for(secret, raw, now):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"


MUTANTS = [
    Mutant("5.1", "verify at now, one step either side", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)
""", True),
    Mutant("5.1", "the real clock", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, valid_window=1)
""", False, "never at the real clock"),
    Mutant("5.1", "no window", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, for_time=now)
""", False, "accept the step before too"),
    Mutant("5.1", "a window of two steps", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=2)
""", False, "the window is too wide"),
    Mutant("5.1", "only the code of this very step", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).at(now) == code
""", False, "accept the step before too"),

    Mutant("5.2", "limit, spaces, fullmatch [0-9]{6}", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), True),
    Mutant("5.2", "no length limit", normaliser("""
if raw is None:
    return None
code = raw.replace(" ", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "refuse anything longer than 20 characters"),
    Mutant("5.2", "the length checked after removing spaces", normaliser("""
if raw is None:
    return None
code = raw.replace(" ", "")
if len(code) > 20:
    return None
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "before removing the spaces"),
    Mutant("5.2", "str.isdigit", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if len(code) == 6 and code.isdigit() else None
"""), False, "fullwidth digits"),
    Mutant("5.2", r"\d instead of [0-9]", normaliser(r"""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if re.fullmatch(r"\d{6}", code) else None
"""), False, "allow only the ten ASCII digits"),
    Mutant("5.2", "match with ^...$", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if re.match("^[0-9]{6}$", code) else None
"""), False, "match the whole string"),
    Mutant("5.2", "every kind of space removed", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = "".join(raw.split())
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "remove only ' '"),
    Mutant("5.2", "None not handled", normaliser("""
if len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "return None for it before anything else"),
    Mutant("5.2", "spaces stripped only at the ends", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.strip(" ")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "strip() only takes them off the ends"),
    # Issue 22: spaces stripped only at the ends once got "return a string".
    Mutant("5.2", "strip() with no argument", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.strip()
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "strip() only takes them off the ends"),
    Mutant("5.2", "an int", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return int(code) if re.fullmatch("[0-9]{6}", code) else None
"""), False, "return the code as a string"),

    Mutant("5.3", "400, then 401, then 200", status_rule("""
code = normalise_code(raw)
if code is None:
    return 400
if not code_is_valid(secret, code, now):
    return 401
return 200
"""), True),
    Mutant("5.3", "verify without normalising", status_rule("""
if raw is None:
    return 400
return 200 if code_is_valid(secret, raw, now) else 401
"""), False, "check the code normalise_code gives back"),
    Mutant("5.3", "the raw value checked after normalising", status_rule("""
if normalise_code(raw) is None:
    return 400
return 200 if code_is_valid(secret, raw, now) else 401
"""), False, "check the code normalise_code gives back"),
    Mutant("5.3", "401 for everything wrong", status_rule("""
code = normalise_code(raw)
if code is None or not code_is_valid(secret, code, now):
    return 401
return 200
"""), False, "400: the request itself is malformed"),
    Mutant("5.3", "403 for a wrong code", status_rule("""
code = normalise_code(raw)
if code is None:
    return 400
return 200 if code_is_valid(secret, code, now) else 403
"""), False, "401: that code did not prove who you are"),
    Mutant("5.3", "the real clock", status_rule("""
code = normalise_code(raw)
if code is None:
    return 400
return 200 if code_is_valid(secret, code, time.time()) else 401
"""), False, "does not hand its `now` on to it"),

    # Misdiagnosed on the walk of 2026-12-05: status_for was right, the code_is_valid of 5.1 it calls ignored `now`.
    Mutant("5.3", "a right status_for on a code_is_valid that ignores now", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, valid_window=1)

def status_for(secret, raw, now):
    code = normalise_code(raw)
    if code is None:
        return 400
    return 200 if code_is_valid(secret, code, now) else 401
""", False, "your code_is_valid ignores its `now`"),

    Mutant("5.Q1", 'the right option, C', 'answer_5_q1 = "C"\n', True),
    Mutant("5.Q1", "(a) valid_window=0 is more secure, so better", 'answer_5_q1 = "a"\n', False,
           "a code read in the last seconds of its step"),
    Mutant("5.Q1", "(b) a window makes codes one-time", 'answer_5_q1 = "b"\n', False,
           "not how often a code may be used"),
    Mutant("5.Q1", "(d) window 0 accepts nothing", 'answer_5_q1 = "d"\n', False,
           "still accepts the current step"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("5.1", "the check's secret, whatever secret is given", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ").verify(code, for_time=now, valid_window=1)
""", False, "Check against the secret and the time you are given"),
    Mutant("5.2", "non-breaking spaces removed too", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "").replace("\u00a0", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "only ordinary spaces ' ' are removed"),

    # 5.4: the odds of a blind guesser, written from the lesson text.
    Mutant("5.4", "one minus the chance that every try misses", """
def chance_within(tries):
    return 1 - (1 - 3 / 1_000_000) ** tries
""", True),
    Mutant("5.4", "the same, with a loop", """
def chance_within(tries):
    miss = 1.0
    for _ in range(tries):
        miss *= 1 - 3 / 10 ** 6
    return 1 - miss
""", True),
    Mutant("5.4", "chances added up", """
def chance_within(tries):
    return tries * 3 / 1_000_000
""", False, "a chance is never above 1"),
    Mutant("5.4", "chances added up, capped at 1", """
def chance_within(tries):
    return min(1, tries * 3 / 1_000_000)
""", False, "counts the runs where two guesses hit twice"),
    Mutant("5.4", "one right code, the window forgotten", """
def chance_within(tries):
    return 1 - (1 - 1 / 1_000_000) ** tries
""", False, "You counted one right code only"),
    Mutant("5.4", "a percentage", """
def chance_within(tries):
    return 100 * (1 - (1 - 3 / 1_000_000) ** tries)
""", False, "not a percentage"),
    Mutant("5.4", "every try must hit", """
def chance_within(tries):
    return (3 / 1_000_000) ** tries
""", False, "no guess at all"),
    Mutant("5.4", "five digits' odds", """
def chance_within(tries):
    return 1 - (1 - 3 / 100_000) ** tries
""", False, "out of 1,000,000 six-digit codes"),
    Mutant("5.4", "two right codes (one step of slack counted once)", """
def chance_within(tries):
    return 1 - (1 - 2 / 1_000_000) ** tries
""", False, "three codes are right at any moment"),

    # 5.5: the guesser, run against stage 5.
    Mutant("5.5", "open the page, post each code, stop at the first 200", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code == 200:
            return code
    return None
""", True),
    Mutant("5.5", "reads the page for the words 2FA is enabled", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        page = client.post("/", data={"otp": code}).get_data(as_text=True)
        if "enabled" in page:
            return code
""", True),
    Mutant("5.5", "never opens the page", """
def guess_code(client, candidates):
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code == 200:
            return code
    return None
""", False, "open the page first"),
    Mutant("5.5", "anything but a 401 counts as in", """
def guess_code(client, candidates):
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code != 401:
            return code
    return None
""", False, "only a 200 means you are in"),
    Mutant("5.5", "opens the page, then anything but a 401 counts as in", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code != 401:
            return code
    return None
""", False, "only a 200 means you are in"),
    Mutant("5.5", "keeps going after it is in", """
def guess_code(client, candidates):
    client.get("/")
    found = None
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code == 200:
            found = code
    return found
""", False, "stop at the first"),
    Mutant("5.5", "gives up after 40 tries", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates[:40]:
        if client.post("/", data={"otp": code}).status_code == 200:
            return code
    return None
""", False, "send every code, in order"),
    Mutant("5.5", "returns the number of tries", """
def guess_code(client, candidates):
    client.get("/")
    for tries, code in enumerate(candidates, 1):
        if client.post("/", data={"otp": code}).status_code == 200:
            return tries
    return None
""", False, "Return the code that got a 200"),
    Mutant("5.5", "the code as a number (leading zeros lost)", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"otp": int(code)}).status_code == 200:
            return code
    return None
""", False, "leading zeros included"),
    Mutant("5.5", "the wrong field name", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"code": code}).status_code == 200:
            return code
    return None
""", False, "as the form field otp"),
    Mutant("5.5", "returns the last code tried when none gets in", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code == 200:
            return code
    return code
""", False, "return None then"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("5.1", "the three steps' codes compared in constant time", """
import hmac
def code_is_valid(secret, code, now):
    totp = pyotp.TOTP(secret)
    return any(hmac.compare_digest(totp.at(now, counter_offset=step), code) for step in (-1, 0, 1))
""", True),
    Mutant("5.1", "this step and the one after", """
def code_is_valid(secret, code, now):
    totp = pyotp.TOTP(secret)
    return code in (totp.at(now), totp.at(now + 30))
""", False, "accept the step before too"),
    Mutant("5.1", "this step and the one before", """
def code_is_valid(secret, code, now):
    totp = pyotp.TOTP(secret)
    return code in (totp.at(now - 30), totp.at(now))
""", False, "one step either side"),
    Mutant("5.1", "one second either side, not one step", """
def code_is_valid(secret, code, now):
    totp = pyotp.TOTP(secret)
    return any(totp.at(now + delta) == code for delta in (-1, 0, 1))
""", False, "accept the step before too"),
    Mutant("5.1", "the codes compared as numbers", """
def code_is_valid(secret, code, now):
    totp = pyotp.TOTP(secret)
    return int(code) in {int(totp.at(now + delta)) for delta in (-30, 0, 30)}
""", False, "without its leading zero"),
    Mutant("5.1", "the step number passed as the time", """
def code_is_valid(secret, code, now):
    return pyotp.TOTP(secret).verify(code, for_time=now // 30, valid_window=1)
""", False, "a Unix time in seconds"),
    Mutant("5.1", "the codes kept per secret from the first call", """
_codes = {}

def code_is_valid(secret, code, now):
    if secret not in _codes:
        totp = pyotp.TOTP(secret)
        _codes[secret] = {totp.at(now + delta) for delta in (-30, 0, 30)}
    return code in _codes[secret]
""", False, "kept from an earlier call"),

    Mutant("5.2", "isascii and isdigit, no regular expression", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
return code if len(code) == 6 and code.isascii() and code.isdigit() else None
"""), True),
    Mutant("5.2", "re.search finds six digits anywhere", normaliser("""
if raw is None or len(raw) > 20:
    return None
found = re.search("[0-9]{6}", raw.replace(" ", ""))
return found[0] if found else None
"""), False, "match the whole string"),
    Mutant("5.2", "20 characters refused too", normaliser("""
if raw is None or len(raw) >= 20:
    return None
code = raw.replace(" ", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "refuse only what is longer than 20"),
    Mutant("5.2", "NFKC first, so fullwidth digits count", normaliser("""
import unicodedata
if raw is None or len(raw) > 20:
    return None
code = unicodedata.normalize("NFKC", raw).replace(" ", "")
return code if re.fullmatch("[0-9]{6}", code) else None
"""), False, "fullwidth digits"),
    Mutant("5.2", "the raw value given back, spaces and all", normaliser("""
if raw is None or len(raw) > 20:
    return None
return raw if re.fullmatch("[0-9]{6}", raw.replace(" ", "")) else None
"""), False, "without its spaces"),
    Mutant("5.2", "True or False instead of the code", normaliser("""
if raw is None or len(raw) > 20:
    return False
return re.fullmatch("[0-9]{6}", raw.replace(" ", "")) is not None
"""), False, "return the code as a string"),
    Mutant("5.2", "int() decides what a number is", normaliser("""
if raw is None or len(raw) > 20:
    return None
code = raw.replace(" ", "")
try:
    int(code)
except ValueError:
    return None
return code if len(code) == 6 else None
"""), False, "allow only the ten ASCII digits"),

    Mutant("5.3", "one expression with a walrus", status_rule("""
return 400 if (code := normalise_code(raw)) is None else 200 if code_is_valid(secret, code, now) else 401
"""), True),
    Mutant("5.3", "verify first, the shape only for the status of a refusal", status_rule("""
if raw is not None and code_is_valid(secret, raw.replace(" ", ""), now):
    return 200
return 400 if normalise_code(raw) is None else 401
"""), False, "normalise_code must refuse it first"),
    Mutant("5.3", "the statuses as strings", status_rule("""
code = normalise_code(raw)
if code is None:
    return "400"
return "200" if code_is_valid(secret, code, now) else "401"
"""), False, "a number"),
    Mutant("5.3", "its own verify, with no window", status_rule("""
code = normalise_code(raw)
if code is None:
    return 400
return 200 if pyotp.TOTP(secret).verify(code, for_time=now) else 401
"""), False, "Use your code_is_valid"),
    Mutant("5.3", "the raw value stripped before anything", status_rule("""
code = normalise_code(raw.strip())
if code is None:
    return 400
return 200 if code_is_valid(secret, code, now) else 401
"""), False, "None"),
    Mutant("5.3", "400 and 401 swapped", status_rule("""
code = normalise_code(raw)
if code is None:
    return 401
return 200 if code_is_valid(secret, code, now) else 400
"""), False, "401: that code did not prove who you are"),

    Mutant("5.4", "the Poisson approximation", """
import math
def chance_within(tries):
    return -math.expm1(tries * math.log1p(-3 / 1_000_000))
""", True),
    Mutant("5.4", "one try too few in the power", """
def chance_within(tries):
    return 1 - (1 - 3 / 1_000_000) ** (tries - 1)
""", False, "zero tries never get in"),
    Mutant("5.4", "integer division for the miss", """
def chance_within(tries):
    return 1 - ((1_000_000 - 3) // 1_000_000) ** tries
""", False, "`//` rounds it down"),
    Mutant("5.4", "rounded to three places, as printed", """
def chance_within(tries):
    return round(1 - (1 - 3 / 1_000_000) ** tries, 3)
""", False, "Do not round"),
    Mutant("5.4", "the chance that every try misses", """
def chance_within(tries):
    return (1 - 3 / 1_000_000) ** tries
""", False, "at least once unless all of them miss"),
    Mutant("5.4", "the chance of exactly one hit", """
def chance_within(tries):
    p = 3 / 1_000_000
    return tries * p * (1 - p) ** (tries - 1)
""", False, "then take the opposite"),

    Mutant("5.5", "opens the page again after every refusal of the form itself", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        status = client.post("/", data={"otp": code}).status_code
        if status == 400:
            client.get("/")
            status = client.post("/", data={"otp": code}).status_code
        if status == 200:
            return code
    return None
""", True),
    Mutant("5.5", "stops at the first 400", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        status = client.post("/", data={"otp": code}).status_code
        if status == 200:
            return code
        if status == 400:
            return None
    return None
""", False, "try every code you are given before giving up"),
    Mutant("5.5", "the code sent as JSON", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", json={"otp": code}).status_code == 200:
            return code
    return None
""", False, "as the form field otp"),
    Mutant("5.5", "the code sent in the address", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/?otp=" + code).status_code == 200:
            return code
    return None
""", False, "as the form field otp"),
    Mutant("5.5", "True when in", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if client.post("/", data={"otp": code}).status_code == 200:
            return True
    return None
""", False, "Return the code that got a 200"),
]
MUTANTS += [
    # Free input to a question: two letters to be safe, or the option's words instead of its letter.
    Mutant("5.Q1", "two letters, to be safe", 'answer_5_q1 = "a, c"\n', False, "the letter of one option"),
    Mutant("5.Q1", "the option's words", 'answer_5_q1 = "right codes near the end of their 30 seconds are refused"\n',
           False, "the letter of one option"),
]
MUTANTS += [
    # 5.5, more of the second catalogue: a page read for words instead of its status.
    Mutant("5.5", "in when the page mentions 2FA", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if "2FA" in client.post("/", data={"otp": code}).get_data(as_text=True):
            return code
    return None
""", False, "only a 200 means you are in"),
    Mutant("5.5", "in when the page does not say the code is wrong", """
def guess_code(client, candidates):
    client.get("/")
    for code in candidates:
        if "not right" not in client.post("/", data={"otp": code}).get_data(as_text=True):
            return code
    return None
""", False, "only a 200 means you are in"),
]
MUTANTS += [
    # State kept across calls: an answer remembered per code, whatever the time.
    Mutant("5.1", "the verdict kept per secret and code", """
_verdicts = {}

def code_is_valid(secret, code, now):
    if (secret, code) not in _verdicts:
        _verdicts[secret, code] = pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)
    return _verdicts[secret, code]
""", False, "kept from an earlier call"),
    Mutant("5.3", "the status kept per typed value", status_rule("""
global _statuses
try:
    _statuses
except NameError:
    _statuses = {}
if raw not in _statuses:
    code = normalise_code(raw)
    _statuses[raw] = 400 if code is None else 200 if code_is_valid(secret, code, now) else 401
return _statuses[raw]
"""), False, "kept from an earlier call"),
]
MUTANTS += [
    Mutant("5.4", "one minus e to the minus expected hits", """
import math
def chance_within(tries):
    return 1 - math.exp(-3 * tries / 1_000_000)
""", True),
]
