"""The test user that the tests, the grader's behaviour tests and the benchmarks sign up.

One password everywhere, long and uncommon enough for stage 7's password rules.
"""
USERNAME = "alice"
PASSWORD = "correct horse battery"
