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
