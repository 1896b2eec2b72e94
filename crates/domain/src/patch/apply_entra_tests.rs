//! PATCH shapes Entra ID and older Microsoft clients send (INTEROP 2, 3, 4, 9, 10).

use serde_json::json;

use super::*;

#[test]
fn entra_booleans_sent_as_strings_are_coerced() {
    // INTEROP 2 and 3.
    assert_eq!(
        patched(json!([{"op":"Replace","path":"active","value":"False"}]))["active"],
        false
    );
    assert_eq!(
        patched(json!([{"op":"Replace","path":"active","value":"false"}]))["active"],
        false
    );
    assert_eq!(
        patched(json!([{"op":"Replace","path":"active","value":"True"}]))["active"],
        true
    );
    let e = refused(json!([{"op":"Replace","path":"active","value":"maybe"}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn entra_filter_paths_to_missing_values_build_one_value() {
    // INTEROP 4.
    let out = patched(json!([
        {"op":"Add","path":"addresses[type eq \"work\"].formatted","value":"1 Main St, Springfield"},
        {"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"},
        {"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Springfield"},
        {"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}
    ]));
    assert_eq!(
        out["addresses"],
        json!([{"type": "work", "formatted": "1 Main St, Springfield", "streetAddress": "1 Main St", "locality": "Springfield"}])
    );
    assert_eq!(
        out["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
}

#[test]
fn entra_sets_the_manager_as_a_bare_string() {
    // INTEROP 9.
    let out = patched(
        json!([{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"26118915-6090-4610-87e4-49d8ca9f808d"}]),
    );
    assert_eq!(
        out[ENT],
        json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})
    );
    let out = patched(
        json!([{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}]),
    );
    assert_eq!(out[ENT], json!({"manager": {"value": "m2"}}));
}

#[test]
fn entra_user_update_in_one_request() {
    let out = patched(json!([
        {"op":"Replace","path":"displayName","value":"Babs Jensen"},
        {"op":"Replace","path":"name.givenName","value":"Babs"},
        {"op":"Add","path":"emails[type eq \"work\"].value","value":"babs@example.com"},
        {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
        {"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}
    ]));
    assert_eq!(out["displayName"], "Babs Jensen");
    assert_eq!(out["name"]["givenName"], "Babs");
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@example.com", "type": "work", "primary": true}])
    );
    assert_eq!(out[ENT], json!({"department": "Sales"}));
}

#[test]
fn older_microsoft_clients_send_single_values_as_a_value_array() {
    // INTEROP 10, in a PATCH.
    let out =
        patched(json!([{"op":"Replace","path":"displayName","value":[{"$ref":null,"value":"x"}]}]));
    assert_eq!(out["displayName"], "x");
    let out = patched(json!([{"op":"Replace","value":{"title":[{"$ref":null,"value":"x"}]}}]));
    assert_eq!(out["title"], "x");
}

#[test]
fn entra_sets_the_manager_as_a_value_object_too() {
    // INTEROP 9, the RFC shape.
    let out = patched(
        json!([{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}]),
    );
    assert_eq!(out[ENT], json!({"manager": {"value": "m1"}}));
}
