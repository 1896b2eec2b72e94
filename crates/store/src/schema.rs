// @generated automatically by Diesel CLI.

diesel::table! {
    group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        tenant_id -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        tenant_id -> Text,
        display_name -> Text,
        display_name_lc -> Text,
        external_id -> Nullable<Text>,
        resource -> Text,
        created -> BigInt,
        last_modified -> BigInt,
        version -> BigInt,
        synced_version -> BigInt,
    }
}

diesel::table! {
    member_values (member_id, path, idx) {
        member_id -> Text,
        tenant_id -> Text,
        path -> Text,
        idx -> Integer,
        value -> Nullable<Text>,
        value_lc -> Nullable<Text>,
    }
}

diesel::table! {
    members (id) {
        id -> Text,
        tenant_id -> Text,
        user_name -> Text,
        user_name_lc -> Text,
        email_lc -> Nullable<Text>,
        identifier_lc -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        active -> Bool,
        state -> Text,
        provenance -> Text,
        scim_managed -> Bool,
        scim_visible -> Bool,
        resource -> Text,
        created -> BigInt,
        last_modified -> BigInt,
        version -> BigInt,
        first_sign_in -> Nullable<BigInt>,
    }
}

diesel::table! {
    oauth_clients (client_id) {
        client_id -> Text,
        tenant_id -> Text,
        name -> Text,
        scopes -> Text,
        grant_types -> Text,
        secret_hash -> Text,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires -> Nullable<BigInt>,
        created -> BigInt,
        secret_rotated -> Nullable<BigInt>,
        revoked -> Nullable<BigInt>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        tenant_id -> Text,
        client_id -> Text,
        revoked -> BigInt,
        expires -> BigInt,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        tenant_id -> Text,
        token_hash -> Text,
        created -> BigInt,
        expires -> Nullable<BigInt>,
        revoked -> Nullable<BigInt>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        sealed_private_key -> Text,
        created -> BigInt,
        retired -> Nullable<BigInt>,
        is_current -> Nullable<Integer>,
    }
}

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        settings -> Text,
        created -> BigInt,
    }
}

diesel::table! {
    role_catalogues (tenant_id) {
        tenant_id -> Text,
        catalogue -> Text,
        updated -> BigInt,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        name_lc -> Text,
        created -> BigInt,
    }
}

diesel::table! {
    projects (tenant_id, project_key) {
        tenant_id -> Text,
        project_key -> Text,
        name -> Text,
        workspace_id -> Nullable<Text>,
        created -> BigInt,
    }
}

diesel::table! {
    group_mappings (id) {
        id -> Text,
        tenant_id -> Text,
        kind -> Text,
        group_name -> Text,
        group_name_lc -> Text,
        group_id -> Nullable<Text>,
        role -> Nullable<Text>,
        workspace_id -> Nullable<Text>,
        project_key -> Nullable<Text>,
        created -> BigInt,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        name_lc -> Text,
        description -> Nullable<Text>,
        custom_roles -> Text,
        maintainers -> Text,
        linked_group_id -> Nullable<Text>,
        created -> BigInt,
        last_modified -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    team_members (team_id, member_id) {
        team_id -> Text,
        member_id -> Text,
        tenant_id -> Text,
    }
}

diesel::table! {
    member_access (member_id) {
        member_id -> Text,
        tenant_id -> Text,
        state -> Text,
        role -> Nullable<Text>,
        takes_seat -> Bool,
        access -> Text,
        access_version -> BigInt,
        member_version -> BigInt,
        updated -> BigInt,
    }
}

diesel::table! {
    member_sync (member_id) {
        member_id -> Text,
        tenant_id -> Text,
        access_version -> BigInt,
        synced_version -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (tenant_id) {
        tenant_id -> Text,
        url -> Text,
        secret -> Text,
        enabled -> Bool,
        created -> BigInt,
        updated -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        tenant_id -> Text,
        event_type -> Text,
        payload -> Text,
        created -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt -> BigInt,
        last_error -> Nullable<Text>,
        delivered -> Nullable<BigInt>,
    }
}

diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> members (member_id));
diesel::joinable!(groups -> tenants (tenant_id));
diesel::joinable!(member_values -> members (member_id));
diesel::joinable!(members -> tenants (tenant_id));
diesel::joinable!(oauth_clients -> tenants (tenant_id));
diesel::joinable!(revoked_tokens -> tenants (tenant_id));
diesel::joinable!(scim_tokens -> tenants (tenant_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> members (member_id));
diesel::joinable!(member_access -> members (member_id));
diesel::joinable!(member_sync -> members (member_id));
diesel::joinable!(group_mappings -> groups (group_id));
diesel::joinable!(projects -> workspaces (workspace_id));

diesel::allow_tables_to_appear_in_same_query!(
    events,
    group_mappings,
    group_members,
    groups,
    member_access,
    member_sync,
    projects,
    role_catalogues,
    team_members,
    teams,
    webhook_endpoints,
    workspaces,
    member_values,
    members,
    oauth_clients,
    revoked_tokens,
    scim_tokens,
    signing_keys,
    tenants
);
