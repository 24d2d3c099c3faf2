"""The eight stage apps: where each lives and which lesson teaches it."""
from dataclasses import dataclass
from pathlib import Path

from . import ROOT

APP_STEPS = ROOT / "app_steps"


@dataclass(frozen=True)
class Stage:
    number: int
    slug: str  # e.g. "verify_route"
    lesson_slug: str = ""  # when the lesson's name differs from the folder's ("phishing_and_passkeys")

    @property
    def folder(self) -> Path:
        return APP_STEPS / f"step_{self.number:02d}_{self.slug}"

    @property
    def lesson(self) -> str:
        return f"{self.number:02d}_{self.lesson_slug or self.slug}"


STAGES = [
    Stage(1, "install"),
    Stage(2, "secret_key"),
    Stage(3, "qr_code"),
    Stage(4, "template"),
    Stage(5, "verify_route"),
    Stage(6, "login_flow"),
    Stage(7, "hardening"),
    Stage(8, "passkeys", lesson_slug="phishing_and_passkeys"),
]


def stage(number: int) -> Stage:
    """The stage with this number (1-8)."""
    for candidate in STAGES:
        if candidate.number == number:
            return candidate
    raise ValueError(f"There is no stage {number}: the stages are 1 to {len(STAGES)}.")

