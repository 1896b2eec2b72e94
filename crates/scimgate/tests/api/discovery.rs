//! Discovery (RFC 7644 §4): ServiceProviderConfig describes the configured limits and what the
//! server really does (INTEROP 11); ResourceTypes and Schemas list what the server uses.

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn the_service_provider_config_matches_the_configured_limits() {
    for_each_backend(|app| async move {
        let res = app.scim.get("/ServiceProviderConfig").await.expect(200);
        let spc = &res.body;
        assert_eq!(spc["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]));
        assert_eq!(spc["patch"], json!({"supported": true}));
        assert_eq!(
            spc["bulk"],
            json!({"supported": true, "maxOperations": BULK_MAX_OPERATIONS, "maxPayloadSize": BULK_MAX_PAYLOAD_BYTES})
        );
        assert_eq!(spc["filter"], json!({"supported": true, "maxResults": MAX_PAGE_SIZE}));
        assert_eq!(spc["changePassword"], json!({"supported": false}));
        assert_eq!(spc["sort"], json!({"supported": true}));
        assert_eq!(spc["etag"], json!({"supported": true}));
        let schemes = spc["authenticationSchemes"].as_array().expect("authenticationSchemes");
        assert_eq!(schemes.len(), 1);
        assert_eq!(schemes[0]["type"], "oauthbearertoken");
        assert!(schemes[0]["name"].is_string() && schemes[0]["description"].is_string());
        assert_eq!(spc["meta"]["location"], json!(app.scim.url("/ServiceProviderConfig")));
        assert!(res.header("content-type").is_some_and(|c| c.starts_with("application/scim+json")));
    })
    .await;
}

#[tokio::test]
async fn the_service_provider_config_follows_other_limits_too() {
    for_each_backend_with(
        |s| {
            s.scim.bulk_max_operations = 3;
            s.scim.max_page_size = 7;
        },
        |app| async move {
            let spc = app
                .scim
                .get("/ServiceProviderConfig")
                .await
                .expect(200)
                .body;
            assert_eq!(spc["bulk"]["maxOperations"], 3);
            assert_eq!(spc["filter"]["maxResults"], 7);
        },
    )
    .await;
}

#[tokio::test]
async fn resource_types_list_users_and_groups() {
    for_each_backend(|app| async move {
        let res = app.scim.get("/ResourceTypes").await.expect(200);
        assert_eq!(res.total(), 2);
        let user_rt = res
            .resources()
            .into_iter()
            .find(|r| r["id"] == "User")
            .expect("a User resource type");
        assert_eq!(user_rt["endpoint"], "/Users");
        assert_eq!(user_rt["schema"], USER_URN);
        assert_eq!(
            user_rt["schemaExtensions"],
            json!([
                {"schema": ENTERPRISE_URN, "required": false},
                {"schema": scimgate_domain::access::ACCESS_EXTENSION_URN, "required": false}
            ])
        );
        let group_rt = res
            .resources()
            .into_iter()
            .find(|r| r["id"] == "Group")
            .expect("a Group resource type");
        assert_eq!(group_rt["endpoint"], "/Groups");
        assert_eq!(group_rt["schema"], GROUP_URN);
        let one = app.scim.get("/ResourceTypes/User").await.expect(200);
        assert_eq!(one.body, user_rt);
        app.scim
            .get("/ResourceTypes/Widget")
            .await
            .expect_error(404, None);
    })
    .await;
}

#[tokio::test]
async fn schemas_list_the_user_enterprise_access_and_group_schemas() {
    for_each_backend(|app| async move {
        let res = app.scim.get("/Schemas").await.expect(200);
        let mut ids = res.each("id");
        ids.sort();
        assert_eq!(
            ids,
            [
                GROUP_URN,
                USER_URN,
                ENTERPRISE_URN,
                scimgate_domain::access::ACCESS_EXTENSION_URN
            ]
        );
        assert_eq!(res.total(), 4);
        // Published like the others, and the role attributes are in it (SEMANTICS 17).
        let ext = app
            .scim
            .get(&format!(
                "/Schemas/{}",
                scimgate_domain::access::ACCESS_EXTENSION_URN
            ))
            .await
            .expect(200);
        let names: Vec<&str> = ext.body["attributes"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["role", "customRole", "roleAttributes"]);
    })
    .await;
}

#[tokio::test]
async fn the_user_schema_is_served_at_its_urn() {
    for_each_backend(|app| async move {
        let res = app
            .scim
            .get(&format!("/Schemas/{USER_URN}"))
            .await
            .expect(200);
        assert_eq!(res.body["id"], USER_URN);
        assert_eq!(
            res.body["meta"]["location"],
            json!(app.scim.url(&format!("/Schemas/{USER_URN}")))
        );
        let attrs = res.body["attributes"].as_array().expect("attributes");
        let find = |name: &str| -> Value {
            attrs
                .iter()
                .find(|a| a["name"] == name)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let user_name = find("userName");
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["caseExact"], false, "INTEROP 15");
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(find("active")["type"], "boolean");
        assert_eq!(find("emails")["multiValued"], true);
        assert_eq!(find("password")["returned"], "never");
        let enterprise = app
            .scim
            .get(&format!("/Schemas/{ENTERPRISE_URN}"))
            .await
            .expect(200);
        assert_eq!(enterprise.body["id"], ENTERPRISE_URN);
        app.scim
            .get("/Schemas/urn:example:nothing")
            .await
            .expect_error(404, None);
    })
    .await;
}
