"""Runs last (pytest takes files in name order): every documented status of every operation was
seen in a response the other tests checked, but for storage failures a test cannot provoke."""

import pytest

from conftest import UNPROVOKABLE


def test_every_documented_response_was_exercised(request, spec):
    if request.session.testscollected < 50:
        pytest.skip("only meaningful when the whole suite ran")
    documented = {
        (method, template, status)
        for method, template, op in spec.operations()
        for status in op["responses"]
        if status not in UNPROVOKABLE
    }
    missing = sorted(documented - spec.seen)
    assert not missing, "documented but never seen: " + ", ".join(f"{m} {t} {s}" for m, t, s in missing)
    seen_ops = {(m, t) for m, t, _ in spec.seen}
    assert seen_ops == {(m, t) for m, t, _ in spec.operations()}
