//! Tests of the catalog's rules: effective grants, the last-admin rule, names, and decoding.

use super::*;
use crate::auth::hash_secret;

fn ctx() -> Context {
    Context { now_ms: 1_000, ..Context::default() }
}

fn run(catalog: &mut Catalog, changes: Vec<Change>) {
    for change in changes {
        apply(catalog, &change, &ctx()).unwrap_or_else(|e| panic!("{change:?}: {e}"));
    }
}

fn user(name: &str) -> Change {
    Change::CreateUser { name: name.into(), password_hash: None, disabled: false }
}

fn grant(subject: Subject, table: &str, permissions: &[Permission]) -> Change {
    Change::Grant { subject, table: table.into(), permissions: permissions.to_vec() }
}

fn admin_catalog() -> Catalog {
    let mut c = Catalog::default();
    run(&mut c, vec![user("root"), grant(Subject::User("root".into()), ALL_TABLES, &[Permission::Admin])]);
    c
}

#[test]
fn effective_grants_are_own_plus_groups() {
    let mut c = admin_catalog();
    run(
        &mut c,
        vec![
            user("alice"),
            Change::CreateGroup { name: "field-techs".into() },
            grant(Subject::Group("field-techs".into()), "weather", &[Permission::Add]),
            grant(Subject::User("alice".into()), "weather", &[Permission::View]),
            Change::AddMember { group: "field-techs".into(), user: "alice".into() },
        ],
    );
    assert_eq!(c.effective_grants("alice")["weather"], vec![Permission::View, Permission::Add]);
    run(&mut c, vec![Change::RemoveMember { group: "field-techs".into(), user: "alice".into() }]);
    assert_eq!(c.effective_grants("alice")["weather"], vec![Permission::View]);
    run(
        &mut c,
        vec![Change::Revoke { subject: Subject::User("alice".into()), table: "weather".into(), permissions: vec![] }],
    );
    assert!(c.effective_grants("alice").is_empty());
}

#[test]
fn the_last_admin_cannot_be_removed_in_any_way() {
    let mut c = admin_catalog();
    let group_admin = vec![
        Change::CreateGroup { name: "ops".into() },
        grant(Subject::Group("ops".into()), ALL_TABLES, &[Permission::Admin]),
    ];
    run(&mut c, group_admin);
    let refused = [
        Change::DeleteUser { name: "root".into() },
        Change::SetUserEnabled { name: "root".into(), enabled: false },
        Change::Revoke { subject: Subject::User("root".into()), table: ALL_TABLES.into(), permissions: vec![] },
    ];
    for change in &refused {
        let before = c.clone();
        let err = apply(&mut c, change, &ctx()).expect_err("last admin");
        assert!(matches!(err, AccessError::LastAdmin { .. }), "{err}");
        assert!(err.to_string().contains("no enabled user with admin"), "{err}");
        assert_eq!(c, before, "a refused change changes nothing");
    }
    // A second admin through a group: now root may go.
    run(&mut c, vec![user("bob"), Change::AddMember { group: "ops".into(), user: "bob".into() }]);
    let err = apply(&mut c, &Change::DeleteGroup { name: "ops".into() }, &ctx());
    assert_eq!(err, Ok(()), "root is still admin");
    run(&mut c, vec![Change::CreateGroup { name: "ops".into() }]);
    run(&mut c, vec![grant(Subject::Group("ops".into()), ALL_TABLES, &[Permission::Admin])]);
    run(&mut c, vec![Change::AddMember { group: "ops".into(), user: "bob".into() }]);
    run(&mut c, vec![Change::DeleteUser { name: "root".into() }]);
    let err = apply(&mut c, &Change::RemoveMember { group: "ops".into(), user: "bob".into() }, &ctx());
    assert!(matches!(err, Err(AccessError::LastAdmin { .. })), "{err:?}");
    // With an admin token in the config file, the rule does not bind.
    let file_admin = Context { file_admin: true, ..ctx() };
    apply(&mut c, &Change::DeleteUser { name: "bob".into() }, &file_admin).expect("file admin remains");
}

#[test]
fn bad_input_is_refused_with_a_reason_and_changes_nothing() {
    let mut c = admin_catalog();
    let before = c.clone();
    let file = Context { file_names: ["ingest-agent".to_owned()].into(), ..ctx() };
    let cases: Vec<(Change, &Context, &str)> = vec![
        (user("1bad"), &file, "must start with a letter"),
        (user("ingest-agent"), &file, "defined in the config file"),
        (user("root"), &file, "already exists"),
        (Change::CreateGroup { name: "a b".into() }, &file, "is not allowed"),
        (grant(Subject::User("nobody".into()), "t", &[Permission::View]), &file, "does not exist"),
        (grant(Subject::User("root".into()), "bad-table", &[Permission::View]), &file, "\"*\" (every table)"),
        (grant(Subject::User("root".into()), "t", &[]), &file, "at least one permission"),
        (Change::AddMember { group: "none".into(), user: "root".into() }, &file, "does not exist"),
        (
            Change::AddToken {
                user: "root".into(),
                name: "t".into(),
                sha256: Some(hash_secret("x")),
                expires_ms: Some(5),
            },
            &file,
            "not in the future",
        ),
        (Change::RevokeToken { user: "root".into(), name: "none".into() }, &file, "does not exist"),
    ];
    for (change, ctx, says) in cases {
        let err = apply(&mut c, &change, ctx).expect_err(says);
        assert!(err.to_string().contains(says), "{change:?}: {err}");
        assert_eq!(c, before);
    }
    let unknown = Permission::parse("fly").expect_err("unknown permission");
    assert!(
        unknown.to_string().contains("\"fly\"") && unknown.to_string().contains("view, add, change, delete, admin")
    );
}

#[test]
fn a_token_secret_is_unique_and_only_its_hash_is_kept() {
    let mut c = admin_catalog();
    let add = |name: &str| Change::AddToken {
        user: "root".into(),
        name: name.into(),
        sha256: Some(hash_secret("isobar_secret")),
        expires_ms: None,
    };
    run(&mut c, vec![add("laptop")]);
    let err = apply(&mut c, &add("phone"), &ctx()).expect_err("same secret");
    assert!(err.to_string().contains("same secret"), "{err}");
    let text = encode(&c);
    assert!(!text.contains("isobar_secret") && text.contains(&hash_secret("isobar_secret").to_string()));
    assert_eq!(decode(FORMAT, 1, &text).expect("decodes"), c);
}

#[test]
fn decoding_refuses_other_formats_garbage_and_broken_rules_without_panicking() {
    let c = admin_catalog();
    let text = encode(&c);
    assert!(matches!(decode(2, 1, &text), Err(DecodeError::Format { got: 2 })));
    for cut in 0..text.len() {
        if let Some(prefix) = text.get(..cut) {
            assert!(decode(FORMAT, 1, prefix).is_err(), "a cut at {cut} is refused");
        }
    }
    let dangling = r#"{"users":{},"groups":{"g":{"created_ms":1,"members":["ghost"],"grants":{}}}}"#;
    let err = decode(FORMAT, 3, dangling).expect_err("member is no user");
    assert!(err.to_string().contains("\"ghost\" is not a user") && err.to_string().contains("generation 3"), "{err}");
    let bad_perm = r#"{"users":{"a":{"enabled":true,"created_ms":1,"grants":{"t":["fly"]},"tokens":{}}}}"#;
    assert!(decode(FORMAT, 1, bad_perm).expect_err("unknown permission").to_string().contains("fly"));
    let plain_password = r#"{"users":{"a":{"enabled":true,"password":"hunter22","created_ms":1}}}"#;
    assert!(decode(FORMAT, 1, plain_password).expect_err("not a hash").to_string().contains("Argon2id"));
}
