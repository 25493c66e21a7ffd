//! Dialect logins: a login (an email) and password that act as a partner, for dialects that
//! authenticate with a password (Nexudus's token grant and HTTP Basic). Only a salted SHA-256
//! of the password is stored (one round: this is a local sandbox, not a password vault). A
//! login may require a second factor (`totp`).

use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use super::doc::sha256_hex;
use super::partners::{PartnerRow, partner_by_id};
use super::validation::{check_email, fe, verdict};

/// A login's password hash.
fn hash(salt: &str, password: &str) -> String {
    sha256_hex(format!("{salt}:{password}").as_bytes())
}

/// Gives partner `partner_id` the login `login` with `password` (and a second factor when
/// `totp`). A login belongs to one partner: 409 when it is taken.
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
    let salt = format!("{:032x}", rand::rng().random::<u128>());
    tx.prepare_cached(
        "INSERT INTO credentials (login_lc, partner_id, salt, password_sha256, totp, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![login_lc, partner_id, salt, hash(&salt, password), totp, now_rfc3339()])?;
    Ok(())
}

/// A checked login: its partner, and whether it needs a second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCheck {
    /// The partner the login acts as.
    pub partner: PartnerRow,
    /// The login requires a one-time code.
    pub totp: bool,
}

/// The partner of `login` when `password` is its password (`None`: unknown login or wrong
/// password, which a caller must not tell apart).
pub fn check_credential(
    conn: &Connection,
    login: &str,
    password: &str,
) -> Result<Option<LoginCheck>, RequestError> {
    let found: Option<(String, String, String, bool)> = conn
        .prepare_cached(
            "SELECT partner_id, salt, password_sha256, totp FROM credentials WHERE login_lc = ?1",
        )?
        .query_row([login.to_lowercase()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((partner_id, salt, stored, totp)) = found else {
        return Ok(None);
    };
    if hash(&salt, password) != stored {
        return Ok(None);
    }
    Ok(partner_by_id(conn, &partner_id)?.map(|partner| LoginCheck { partner, totp }))
}

#[cfg(test)]
mod tests {
    use super::super::{Store, add_partner};
    use super::*;

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
        let ok = store
            .read(|c| check_credential(c, "ops@p.example", "s3cret"))
            .unwrap()
            .unwrap();
        assert_eq!((ok.partner.id, ok.totp), (p.id, false));
        assert!(
            store
                .read(|c| check_credential(c, "ops@p.example", "nope"))
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .read(|c| check_credential(c, "who@p.example", "s3cret"))
                .unwrap()
                .is_none()
        );
    }
}
