//! Dialect logins and the tokens they are granted, for dialects that authenticate with a
//! password (Nexudus's token grant and HTTP Basic). Touches the `credentials` and `tokens`
//! tables only.
//!
//! Passwords are stored as Argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`, see
//! [`PASSWORD_PARAMS`]). Older databases stored one salted SHA-256 of the password: on open
//! ([`wrap_legacy`]) that hash is hashed again with Argon2id and erased, and the salt is kept
//! to say so; the next successful login replaces it with an Argon2id hash of the password
//! itself ([`Credential::verify`] says when, [`rehash_credential`] stores it). A row without
//! a PHC string (written by an older build since) is checked as it was stored, then rehashed
//! the same way. Verifying is slow on purpose: callers do it outside the writer thread and
//! with no connection held (read the [`Credential`], verify, then write the rehash).
//!
//! Tokens: the partner API's tokens (`sandbox partner add`, `partner token`) never expire;
//! a token granted to a login ([`grant_token`]) carries its expiry and the login, and
//! [`revoke_granted_tokens`] removes a partner's granted tokens. [`bearer`] tells a request's
//! token apart: valid, expired (kept a week after it expired, to say so), or unknown.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::clock::{now_millis, now_rfc3339};
use super::doc::sha256_hex;
use super::partners::{PartnerRow, issue_token, partner_by_id};
use super::validation::{check_email, fe, verdict};

/// Argon2id's memory cost (KiB), passes and lanes: the OWASP recommendation (19 MiB, 2 passes,
/// 1 lane), the argon2 crate's defaults. One hash or check took 11 ms on an idle core of this
/// project's 2-core machines (optimised as a release build; 17 ms in the test build).
pub const PASSWORD_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

fn argon2() -> Argon2<'static> {
    let (m, t, p) = PASSWORD_PARAMS;
    let params = Params::new(m, t, p, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The Argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, RequestError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| RequestError::internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` is the one `phc` hashes (`false` for a string that is not a valid
/// Argon2 PHC string).
fn argon2_matches(phc: &str, password: &[u8]) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password, &h).is_ok())
}

/// Whether `phc` was made with other parameters than this build's (or is not Argon2id).
fn outdated(phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return true;
    };
    let (m, t, p) = PASSWORD_PARAMS;
    h.algorithm.as_str() != "argon2id"
        || h.version != Some(0x13)
        || !Params::try_from(&h)
            .is_ok_and(|got| (got.m_cost(), got.t_cost(), got.p_cost()) == (m, t, p))
}

/// The SHA-256 older databases stored.
fn legacy_hash(salt: &str, password: &str) -> String {
    sha256_hex(format!("{salt}:{password}").as_bytes())
}

/// Costs what checking a password costs, for a login that does not exist (so that a wrong
/// login cannot be told from a wrong password by the time the answer takes).
pub fn verify_nobody(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not a password").unwrap_or_default());
    let _ = argon2_matches(phc, password.as_bytes());
}

/// Gives partner `partner_id` the login `login` with `password` (and a second factor when
/// `totp`). A login belongs to one partner: 409 when it is taken. Hashing takes a while:
/// this is for admin commands, not for the server's writer.
pub fn add_credential(
    tx: &Connection,
    partner_id: &str,
    login: &str,
    password: &str,
    totp: bool,
) -> Result<(), RequestError> {
    let mut errs = Vec::new();
    check_email(&mut errs, "/login", login);
    if password.is_empty() {
        errs.push(fe("/password", "must not be empty"));
    }
    verdict(errs)?;
    let login_lc = login.to_lowercase();
    let owner: Option<String> = tx
        .prepare_cached("SELECT partner_id FROM credentials WHERE login_lc = ?1")?
        .query_row([&login_lc], |r| r.get(0))
        .optional()?;
    if let Some(owner) = owner {
        return Err(RequestError::conflict(
            "login-taken",
            format!("the login {login} is already a login of partner {owner}"),
            owner,
        ));
    }
    tx.prepare_cached(
        "INSERT INTO credentials (login_lc, partner_id, salt, password_sha256, password_phc, totp, created_at) VALUES (?1, ?2, '', '', ?3, ?4, ?5)",
    )?
    .execute(params![login_lc, partner_id, hash_password(password)?, totp, now_rfc3339()])?;
    Ok(())
}

/// How a stored password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    /// An Argon2id hash of the password.
    Argon2(String),
    /// An Argon2id hash of an older database's SHA-256 of the password with this salt.
    Wrapped { phc: String, salt: String },
    /// An older build's SHA-256 of the password with this salt, not yet wrapped.
    Sha256 { salt: String, hash: String },
}

/// A login as stored: its partner, its second factor, and its password's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The login, lowercased.
    pub login_lc: String,
    /// The partner the login acts as.
    pub partner: PartnerRow,
    /// The login requires a one-time code.
    pub totp: bool,
    stored: Stored,
}

/// What checking a password found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Not the login's password.
    Wrong,
    /// The login's password; `rehash`: the PHC string to store instead of what is stored
    /// (older parameters, or a hash from an older database).
    Right {
        /// The new PHC string, when the stored hash should be replaced.
        rehash: Option<String>,
    },
}

impl Credential {
    /// Checks `password` (slow: Argon2id). Never call it on the writer thread.
    pub fn verify(&self, password: &str) -> Result<Verified, RequestError> {
        let (right, stale) = match &self.stored {
            Stored::Argon2(phc) => (argon2_matches(phc, password.as_bytes()), outdated(phc)),
            Stored::Wrapped { phc, salt } => {
                let inner = legacy_hash(salt, password);
                (argon2_matches(phc, inner.as_bytes()), true)
            }
            Stored::Sha256 { salt, hash } => {
                let got = legacy_hash(salt, password);
                // Both are hex of the same length: compare without stopping early.
                let same = got.len() == hash.len()
                    && got
                        .bytes()
                        .zip(hash.bytes())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                (same, true)
            }
        };
        Ok(match (right, stale) {
            (false, _) => Verified::Wrong,
            (true, false) => Verified::Right { rehash: None },
            (true, true) => Verified::Right {
                rehash: Some(hash_password(password)?),
            },
        })
    }
}

/// The login `login` (any case), if it exists and its partner does.
pub fn credential(conn: &Connection, login: &str) -> Result<Option<Credential>, RequestError> {
    type Row = (String, String, String, String, Option<String>, bool);
    let found: Option<Row> = conn
        .prepare_cached(
            "SELECT login_lc, partner_id, salt, password_sha256, password_phc, totp FROM credentials WHERE login_lc = ?1",
        )?
        .query_row([login.to_lowercase()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let Some((login_lc, partner_id, salt, hash, phc, totp)) = found else {
        return Ok(None);
    };
    let stored = match phc {
        Some(phc) if salt.is_empty() => Stored::Argon2(phc),
        Some(phc) => Stored::Wrapped { phc, salt },
        None => Stored::Sha256 { salt, hash },
    };
    Ok(partner_by_id(conn, &partner_id)?.map(|partner| Credential {
        login_lc,
        partner,
        totp,
        stored,
    }))
}

/// Stores `phc` (from [`Verified::Right`]) as the password hash of `login_lc`, erasing what an
/// older database kept.
pub fn rehash_credential(tx: &Connection, login_lc: &str, phc: &str) -> Result<(), RequestError> {
    tx.prepare_cached(
        "UPDATE credentials SET password_phc = ?2, salt = '', password_sha256 = '' WHERE login_lc = ?1",
    )?
    .execute(params![login_lc, phc])?;
    Ok(())
}

/// The credentials with an older database's SHA-256 and no Argon2id hash (a partial index
/// has the same condition, so that finding none costs nothing).
pub(super) const UNWRAPPED: &str = "password_phc IS NULL";

/// Hashes every SHA-256 an older database (or an older build) stored with Argon2id and erases
/// it; the salt stays, to check the next login's password the same way. Returns how many.
pub(super) fn wrap_legacy(tx: &Connection) -> rusqlite::Result<usize> {
    let legacy: Vec<(String, String)> = tx
        .prepare(&format!(
            "SELECT login_lc, password_sha256 FROM credentials WHERE {UNWRAPPED}"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (login_lc, sha256) in &legacy {
        let phc = hash_password(sha256).map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(e.detail)))
        })?;
        tx.execute(
            "UPDATE credentials SET password_phc = ?2, password_sha256 = '' WHERE login_lc = ?1",
            params![login_lc, phc],
        )?;
    }
    Ok(legacy.len())
}

/// How long a granted token is kept after it expired, to answer that it expired (then it is
/// unknown), in milliseconds.
const EXPIRED_KEPT_MILLIS: i64 = 7 * 86_400_000;

/// Grants `login` of partner `partner_id` a token that expires `lifetime_millis` from now;
/// returns it and its expiry (epoch milliseconds). Forgets the tokens that expired more than a
/// week ago.
pub fn grant_token(
    tx: &Connection,
    partner_id: &str,
    login_lc: &str,
    lifetime_millis: i64,
) -> Result<(String, i64), RequestError> {
    let now = now_millis();
    tx.prepare_cached("DELETE FROM tokens WHERE expires_ms < ?1")?
        .execute([now.saturating_sub(EXPIRED_KEPT_MILLIS)])?;
    let token = issue_token(tx, partner_id)?;
    let expires = now.saturating_add(lifetime_millis.max(0));
    tx.prepare_cached("UPDATE tokens SET expires_ms = ?2, login_lc = ?3 WHERE token_sha256 = ?1")?
        .execute(params![sha256_hex(token.as_bytes()), expires, login_lc])?;
    Ok((token, expires))
}

/// What a bearer token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// A token of `partner`; `expires_ms`: when a granted token expires (`None`: an API token,
    /// which never does).
    Valid {
        /// Its partner.
        partner: PartnerRow,
        /// Its expiry, epoch milliseconds.
        expires_ms: Option<i64>,
    },
    /// A granted token that expired at this time (epoch milliseconds).
    Expired(i64),
    /// No such token (never issued, revoked, or expired long ago).
    Unknown,
}

/// What `token` is now.
pub fn bearer(conn: &Connection, token: &str) -> Result<Bearer, RequestError> {
    let found: Option<(String, Option<i64>)> = conn
        .prepare_cached("SELECT partner_id, expires_ms FROM tokens WHERE token_sha256 = ?1")?
        .query_row([sha256_hex(token.as_bytes())], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((partner_id, expires_ms)) = found else {
        return Ok(Bearer::Unknown);
    };
    if let Some(at) = expires_ms.filter(|at| *at <= now_millis()) {
        return Ok(Bearer::Expired(at));
    }
    Ok(match partner_by_id(conn, &partner_id)? {
        Some(partner) => Bearer::Valid {
            partner,
            expires_ms,
        },
        None => Bearer::Unknown,
    })
}

/// Removes every token granted to a login of partner `partner_id` (its API tokens stay);
/// returns how many.
pub fn revoke_granted_tokens(tx: &Connection, partner_id: &str) -> Result<usize, RequestError> {
    Ok(tx
        .prepare_cached("DELETE FROM tokens WHERE partner_id = ?1 AND expires_ms IS NOT NULL")?
        .execute([partner_id])?)
}

#[cfg(test)]
mod tests {
    use super::super::{Store, add_partner};
    use super::*;

    fn check(store: &Store, login: &str, password: &str) -> Option<(Credential, Verified)> {
        let c = store.read(|c| credential(c, login)).unwrap()?;
        let v = c.verify(password).unwrap();
        Some((c, v))
    }

    #[test]
    fn logins_check_their_password_and_belong_to_one_partner() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let (p, _) = store.write(|tx| add_partner(tx, "P", true)).unwrap();
        let id = p.id.clone();
        store
            .write(move |tx| add_credential(tx, &id, "Ops@P.example", "s3cret", false))
            .unwrap();
        let id = p.id.clone();
        let again = store.write(move |tx| add_credential(tx, &id, "ops@p.example", "x", true));
        assert_eq!(again.unwrap_err().code, "login-taken");
        let bad = store.write(|tx| add_credential(tx, "x", "not an email", "", false));
        assert_eq!(bad.unwrap_err().errors.len(), 2);
        let (ok, v) = check(&store, "ops@p.example", "s3cret").unwrap();
        assert_eq!((ok.partner.id, ok.totp), (p.id, false));
        assert_eq!(v, Verified::Right { rehash: None });
        let (_, v) = check(&store, "OPS@p.example", "nope").unwrap();
        assert_eq!(v, Verified::Wrong);
        assert!(check(&store, "who@p.example", "s3cret").is_none());
        let stored: (String, String, String) = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT salt, password_sha256, password_phc FROM credentials",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!((&stored.0[..], &stored.1[..]), ("", ""));
        assert!(
            stored.2.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.2
        );
    }

    /// A hash made with other parameters is still checked with its own, and replaced.
    #[test]
    fn a_hash_with_other_parameters_is_replaced_on_the_next_login() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        let c = Credential {
            login_lc: "a@b.example".into(),
            partner: PartnerRow {
                id: "ptn_1".into(),
                name: "P".into(),
                manageable: true,
                support_level: "standard".into(),
            },
            totp: false,
            stored: Stored::Argon2(weak),
        };
        assert_eq!(c.verify("nope").unwrap(), Verified::Wrong);
        let Verified::Right { rehash: Some(new) } = c.verify("pw").unwrap() else {
            panic!("a right password with old parameters is rehashed")
        };
        assert!(!outdated(&new), "{new}");
        assert!(argon2_matches(&new, b"pw"));
    }

    /// An older database's SHA-256 is wrapped on open (and erased), checked through the
    /// wrapping, and replaced by a hash of the password itself at the next login; a row an
    /// older build adds afterwards is checked as it was stored.
    #[test]
    fn an_older_databases_password_hashes_are_wrapped_then_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let store = Store::open(&path).unwrap();
        let (p, _) = store.write(|tx| add_partner(tx, "P", true)).unwrap();
        drop(store);
        let legacy = |login: &str, password: &str| {
            let salt = "0123456789abcdef";
            let c = Connection::open(&path).unwrap();
            c.execute(
                "INSERT INTO credentials (login_lc, partner_id, salt, password_sha256, totp, created_at) VALUES (?1, ?2, ?3, ?4, 0, 'then')",
                params![login, p.id, salt, legacy_hash(salt, password)],
            )
            .unwrap();
        };
        legacy("old@p.example", "pw1");
        let store = Store::open(&path).unwrap();
        let row = |store: &Store, login: &'static str| {
            store
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT salt, password_sha256, password_phc FROM credentials WHERE login_lc = ?1",
                        [login],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)),
                    )?)
                })
                .unwrap()
        };
        let (salt, sha, phc) = row(&store, "old@p.example");
        assert_eq!((salt.as_str(), sha.as_str()), ("0123456789abcdef", ""));
        assert!(phc.unwrap().starts_with("$argon2id$"));
        assert_eq!(
            check(&store, "old@p.example", "pw2").unwrap().1,
            Verified::Wrong
        );
        let (c, v) = check(&store, "old@p.example", "pw1").unwrap();
        let Verified::Right { rehash: Some(new) } = v else {
            panic!("{v:?}")
        };
        store
            .write(move |tx| rehash_credential(tx, &c.login_lc, &new))
            .unwrap();
        let (salt, _, _) = row(&store, "old@p.example");
        assert_eq!(salt, "");
        assert_eq!(
            check(&store, "old@p.example", "pw1").unwrap().1,
            Verified::Right { rehash: None }
        );

        // An older build's row, added while this build has the database open.
        legacy("older@p.example", "pw3");
        assert_eq!(
            check(&store, "older@p.example", "pw4").unwrap().1,
            Verified::Wrong
        );
        assert!(matches!(
            check(&store, "older@p.example", "pw3").unwrap().1,
            Verified::Right { rehash: Some(_) }
        ));
    }

    #[test]
    fn granted_tokens_expire_and_are_revoked_and_api_tokens_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let (p, api) = store.write(|tx| add_partner(tx, "P", true)).unwrap();
        let id = p.id.clone();
        let (live, at) = store
            .write(move |tx| grant_token(tx, &id, "ops@p.example", 3_600_000))
            .unwrap();
        assert!(at > now_millis() + 3_500_000);
        let id = p.id.clone();
        let (gone, at) = store
            .write(move |tx| grant_token(tx, &id, "ops@p.example", 0))
            .unwrap();
        let state = |t: String| store.read(move |c| bearer(c, &t)).unwrap();
        assert!(matches!(
            state(live.clone()),
            Bearer::Valid {
                expires_ms: Some(_),
                ..
            }
        ));
        assert_eq!(state(gone), Bearer::Expired(at));
        assert!(matches!(
            state(api.clone()),
            Bearer::Valid {
                expires_ms: None,
                ..
            }
        ));
        assert_eq!(state("psk_nope".into()), Bearer::Unknown);
        let id = p.id.clone();
        let n = store
            .write(move |tx| revoke_granted_tokens(tx, &id))
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(state(live), Bearer::Unknown);
        assert!(matches!(state(api), Bearer::Valid { .. }));
    }
}
