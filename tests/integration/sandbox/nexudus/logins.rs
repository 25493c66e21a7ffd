//! The Nexudus dialect's logins as a server keeps them: passwords stored with Argon2id, and an
//! older database's SHA-256 hashes replaced.

use std::path::Path;

use partnerctl::provider::nexudus::wire::TokenResponse;
use rusqlite::Connection;
use sha2::Digest;

use crate::support::Sandbox;
use crate::support::nexudus::{Auth, LOGIN, Nx, PASSWORD};

fn grant<'a>(login: &'a str, password: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "password"),
        ("username", login),
        ("password", password),
    ]
}

/// A token for [`LOGIN`].
async fn token(sb: &Sandbox) -> TokenResponse {
    let r = Nx::new(&sb.url, Auth::None)
        .token_form(&grant(LOGIN, PASSWORD))
        .await;
    serde_json::from_value(r.ok()).unwrap()
}

/// The credential row of `login`: salt, SHA-256, PHC string.
fn stored(db: &Path, login: &str) -> (String, String, Option<String>) {
    Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT salt, password_sha256, password_phc FROM credentials WHERE login_lc = ?1",
            [login],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

#[tokio::test]
async fn passwords_are_stored_with_argon2id() {
    let sb = Sandbox::nexudus(&[]);
    sb.nexudus_partner("Acme", LOGIN);
    let (salt, sha256, phc) = stored(&sb.db, LOGIN);
    let phc = phc.expect("a PHC string");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(!phc.contains(PASSWORD));
    assert_eq!(
        (salt.as_str(), sha256.as_str()),
        ("", ""),
        "nothing else kept"
    );
    token(&sb).await;
    assert_eq!(
        stored(&sb.db, LOGIN).2.as_deref(),
        Some(&phc[..]),
        "kept as is"
    );
}

/// A database as an earlier version left it: its credentials a salted SHA-256, its schema
/// without the column of Argon2id hashes.
fn make_older(db: &Path, login: &str, password: &str) {
    let salt = "00112233445566778899aabbccddeeff";
    let sha256 = format!(
        "{:x}",
        sha2::Sha256::digest(format!("{salt}:{password}").as_bytes())
    );
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "DROP INDEX credentials_unwrapped; ALTER TABLE credentials DROP COLUMN password_phc;
         PRAGMA user_version = 5;",
    )
    .unwrap();
    let partner: String = c
        .query_row("SELECT id FROM partners", [], |r| r.get(0))
        .unwrap();
    c.execute(
        "INSERT INTO credentials (login_lc, partner_id, salt, password_sha256, totp, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, '2024-01-01T00:00:00.000Z')",
        [login, &partner, salt, &sha256],
    )
    .unwrap();
}

#[tokio::test]
async fn an_older_databases_password_hashes_are_replaced_and_its_logins_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("older.db");
    crate::support::sandbox::admin(&db, &["partner", "add", "--name", "Acme"]).success();
    make_older(&db, LOGIN, PASSWORD);

    let sb = Sandbox::start_on(&db, &["--dialect", "nexudus", "--time-scale", "1000"]);
    // Opening it hashed the SHA-256 with Argon2id and erased it, before anyone signed in.
    let (salt, sha256, phc) = stored(&db, LOGIN);
    assert_eq!(sha256, "", "the fast hash is gone");
    assert_eq!(salt.len(), 32, "kept to check the next login");
    let wrapped = phc.expect("a PHC string");
    assert!(wrapped.starts_with("$argon2id$"), "{wrapped}");

    let anon = Nx::new(&sb.url, Auth::None);
    let wrong = anon.token_form(&grant(LOGIN, "wrong")).await;
    assert_eq!(wrong.body["error"], "invalid_grant", "{}", wrong.text);
    assert_eq!(stored(&db, LOGIN).2.as_deref(), Some(&wrapped[..]));
    // The right password signs in, and its hash replaces the wrapped one.
    token(&sb).await;
    let (salt, _, phc) = stored(&db, LOGIN);
    let phc = phc.unwrap();
    assert_eq!(salt, "");
    assert!(phc.starts_with("$argon2id$") && phc != wrapped, "{phc}");
    let basic = Nx::new(&sb.url, Auth::Basic(LOGIN.into(), PASSWORD.into()));
    basic.get("/api/sys/resellers").await.ok();
}
