"""Lesson 07's attacks against the student's own app, before and after the Build that defends against each
(issue 22, item 2: "the check confirms it works there, then they write the defence and the same attack fails").

``attack_my_app(exercise_id, attack)`` (workbook/my_app.py) plays the attack's scene on the app in my_app/. Here
the app is built by following lesson 07's Build steps (test_lesson_07_build.follow_the_steps) with the solutions'
answers, and the attacks are the solutions' answers to 7.A1-7.A3: each is turned away (✅); with a wrong defence
pasted in at its step, the same attack gets in (❌, naming the step to look at).
"""
import re

import pytest
from test_lesson_07_build import LESSON, follow_the_steps, mutant, stage_6_copy

from workbook.my_app import attack_my_app
from workbook.visitor import submit_form

from lesson_build import answer, build_sections, edit, paste_above, replace_body
from mutants import lesson_07, lesson_07_round_two

# Each attack, the part whose Build puts in its defence, and a wrong defence that lets it in (exercise, source).
ATTACKS = {
    "7.A1": ("replay", 1, ("7.1", mutant(lesson_07, "7.1", "<= lets the same step in again"))),
    "7.A2": ("mallorys_page", 5, None),
    "7.A3": ("reuse_cookie", 6, ("7.6", lesson_07_round_two.SESSION_USER_RIGHT + lesson_07_round_two.END_ALL_RIGHT.replace(
        '"DELETE FROM sessions WHERE user_id = ?"', '"DELETE FROM sessions WHERE id_hash = ?"'))),  # a user's id for a session's
}


def the_attack(exercise_id):
    """The solutions' answer to an attack, defined as the notebook defines it (``submit`` is the lesson's)."""
    name = ATTACKS[exercise_id][0]
    namespace = {"submit": submit_form}
    exec(answer(LESSON, exercise_id), namespace)
    return namespace[name]


def test_each_attacks_build_tells_the_student_to_run_it_against_their_app():
    sections = build_sections(LESSON)
    for exercise_id, (name, part, _wrong) in ATTACKS.items():
        build = sections[part]  # sections[0]: the Build before Part 1
        assert f'attack_my_app("{exercise_id}", {name})' in build, f"part {part}'s Build does not run {exercise_id}"


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", ATTACKS)
def test_before_its_build_the_students_app_lets_their_attack_in_and_a_dud_is_named(tmp_path, capsys, exercise_id):
    """The Build of the attack's part opens with the attack, on the app the Builds before it leave: its place still
    says "Not built yet", and the attack gets in (✅ says the app is open to it); an attack that does nothing did
    not, and is told so."""
    _name, part, _wrong = ATTACKS[exercise_id]
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=part - 1)
    capsys.readouterr()
    attack_my_app(exercise_id, the_attack(exercise_id), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith(f"✅ Your attack {exercise_id} gets into your app"), said
    assert f"Part {part}'s Build" in said, said

    def dud(*args):  # 7.A2's page only looks at Alice's dashboard
        return f'<img src="{args[0]}/dashboard">' if exercise_id == "7.A2" else None

    attack_my_app(exercise_id, dud, app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith(f"❌ Your attack {exercise_id} did not get into your app, which has no defence"), said


def test_a_replay_that_raises_before_its_build_shows_the_error(tmp_path, capsys):
    """Run without the lesson's first cell, a replay has no ``submit``: the line says so, not only that it failed."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=0)
    capsys.readouterr()

    def replay(*args):
        return submit(*args)  # noqa: F821 - the lesson's helper, not defined here

    attack_my_app("7.A1", replay, app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("❌ Your attack 7.A1 did not get into your app"), said
    assert "your function raised NameError" in said and "submit" in said, said


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", ATTACKS)
def test_after_its_build_the_students_app_turns_their_attack_away(tmp_path, capsys, exercise_id):
    _name, part, _wrong = ATTACKS[exercise_id]
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=part)
    attack_my_app(exercise_id, the_attack(exercise_id), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith(f"✅ Your app turned your attack {exercise_id} away"), said


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", [e for e, (_, _, wrong) in ATTACKS.items() if wrong])
def test_with_a_wrong_defence_the_same_attack_gets_in_and_the_step_is_named(tmp_path, capsys, exercise_id):
    _name, part, (exercise, source) = ATTACKS[exercise_id]
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, {exercise: source}, through_part=part)
    attack_my_app(exercise_id, the_attack(exercise_id), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith(f"❌ Your attack {exercise_id} got in against your app"), said
    assert f"Exercise {exercise}" in said, said


OPEN_REPLAY_GUARD = "    return True  # Not built yet: Part 1's Build"


def _part_1_built_by_hand(app, body):
    """Part 1's Build done by hand on the app the Build before Part 1 leaves: 7.1's answer pasted above
    use_timecode, and ``body`` (the slips a walker made) where the step says."""
    paste_above(app / "user_management.py", "# ANCHOR: replay_check\ndef use_timecode(", answer(LESSON, "7.1"))
    body(app / "user_management.py")


@pytest.mark.slow
def test_a_defence_put_in_beside_the_line_it_replaces_is_told_to_take_that_line_out(tmp_path, capsys):
    """A walker's slip: the new `return accept_once(...)` added above the open line, which stays. The defence works,
    but the file still says Part 1 is not built, so the check expects the attack to get in: the ❌ names the file and
    the line to take out, not only "get ✅ from your attack's check", which it already had."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=0)
    _part_1_built_by_hand(app, lambda path: edit(
        path, OPEN_REPLAY_GUARD, "    return accept_once(get_db(), user_id, timecode)\n" + OPEN_REPLAY_GUARD))
    capsys.readouterr()
    attack_my_app("7.A1", the_attack("7.A1"), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("❌ Your attack 7.A1 did not get into your app"), said
    assert "user_management.py still says \"Not built yet: Part 1's Build\"" in said, said
    assert "Take out the line" in said, said


@pytest.mark.slow
def test_a_guard_whose_answer_is_not_returned_is_told_alices_own_login_failed(tmp_path, capsys):
    """A walker's slip: use_timecode calls accept_once without `return`, so every code is refused, Alice's too. The
    ❌ says her own login failed before any attack and where to look, not that "the scene is not what the check
    expects"."""
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=0)
    _part_1_built_by_hand(app, lambda path: replace_body(
        path, "use_timecode", "    accept_once(get_db(), user_id, timecode)\n"))
    capsys.readouterr()
    attack_my_app("7.A1", the_attack("7.A1"), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("❌ Your app refused Alice's own login, before any attack"), said
    assert "/verify-2fa, got 401" in said and "step 2, your accept_once (Exercise 7.1)" in said, said


def test_no_app_an_unfinished_attack_and_an_unknown_id_each_get_a_line_not_a_traceback(tmp_path, capsys):
    attack_my_app("7.A1", the_attack("7.A1"), tmp_path / "nothing_here")
    assert capsys.readouterr().out.startswith("❌ There is no ")

    def unfinished(*args):
        raise NotImplementedError

    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=1)
    capsys.readouterr()
    attack_my_app("7.A1", unfinished, app)
    assert capsys.readouterr().out.startswith("⏳ Finish Exercise 7.A1 first")
    attack_my_app("7.3", the_attack("7.A1"), app)
    assert "not one of lesson 07's attacks" in capsys.readouterr().out


def test_an_app_that_cannot_play_the_scene_gets_a_line_not_a_traceback(tmp_path, capsys):
    app = stage_6_copy(tmp_path)
    follow_the_steps(app, through_part=1)
    (app / "app.py").write_text((app / "app.py").read_text(encoding="utf-8") + "\nraise RuntimeError('broken')\n",
                                encoding="utf-8")
    attack_my_app("7.A1", the_attack("7.A1"), app)
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("❌ The scene could not be played on your app") and "check_my_app(7)" in said, said
    assert re.search(r"Traceback", said) is None
