//! The `scimgate` command line as operators script it: `--json` prints exactly one JSON object
//! on the last line, errors go to stderr with a non-zero exit, and configuration layers
//! (defaults → scimgate.toml → SCIMGATE__ env → *_FILE) apply. Runs the real binary on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scimgate-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scimgate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    cmd.current_dir(dir)
        .args(args)
        .env("SCIMGATE__LOG__LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn last_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let last = stdout.lines().last().unwrap();
    serde_json::from_str(last).unwrap()
}

#[test]
fn tenant_and_token_commands_print_one_json_object_on_the_last_line() {
    let dir = temp_dir();
    let tenant = last_json(&scimgate(
        &dir,
        &["tenant", "create", "acme", "--name", "Acme", "--json"],
        &[],
    ));
    assert_eq!(tenant["slug"], "acme");
    assert!(tenant["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(tenant.as_object().unwrap().len(), 2);

    let token = last_json(&scimgate(
        &dir,
        &[
            "token",
            "create",
            "--tenant",
            "acme",
            "--expires-in",
            "90d",
            "--json",
        ],
        &[],
    ));
    let secret = token["token"].as_str().unwrap();
    assert!(secret.starts_with("scimgate_") && secret.len() > 40);
    let id = token["id"].as_str().unwrap();

    let listed = last_json(&scimgate(
        &dir,
        &["token", "list", "--tenant", "acme", "--json"],
        &[],
    ));
    let listed_text = listed.to_string();
    assert!(listed_text.contains(id));
    assert!(
        !listed_text.contains(secret),
        "a token list must never show the secret"
    );
    assert!(listed["tokens"][0]["expires"].is_string());

    let shown = last_json(&scimgate(&dir, &["tenant", "show", "acme", "--json"], &[]));
    assert_eq!(shown["settings"]["uniqueIdentifier"], "email");
    let changed = last_json(&scimgate(
        &dir,
        &[
            "tenant",
            "settings",
            "acme",
            "--unique-identifier",
            "userName",
            "--delete-behaviour",
            "remove",
            "--json",
        ],
        &[],
    ));
    assert_eq!(changed["settings"]["uniqueIdentifier"], "userName");
    assert_eq!(changed["settings"]["deleteBehaviour"], "remove");
    let access = last_json(&scimgate(
        &dir,
        &[
            "tenant",
            "settings",
            "acme",
            "--team-sync",
            "true",
            "--default-initial-role",
            "annotator",
            "--seat-limit",
            "25",
            "--activate-on",
            "first_sign_in",
            "--json",
        ],
        &[],
    ));
    assert_eq!(access["settings"]["teamSync"], true);
    assert_eq!(access["settings"]["defaultInitialRole"], "annotator");
    assert_eq!(access["settings"]["seatLimit"], 25);
    assert_eq!(access["settings"]["activateOn"], "first_sign_in");
    // The same checks as the admin API: the role must be in the catalogue.
    let out = scimgate(
        &dir,
        &[
            "tenant",
            "settings",
            "acme",
            "--default-initial-role",
            "pilot",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an organization role"));
    let none = last_json(&scimgate(
        &dir,
        &[
            "tenant",
            "settings",
            "acme",
            "--seat-limit",
            "none",
            "--json",
        ],
        &[],
    ));
    assert_eq!(none["settings"]["seatLimit"], Value::Null);

    let revoked = last_json(&scimgate(&dir, &["token", "revoke", id, "--json"], &[]));
    assert_eq!(revoked["revoked"], true);
    let listed = last_json(&scimgate(
        &dir,
        &["token", "list", "--tenant", "acme", "--json"],
        &[],
    ));
    assert!(listed["tokens"][0]["revoked"].is_string());

    // The database and the generated hash key live in ./data, the key readable by us only.
    assert!(dir.join("data/scimgate.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("data/token-hash.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn errors_go_to_stderr_with_a_non_zero_exit() {
    let dir = temp_dir();
    let out = scimgate(
        &dir,
        &["token", "create", "--tenant", "nope", "--json"],
        &[],
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant with slug \"nope\""));

    let out = scimgate(&dir, &["tenant", "create", "Not A Slug"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid tenant slug"));

    last_json(&scimgate(
        &dir,
        &["tenant", "create", "twice", "--json"],
        &[],
    ));
    let out = scimgate(&dir, &["tenant", "create", "twice", "--json"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let out = scimgate(
        &dir,
        &["token", "revoke", "00000000-0000-0000-0000-000000000000"],
        &[],
    );
    assert!(!out.status.success());

    // Lifetimes past ten years are refused, so every expiry stays a real instant.
    let out = scimgate(
        &dir,
        &[
            "token",
            "create",
            "--tenant",
            "twice",
            "--expires-in",
            "11years",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--expires-in must be at most ten years")
    );
    let out = scimgate(
        &dir,
        &["tenant", "list"],
        &[("SCIMGATE__OAUTH__SECRET_ROTATION_OVERLAP_SECONDS", "-5")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("oauth.secret_rotation_overlap_seconds must be between 0")
    );
}

#[test]
fn configuration_layers_file_then_environment_then_secret_files() {
    let dir = temp_dir();
    // scimgate.toml in the working directory chooses the database file...
    std::fs::write(
        dir.join("scimgate.toml"),
        "[database]\nurl = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    last_json(&scimgate(&dir, &["tenant", "create", "one", "--json"], &[]));
    assert!(dir.join("from-file.db").exists());
    // ...the environment overrides the file...
    last_json(&scimgate(
        &dir,
        &["tenant", "create", "two", "--json"],
        &[("SCIMGATE__DATABASE__URL", "sqlite://from-env.db")],
    ));
    assert!(dir.join("from-env.db").exists());
    let listed = last_json(&scimgate(&dir, &["tenant", "list", "--json"], &[]));
    assert_eq!(
        listed["tenants"].as_array().unwrap().len(),
        1,
        "from-file.db holds only tenant one"
    );
    // ...and a *_FILE variable supplies a secret from a file.
    std::fs::write(dir.join("url.secret"), "sqlite://from-secret-file.db\n").unwrap();
    let secret_path = dir.join("url.secret");
    last_json(&scimgate(
        &dir,
        &["tenant", "create", "three", "--json"],
        &[(
            "SCIMGATE__DATABASE__URL_FILE",
            secret_path.to_str().unwrap(),
        )],
    ));
    assert!(dir.join("from-secret-file.db").exists());
    // A short hash key is refused with a clear message.
    let out = scimgate(
        &dir,
        &["tenant", "list"],
        &[("SCIMGATE__SECURITY__TOKEN_HASH_KEY", "short")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn client_commands_show_the_secret_once_and_rotate_and_revoke() {
    let dir = temp_dir();
    last_json(&scimgate(
        &dir,
        &["tenant", "create", "acme", "--json"],
        &[],
    ));
    let created = last_json(&scimgate(
        &dir,
        &[
            "client",
            "create",
            "--tenant",
            "acme",
            "--name",
            "Okta",
            "--scope",
            "scim:read",
            "--json",
        ],
        &[],
    ));
    assert_eq!(created.as_object().unwrap().len(), 2, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sgc_"));
    assert!(secret.starts_with("scimgate_cs_") && secret.len() == "scimgate_cs_".len() + 43);

    let shown = last_json(&scimgate(&dir, &["client", "show", &id, "--json"], &[]));
    assert_eq!(shown["tenant"], "acme");
    assert_eq!(shown["scope"], "scim:read");
    assert_eq!(shown["status"], "active");
    let listed = scimgate(&dir, &["client", "list", "--tenant", "acme", "--json"], &[]);
    let listed_text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed_text.contains(&id));
    assert!(
        !listed_text.contains(&secret),
        "a list never shows a secret"
    );
    // The secret is never stored: not in the database file either.
    let db = std::fs::read(dir.join("data/scimgate.db")).unwrap();
    let wal = std::fs::read(dir.join("data/scimgate.db-wal")).unwrap_or_default();
    let needle = secret.as_bytes();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }

    let rotated = last_json(&scimgate(
        &dir,
        &["client", "rotate", &id, "--overlap", "1h", "--json"],
        &[],
    ));
    assert_ne!(rotated["client_secret"], secret.as_str());
    assert!(rotated["previous_secret_expires"].is_string());

    let revoked = last_json(&scimgate(&dir, &["client", "revoke", &id, "--json"], &[]));
    assert_eq!(revoked["revoked"], true);
    let shown = last_json(&scimgate(&dir, &["client", "show", &id, "--json"], &[]));
    assert_eq!(shown["status"], "revoked");
    let out = scimgate(&dir, &["client", "rotate", &id], &[]);
    assert!(!out.status.success(), "a revoked client cannot rotate");

    let out = scimgate(
        &dir,
        &["client", "create", "--tenant", "acme", "--scope", "root"],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scope"));
    let out = scimgate(&dir, &["client", "show", "sgc_nobody"], &[]);
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn disconnect_scim_and_key_rotation_from_the_command_line() {
    let dir = temp_dir();
    last_json(&scimgate(
        &dir,
        &["tenant", "create", "acme", "--json"],
        &[],
    ));
    last_json(&scimgate(
        &dir,
        &["client", "create", "--tenant", "acme", "--json"],
        &[],
    ));
    last_json(&scimgate(
        &dir,
        &["client", "create", "--tenant", "acme", "--json"],
        &[],
    ));
    last_json(&scimgate(
        &dir,
        &["token", "create", "--tenant", "acme", "--json"],
        &[],
    ));
    let done = last_json(&scimgate(
        &dir,
        &["tenant", "disconnect-scim", "acme", "--json"],
        &[],
    ));
    assert_eq!(done["clients_revoked"], 2);
    assert_eq!(done["tokens_revoked"], 1);
    let again = last_json(&scimgate(
        &dir,
        &["tenant", "disconnect-scim", "acme", "--json"],
        &[],
    ));
    assert_eq!(again["clients_revoked"], 0);

    let first = last_json(&scimgate(&dir, &["keys", "rotate", "--json"], &[]));
    let second = last_json(&scimgate(&dir, &["keys", "rotate", "--json"], &[]));
    assert_ne!(first["kid"], second["kid"]);
    let keys = last_json(&scimgate(&dir, &["keys", "list", "--json"], &[]));
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], second["kid"]);
    assert!(keys[0]["retired"].is_null());
    assert!(keys[1]["retired"].is_string());
    // The private keys are sealed under the generated key-encryption key, readable by us only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("data/key-encryption.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    // A key-encryption key shorter than 32 bytes is refused with a clear message.
    let out = scimgate(
        &dir,
        &["keys", "rotate"],
        &[("SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY", "short")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
    std::fs::remove_dir_all(&dir).ok();
}
