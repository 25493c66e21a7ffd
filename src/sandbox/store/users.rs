//! Users and invitations: invited on the partner itself or on one of its accounts, one per
//! email and account, moving through `invited → active | expired`.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::accounts::{gate_inside, get_account};
use super::doc::{from_doc, new_id, to_doc};
use super::etag::{Tagged, check_if_match};
use super::outbox::write_invitation;
use super::pagination::page_query;
use super::partners::PartnerRow;
use super::people;
use super::validation::{check_email, check_name, verdict};
use crate::vocab::rules::email_key;
use crate::wire::partner::{User, UserInvite, UserListQuery, UserPatch, UserStatus};

/// The name of the account users of `account_id` live on (the partner itself or one of its
/// accounts), after the manageable gate: users inside a customer cannot change when the
/// partner is not manageable or the customer does not let it manage it.
fn gated_home(conn: &Connection, p: &PartnerRow, account_id: &str) -> Result<String, RequestError> {
    if account_id == p.id {
        return Ok(p.name.clone());
    }
    let a = get_account(conn, p, account_id)?;
    gate_inside(conn, p, &a)?;
    Ok(a.name)
}

fn load_user(conn: &Connection, p: &PartnerRow, id: &str) -> Result<User, RequestError> {
    let mut st = conn.prepare_cached("SELECT doc FROM users WHERE id = ?1 AND partner_id = ?2")?;
    let doc: Option<String> = st.query_row([id, &p.id], |r| r.get(0)).optional()?;
    doc.map(|d| from_doc(&d))
        .transpose()?
        .ok_or_else(|| RequestError::not_found("user", id))
}

/// `GET /v1/users/{id}`.
pub fn get_user(conn: &Connection, p: &PartnerRow, id: &str) -> Result<User, RequestError> {
    load_user(conn, p, id)
}

/// Saves a changed user row (its etag stamped here).
pub(super) fn save_user(tx: &Connection, u: &mut User) -> Result<(), RequestError> {
    u.stamp_etag()?;
    tx.prepare_cached("UPDATE users SET status = ?2, email_lc = ?3, doc = ?4 WHERE id = ?1")?
        .execute(params![
            u.id,
            u.status.as_str(),
            email_key(&u.email),
            to_doc(u)?
        ])?;
    Ok(())
}

/// `POST /v1/accounts/{id}/users`: invite; 409 with the existing id if the email is present.
pub fn invite_user(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    req: UserInvite,
) -> Result<User, RequestError> {
    let account_name = gated_home(tx, p, account_id)?;
    let mut errs = Vec::new();
    check_email(&mut errs, "/email", &req.email);
    check_name(&mut errs, "/name", &req.name);
    verdict(errs)?;
    let email_lc = email_key(&req.email);
    let existing: Option<String> = tx
        .prepare_cached("SELECT id FROM users WHERE account_id = ?1 AND email_lc = ?2")?
        .query_row([account_id, &email_lc], |r| r.get(0))
        .optional()?;
    if let Some(existing) = existing {
        return Err(RequestError::conflict(
            "user-exists",
            format!(
                "{} already has a user or invitation for {} ({existing}); update it instead",
                account_id, req.email
            ),
            existing,
        ));
    }
    let u = User {
        id: new_id("usr"),
        account_id: account_id.to_string(),
        email: req.email,
        name: req.name,
        role: req.role,
        status: UserStatus::Invited,
        etag: String::new(),
    };
    insert_user_row(tx, &p.id, u, &account_name)
}

/// Stores a new user row `u` (its etag stamped here) of partner `partner_id`; an invited one
/// gets its invitation email to `account_name` in the outbox.
pub(super) fn insert_user_row(
    tx: &Connection,
    partner_id: &str,
    mut u: User,
    account_name: &str,
) -> Result<User, RequestError> {
    u.stamp_etag()?;
    tx.prepare_cached(
        "INSERT INTO users (id, partner_id, account_id, email_lc, status, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        u.id,
        partner_id,
        u.account_id,
        email_key(&u.email),
        u.status.as_str(),
        to_doc(&u)?
    ])?;
    if u.status == UserStatus::Invited {
        write_invitation(tx, partner_id, &u, account_name, false)?;
    }
    Ok(u)
}

/// `PATCH /v1/users/{id}`.
pub fn patch_user(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
    patch: UserPatch,
) -> Result<User, RequestError> {
    let mut u = load_user(tx, p, id)?;
    gated_home(tx, p, &u.account_id)?;
    // An invalid body is a 400 whatever the precondition says.
    if let Some(n) = &patch.name {
        let mut errs = Vec::new();
        check_name(&mut errs, "/name", n);
        verdict(errs)?;
    }
    check_if_match(if_match, &u.etag, true)?;
    if let Some(n) = patch.name {
        u.name = n;
    }
    if let Some(r) = patch.role {
        u.role = r;
    }
    save_user(tx, &mut u)?;
    Ok(u)
}

/// `DELETE /v1/users/{id}`: revokes an invitation or removes a user.
pub fn delete_user(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), RequestError> {
    let u = load_user(tx, p, id)?;
    gated_home(tx, p, &u.account_id)?;
    check_if_match(if_match, &u.etag, true)?;
    tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// `POST /v1/users/{id}/resend`: an expired invitation becomes `invited` again, with a new email.
pub fn resend_user(tx: &Connection, p: &PartnerRow, id: &str) -> Result<User, RequestError> {
    let mut u = load_user(tx, p, id)?;
    let account_name = gated_home(tx, p, &u.account_id)?;
    if u.status != UserStatus::Expired {
        return Err(RequestError::conflict(
            "invalid-user-state",
            format!(
                "user {id} is {}; only an expired invitation can be re-sent",
                u.status.as_str()
            ),
            id,
        ));
    }
    u.status = UserStatus::Invited;
    save_user(tx, &mut u)?;
    write_invitation(tx, &p.id, &u, &account_name, true)?;
    Ok(u)
}

/// `GET /v1/users` (raw JSON page).
pub fn list_users(
    conn: &Connection,
    p: &PartnerRow,
    q: &UserListQuery,
) -> Result<String, RequestError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(x) = &q.account_id {
        f.push(("account_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.email {
        f.push(("email_lc", SqlValue::Text(email_key(x))));
    }
    if let Some(s) = q.status {
        f.push(("status", SqlValue::Text(s.as_str().into())));
    }
    page_query(conn, "users", &f, q.page_size, q.page_token.as_deref())
}

/// Admin: moves every user with `email` (case-insensitive) from one of `from` to `to`.
/// Returns the changed users.
pub fn set_user_status_by_email(
    tx: &Connection,
    email: &str,
    from: &[UserStatus],
    to: UserStatus,
) -> Result<Vec<User>, RequestError> {
    let docs: Vec<String> = tx
        .prepare("SELECT doc FROM users WHERE email_lc = ?1 ORDER BY seq")?
        .query_map([email_key(email)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut changed = Vec::new();
    for d in docs {
        let mut u: User = from_doc(&d)?;
        if from.contains(&u.status) {
            u.status = to;
            save_user(tx, &mut u)?;
            changed.push(u);
        }
    }
    if to == UserStatus::Active {
        people::mark_active(tx, email)?;
    }
    Ok(changed)
}
