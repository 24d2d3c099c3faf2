"""A clock that only moves when you tell it to.

Apps read the time through ``app.config["CLOCK"]``; give them a FixedClock and
every code, window and expiry becomes exactly repeatable.
"""

# The middle of a 30-second step, so that one step either side stays in the neighbouring steps.
MID_STEP_TIME = 1_700_000_000 - 1_700_000_000 % 30 + 15


class FixedClock:
    def __init__(self, now=MID_STEP_TIME):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds
