//! The Nexudus dialect's logins as a server keeps them: passwords stored with Argon2id (and an
//! older database's SHA-256 hashes replaced), failed logins throttled per login, granted tokens
//! that expire and that an admin command revokes.

use std::path::Path;
use std::time::Duration;

use partnerctl::wire::nexudus::TokenResponse;
use rusqlite::Connection;
use sha2::Digest;

use crate::support::nexudus::{Auth, LOGIN, Nx, NxResp, PASSWORD};
use crate::support::{Api, Sandbox};

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
/// without the columns of hashes and expiries.
fn make_older(db: &Path, login: &str, password: &str) {
    let salt = "00112233445566778899aabbccddeeff";
    let sha256 = format!(
        "{:x}",
        sha2::Sha256::digest(format!("{salt}:{password}").as_bytes())
    );
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "DROP INDEX credentials_unwrapped; DROP INDEX tokens_granted; DROP INDEX tokens_expiring;
         ALTER TABLE credentials DROP COLUMN password_phc;
         ALTER TABLE tokens DROP COLUMN expires_ms; ALTER TABLE tokens DROP COLUMN login_lc;
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

/// `n` grants for `login` with a wrong password, each refused as such.
async fn wrong_grants(anon: &Nx, login: &str, n: usize) {
    for i in 0..n {
        let r = anon.token_form(&grant(login, "wrong password")).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (400, Some("invalid_grant")),
            "attempt {i}: {}",
            r.text
        );
    }
}

/// Asserts the throttle's answer; returns the wait it announced.
#[track_caller]
fn throttled(r: &NxResp, window: Duration) -> Duration {
    assert!(r.throttled(), "{} {:?} {}", r.status, r.headers, r.text);
    let ms: u64 = r.header("x-retry-after-ms").unwrap().parse().unwrap();
    let wait = Duration::from_millis(ms);
    assert!(wait <= window, "{wait:?}");
    wait
}

#[tokio::test]
async fn failed_logins_are_throttled_per_login_right_password_or_not() {
    // Fifteen minutes last three seconds.
    let sb = Sandbox::nexudus(&["--time-scale", "300"]);
    let window = Duration::from_secs(3);
    sb.nexudus_partner("Acme", LOGIN);
    let other = "ops@globex.example";
    sb.nexudus_partner("Globex", other);
    let third = "ops@initech.example";
    sb.nexudus_partner("Initech", third);
    let anon = Nx::new(&sb.url, Auth::None);
    let basic = Nx::new(&sb.url, Auth::Basic(LOGIN.into(), PASSWORD.into())).raw();

    // A burst of wrong passwords on the token endpoint: the right one is refused too, there
    // and with Basic, until the window has passed; another login is not.
    wrong_grants(&anon, LOGIN, 5).await;
    let right = anon.token_form(&grant(LOGIN, PASSWORD)).await;
    let wait = throttled(&right, window);
    throttled(&basic.get("/api/sys/resellers").await, window);
    anon.token_form(&grant(other, PASSWORD)).await.ok();
    tokio::time::sleep(wait).await;
    anon.token_form(&grant(LOGIN, PASSWORD)).await.ok();

    // A burst of wrong passwords with Basic: the same, also for Basic credentials the server
    // has already accepted.
    basic.get("/api/sys/resellers").await.ok();
    let wrong = Nx::new(&sb.url, Auth::Basic(LOGIN.into(), "wrong".into())).raw();
    for i in 0..5 {
        let r = wrong.get("/api/sys/resellers").await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
    }
    let wait = throttled(&wrong.get("/api/sys/resellers").await, window);
    throttled(&anon.token_form(&grant(LOGIN, PASSWORD)).await, window);
    throttled(&basic.get("/api/sys/resellers").await, window);
    tokio::time::sleep(wait).await;
    basic.get("/api/sys/resellers").await.ok();

    // Twenty wrong passwords sent at once get no more tries than five sent in turn.
    let burst = (0..20).map(|_| {
        let anon = anon.clone();
        tokio::spawn(async move {
            anon.token_form(&grant(third, "wrong password"))
                .await
                .status
        })
    });
    let mut statuses = Vec::new();
    for s in burst.collect::<Vec<_>>() {
        statuses.push(s.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [[400; 5].as_slice(), &[409; 15]].concat());
    throttled(&anon.token_form(&grant(third, PASSWORD)).await, window);

    // A success forgets the failures before it.
    wrong_grants(&anon, other, 4).await;
    anon.token_form(&grant(other, PASSWORD)).await.ok();
    wrong_grants(&anon, other, 4).await;
    anon.token_form(&grant(other, PASSWORD)).await.ok();
}

#[tokio::test]
async fn a_granted_token_lasts_a_week_on_the_sandboxs_clock() {
    // At the vendor's pace: a week, and the database says when it ends.
    let sb = Sandbox::nexudus(&["--time-scale", "1"]);
    sb.nexudus_partner("Acme", LOGIN);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t = token(&sb).await;
    assert_eq!(t.expires_in, 604_799);
    let hash = format!("{:x}", sha2::Sha256::digest(t.access_token.as_bytes()));
    let expires: i64 = Connection::open(&sb.db)
        .unwrap()
        .query_row(
            "SELECT expires_ms FROM tokens WHERE token_sha256 = ?1",
            [hash],
            |r| r.get(0),
        )
        .unwrap();
    let lifetime = expires - before;
    assert!(
        (604_799_000..604_829_000).contains(&lifetime),
        "{lifetime} ms"
    );
    drop(sb);

    // Sped up so that a week lasts two seconds: refused once they have passed.
    let sb = Sandbox::nexudus(&["--time-scale", "302399.5"]);
    sb.nexudus_partner("Acme", LOGIN);
    let t = token(&sb).await;
    assert_eq!(t.expires_in, 2);
    let bearer = Nx::new(&sb.url, Auth::Bearer(t.access_token.clone()));
    bearer.get("/api/sys/resellers").await.ok();
    tokio::time::sleep(Duration::from_secs(t.expires_in)).await;
    let r = bearer.get("/api/sys/resellers").await.refused(401);
    let message = r["Message"].as_str().unwrap_or_default();
    assert!(message.contains("the token expired at"), "{r}");
    // On the partner API of the same database too.
    let api = Sandbox::start_on(&sb.db, &[]);
    let p = Api::new(&api.url, &t.access_token)
        .get("/v1/partner")
        .await
        .err(401, "unauthorized");
    assert!(p.to_string().contains("the token expired at"), "{p}");
    // A new grant gives a new token.
    let again = token(&sb).await;
    Nx::new(&sb.url, Auth::Bearer(again.access_token))
        .get("/api/sys/resellers")
        .await
        .ok();
}

#[tokio::test]
async fn revoking_a_partners_tokens_refuses_them_at_once_and_keeps_its_api_tokens() {
    let sb = Sandbox::nexudus(&[]);
    let (_, api_token) = sb.nexudus_partner_token("Acme", LOGIN);
    let globex = "ops@globex.example";
    sb.nexudus_partner("Globex", globex);
    let partner_api = Sandbox::start_on(&sb.db, &[]);
    let (t1, t2) = (token(&sb).await.access_token, token(&sb).await.access_token);
    let g: TokenResponse = serde_json::from_value(
        Nx::new(&sb.url, Auth::None)
            .token_form(&grant(globex, PASSWORD))
            .await
            .ok(),
    )
    .unwrap();
    let nx = |t: &str| Nx::new(&sb.url, Auth::Bearer(t.to_string()));
    let on_partner_api = |t: &str| Api::new(&partner_api.url, t);
    // Both servers have seen every token before it is revoked.
    for t in [&t1, &t2, &api_token] {
        nx(t).get("/api/sys/resellers").await.ok();
        on_partner_api(t).get("/v1/partner").await.ok("Partner");
    }

    let run = sb
        .admin(&["partner", "revoke-tokens", "--name", "Acme"])
        .success();
    run.stderr_contains("revoked 2 tokens");
    for t in [&t1, &t2] {
        nx(t).get("/api/sys/resellers").await.refused(401);
        on_partner_api(t)
            .get("/v1/partner")
            .await
            .err(401, "unauthorized");
    }
    nx(&api_token).get("/api/sys/resellers").await.ok();
    nx(&g.access_token).get("/api/sys/resellers").await.ok();
    // The login still signs in.
    nx(&token(&sb).await.access_token)
        .get("/api/sys/resellers")
        .await
        .ok();

    crate::support::cli::partnerctl()
        .args(["sandbox", "partner", "--help"])
        .run()
        .success()
        .stdout_contains("revoke-tokens");
    sb.admin(&["partner", "revoke-tokens", "--name", "Nobody"])
        .code(1)
        .stderr_contains("no partner is named \"Nobody\"");
}
