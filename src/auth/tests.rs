//! Tests of permissions, grants and token checks.

use super::*;

fn grants(pairs: &[(&str, &[Permission])]) -> Grants {
    pairs.iter().map(|(t, p)| ((*t).to_owned(), p.to_vec())).collect()
}

fn auth() -> Authenticator {
    Authenticator::with_tokens([
        ("reader".to_owned(), hash_secret("s-reader"), grants(&[("*", &[Permission::Read])])),
        ("weather-writer".to_owned(), hash_secret("s-writer"), grants(&[("weather", &[Permission::Write])])),
        ("ops".to_owned(), hash_secret("s-ops"), grants(&[("weather", &[Permission::Admin])])),
    ])
}

#[test]
fn the_right_secret_gives_its_principal_and_others_are_refused() {
    let auth = auth();
    assert_eq!(auth.authenticate("s-reader").map(|p| p.name), Ok("reader".to_owned()));
    assert_eq!(auth.authenticate("s-ops\n").map(|p| p.name), Ok("ops".to_owned()), "trailing newline of a file");
    assert_eq!(auth.authenticate("s-reade"), Err(AuthError::Unknown));
    assert_eq!(auth.authenticate(""), Err(AuthError::Missing));
    assert_eq!(auth.authenticate_optional(None), Err(AuthError::Missing));
}

#[test]
fn disabled_authentication_lets_everyone_do_everything() {
    let auth = Authenticator::disabled();
    let p = auth.authenticate_optional(None).expect("anonymous");
    assert_eq!(p, Principal::anonymous());
    for perm in [Permission::Read, Permission::Write, Permission::Admin] {
        assert!(p.allows("any_table", perm));
    }
}

#[test]
fn grants_apply_per_table_and_through_the_wildcard() {
    let auth = auth();
    let reader = auth.authenticate("s-reader").expect("reader");
    assert!(reader.allows("weather", Permission::Read));
    assert!(reader.allows("trucks", Permission::Read));
    assert!(!reader.allows("weather", Permission::Write));
    let writer = auth.authenticate("s-writer").expect("writer");
    assert!(writer.allows("weather", Permission::Write));
    assert!(!writer.allows("weather", Permission::Read), "write does not imply read");
    assert!(!writer.allows("trucks", Permission::Write));
}

#[test]
fn admin_implies_read_and_write_on_the_same_table_only() {
    let ops = auth().authenticate("s-ops").expect("ops");
    for perm in [Permission::Read, Permission::Write, Permission::Admin] {
        assert!(ops.allows("weather", perm), "{perm}");
        assert!(!ops.allows("trucks", perm), "{perm}");
    }
}

#[test]
fn a_denial_names_the_token_table_and_permission() {
    let reader = auth().authenticate("s-reader").expect("reader");
    let err = reader.require("weather", Permission::Admin).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token \"reader\" lacks the admin permission on table \"weather\"",
        "the message is what the client sees"
    );
}

#[test]
fn token_hashes_parse_from_hex_and_print_back() {
    let h = hash_secret("test");
    assert_eq!(h.to_string(), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_eq!(h.to_string().to_uppercase().parse::<TokenHash>(), Ok(h));
    assert!(h.ct_eq(&hash_secret(" test ")));
    assert!(!h.ct_eq(&hash_secret("tesT")));
    let short = "abc".parse::<TokenHash>().unwrap_err();
    assert!(short.to_string().contains("expected 64 hex digits") && short.to_string().contains("got 3 characters"));
    let bad = format!("{}zz", &h.to_string()[..62]).parse::<TokenHash>().unwrap_err();
    assert!(bad.to_string().contains("not a hex digit near position 63"), "{bad}");
    let non_ascii = format!("{}é", &h.to_string()[..62]).parse::<TokenHash>().unwrap_err();
    assert!(non_ascii.to_string().contains("not a hex digit"), "{non_ascii}");
}

#[test]
fn generated_secrets_are_random_and_long() {
    let a = generate_secret().expect("OS randomness");
    let b = generate_secret().expect("OS randomness");
    assert_ne!(a, b);
    assert!(a.starts_with("isobar_") && a.len() == 7 + 64, "{a}");
}
