"""Stage apps with one protection taken out: what a lesson's attack first succeeds against.

Each function changes an app that ``make_stage_app`` built, in that app's own modules
(every load of a stage has fresh ones), and leaves the stage's files as they are.
"""


def without_device_cookies(app):
    """Stage 7 with no trusted browsers: every browser's failures count in the account's one bucket.

    That is a throttle per account alone, the design a stranger who knows a username can
    use to keep the owner out.
    """
    login_view = app.view_functions["auth.login"]
    login_view.__globals__["devices"].trusted = lambda user_id, now: None
    return app
