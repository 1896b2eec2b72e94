"""Unit tests of okta_runner's reading of Runscope assertions (no server needed).

    python3 -m unittest discover -s tests/conformance -p 'test_*.py'
"""

import json
import random
import unittest
from pathlib import Path

import okta_runner as r

HERE = Path(__file__).resolve().parent


def response(body, status=200, elapsed_ms=5.0):
    return r.Response(status=status, headers={}, text=json.dumps(body), elapsed_ms=elapsed_ms)


def check(comparison, source="response_json", prop=None, value=None, body=None, status=200, elapsed_ms=5.0):
    assertion = {"comparison": comparison, "source": source, "property": prop, "value": value}
    ok, _ = r.evaluate(assertion, response(body or {}, status, elapsed_ms), {}, set())
    return ok


class PropertyPaths(unittest.TestCase):
    def test_a_path_reads_keys_and_indexes(self):
        doc = {"Resources": [{"name": {"familyName": "Hopper"}, "emails": [{"value": "g@x"}]}]}
        self.assertEqual(r.resolve(doc, "Resources[0].name.familyName"), "Hopper")
        self.assertEqual(r.resolve(doc, "Resources[0].emails[0].value"), "g@x")

    def test_a_key_on_an_array_plucks_it_from_every_element(self):
        doc = {"emails": [{"type": "work"}, {"value": "a@x"}, {"value": "b@x"}]}
        self.assertEqual(r.resolve(doc, "emails.value"), ["a@x", "b@x"])

    def test_a_path_that_leads_nowhere_is_missing(self):
        self.assertIs(r.resolve({"a": [1]}, "a[3]"), r.MISSING)
        self.assertIs(r.resolve({"a": {}}, "a.b.c"), r.MISSING)
        self.assertIs(r.resolve({"a": "text"}, "a.b"), r.MISSING)


class Comparisons(unittest.TestCase):
    def test_equal_compares_text_like_runscope(self):
        self.assertTrue(check("equal", prop="active", value="true", body={"active": True}))
        self.assertTrue(check("equal", prop="totalResults", value="0", body={"totalResults": 0}))
        self.assertFalse(check("equal", prop="active", value="true", body={"active": "True"}))

    def test_not_empty_takes_false_and_zero_as_values(self):
        self.assertTrue(check("not_empty", prop="etag.supported", body={"etag": {"supported": False}}))
        self.assertTrue(check("not_empty", prop="bulk.maxOperations", body={"bulk": {"maxOperations": 0}}))
        for empty in ("", [], {}, None):
            self.assertFalse(check("not_empty", prop="x", body={"x": empty}), empty)
        self.assertFalse(check("not_empty", prop="x", body={}))

    def test_has_value_on_an_array_looks_for_the_element(self):
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}
        self.assertTrue(check("has_value", prop="schemas", value=body["schemas"][0], body=body))
        self.assertFalse(check("has_value", prop="schemas", value="urn:other", body=body))

    def test_has_value_with_no_value_needs_one_element_that_has_the_field(self):
        with_email = {"Resources": [{"emails": [{"type": "work"}, {"value": "a@x"}]}]}
        without = {"Resources": [{"emails": [{"type": "work"}]}]}
        no_emails = {"Resources": [{"userName": "a"}]}
        prop = "Resources[0].emails.value"
        self.assertTrue(check("has_value", prop=prop, body=with_email))
        self.assertFalse(check("has_value", prop=prop, body=without))
        self.assertFalse(check("has_value", prop=prop, body=no_emails))

    def test_contains_looks_into_arrays_and_strings(self):
        self.assertTrue(check("contains", prop="schemas", value="urn:a", body={"schemas": ["urn:b", "urn:a"]}))
        self.assertTrue(check("contains", prop="detail", value="found", body={"detail": "not found"}))
        self.assertFalse(check("contains", prop="schemas", value="urn:c", body={"schemas": ["urn:b"]}))

    def test_is_a_number_wants_a_json_number(self):
        self.assertTrue(check("is_a_number", prop="n", body={"n": 1}))
        self.assertFalse(check("is_a_number", prop="n", body={"n": "1"}))
        self.assertFalse(check("is_a_number", prop="n", body={"n": True}))

    def test_numeric_comparisons_use_status_and_time(self):
        self.assertTrue(check("equal_number", source="response_status", value="201", status=201))
        self.assertFalse(check("equal_number", source="response_status", value="201", status=200))
        self.assertTrue(check("is_less_than", source="response_time", value="400", elapsed_ms=399.0))
        self.assertFalse(check("is_less_than", source="response_time", value="400", elapsed_ms=400.0))

    def test_a_failed_request_fails_every_assertion(self):
        resp = r.Response(status=None, headers={}, text="", elapsed_ms=1.0, error="ConnectionRefusedError")
        ok, why = r.evaluate({"comparison": "equal_number", "source": "response_status", "value": "200"}, resp, {}, set())
        self.assertFalse(ok)
        self.assertIn("request failed", why)


class Requests(unittest.TestCase):
    def test_raw_query_strings_are_encoded(self):
        url = r.encode_url('http://h:1/scim/v2/Users?filter=userName eq "A+B@x.com"&count=1')
        self.assertEqual(url, "http://h:1/scim/v2/Users?filter=userName%20eq%20%22A%2BB%40x.com%22&count=1")

    def test_variables_are_substituted_and_unknown_ones_reported(self):
        unresolved = set()
        out = r.substitute("{{a}}/{{ b }}/{{c}}", {"a": "1", "b": "2"}, unresolved)
        self.assertEqual(out, "1/2/{{c}}")
        self.assertEqual(unresolved, {"c"})

    def test_the_random_user_follows_oktas_setup(self):
        v = r.initial_variables("http://h/scim/v2/", "tok", random.Random(1))
        self.assertEqual(v["SCIMBaseURL"], "http://h/scim/v2")
        self.assertEqual(v["auth"], "Bearer tok")
        self.assertEqual(v["randomUsername"], v["randomEmail"])
        self.assertIn("@", v["randomUsername"])
        self.assertEqual(v["randomUsernameCaps"], v["randomUsername"].upper())
        self.assertNotEqual(v["InvalidUserEmail"], v["randomEmail"])


class Suite(unittest.TestCase):
    def test_the_suite_has_91_assertions_and_one_known_script(self):
        suite = json.loads((HERE / "Okta-SCIM-20-SPEC-Test.json").read_text(encoding="utf-8"))
        steps = suite["steps"]
        self.assertEqual(sum(len(s.get("assertions", [])) for s in steps), 91)
        self.assertEqual(sum(1 for s in steps if s["step_type"] == "request"), 16)
        scripts = [sc for s in steps for sc in s.get("scripts", [])]
        self.assertEqual(len(scripts), 1)
        self.assertIn(r.script_key(scripts[0]), r.KNOWN_SCRIPTS)

    def test_the_groups_script_needs_a_result_and_an_array(self):
        check_groups = next(iter(r.KNOWN_SCRIPTS.values()))[1]
        self.assertTrue(check_groups(response({"totalResults": 1, "Resources": [{}]}))[0])
        self.assertFalse(check_groups(response({"totalResults": 0, "Resources": []}))[0])
        self.assertFalse(check_groups(response({"totalResults": 1}))[0])


if __name__ == "__main__":
    unittest.main()
