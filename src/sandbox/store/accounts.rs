//! Accounts: customers, networks and sub-accounts of a partner, with their kind/parent rules,
//! unique external keys and the manageable gate (the partner's, and each customer's own flag):
//! behind it are everything inside a customer and the customer's deletion; creating a customer
//! and changing its own record are not.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use super::doc::{from_doc, new_id, to_doc};
use super::etag::{Tagged, check_if_match};
use super::numbers;
use super::pagination::page_query;
use super::partners::PartnerRow;
use super::validation::{
    check_contact, check_country, check_external_key, check_labels, check_name, check_timezone, fe,
    verdict,
};
use crate::wire::partner::{
    Account, AccountCreate, AccountKind, AccountListQuery, AccountPatch, FieldError,
};

fn load_account(
    conn: &Connection,
    partner_id: &str,
    id: &str,
) -> Result<Option<Account>, RequestError> {
    let mut st =
        conn.prepare_cached("SELECT doc FROM accounts WHERE id = ?1 AND partner_id = ?2")?;
    let doc: Option<String> = st.query_row([id, partner_id], |r| r.get(0)).optional()?;
    doc.map(|d| from_doc(&d)).transpose()
}

/// `GET /v1/accounts/{id}`.
pub fn get_account(conn: &Connection, p: &PartnerRow, id: &str) -> Result<Account, RequestError> {
    load_account(conn, &p.id, id)?.ok_or_else(|| RequestError::not_found("account", id))
}

fn external_key_owner(
    conn: &Connection,
    partner_id: &str,
    key: &str,
) -> Result<Option<String>, RequestError> {
    let mut st =
        conn.prepare_cached("SELECT id FROM accounts WHERE partner_id = ?1 AND external_key = ?2")?;
    Ok(st.query_row([partner_id, key], |r| r.get(0)).optional()?)
}

fn external_key_taken(key: &str, owner: String) -> RequestError {
    RequestError::conflict(
        "external-key-taken",
        format!(
            "external_key {key:?} is already used by account {owner}; adopt or update that account instead"
        ),
        owner,
    )
}

/// A customer's parent is the partner (`parent_id` may be omitted).
fn customer_parent(p: &PartnerRow, req: &AccountCreate, errs: &mut Vec<FieldError>) -> String {
    match &req.parent_id {
        None => p.id.clone(),
        Some(x) if *x == p.id => x.clone(),
        Some(x) => {
            errs.push(fe(
                "/parent_id",
                format!(
                    "a customer's parent is the partner {}; got {x:?} (omit parent_id)",
                    p.id
                ),
            ));
            x.clone()
        }
    }
}

/// Where a new account may be created: through the API (behind the manageable gate), or at the
/// vendor's dashboard (a person there may create inside any customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Api,
    Dashboard,
}

/// The parent id a new account gets; problems with it go to `errs`. A customer's parent is the
/// partner; a network's must be a customer, a sub-account's a network (both, through the API,
/// behind the manageable gate).
fn resolve_parent(
    tx: &Connection,
    p: &PartnerRow,
    req: &AccountCreate,
    errs: &mut Vec<FieldError>,
    by: By,
) -> Result<String, RequestError> {
    let kind = req.kind;
    let want = match kind {
        AccountKind::Customer => return Ok(customer_parent(p, req, errs)),
        AccountKind::Network => AccountKind::Customer,
        AccountKind::SubAccount => AccountKind::Network,
    };
    let Some(x) = &req.parent_id else {
        errs.push(fe(
            "/parent_id",
            format!("required: the id of the {want} this {kind} belongs to"),
        ));
        return Ok(String::new());
    };
    match load_account(tx, &p.id, x)? {
        None => errs.push(fe("/parent_id", format!("no account {x:?}"))),
        Some(parent) if parent.kind != want => errs.push(fe(
            "/parent_id",
            format!(
                "a {kind}'s parent must be a {want}, but {x} is a {}",
                parent.kind
            ),
        )),
        Some(parent) if by == By::Api => gate_inside(tx, p, &parent)?,
        Some(_) => {}
    }
    Ok(x.clone())
}

/// The field rules of a new account (besides its parent): customers need a contact, a country
/// and a time zone.
fn check_create(req: &AccountCreate, errs: &mut Vec<FieldError>) {
    let customer = req.kind == AccountKind::Customer;
    check_name(errs, "/name", &req.name);
    if let Some(k) = &req.external_key {
        check_external_key(errs, "/external_key", k);
    }
    match &req.contact {
        Some(c) => check_contact(errs, c),
        None if customer => errs.push(fe("/contact", "required for customers: {name, email}")),
        None => {}
    }
    match &req.country {
        Some(c) => check_country(errs, "/country", c),
        None if customer => errs.push(fe(
            "/country",
            "required for customers (ISO 3166-1 alpha-2)",
        )),
        None => {}
    }
    match &req.timezone {
        Some(t) => check_timezone(errs, "/timezone", t),
        None if customer => errs.push(fe("/timezone", "required for customers (IANA name)")),
        None => {}
    }
    check_labels(errs, &req.labels);
}

/// `POST /v1/accounts`.
pub fn create_account(
    tx: &Connection,
    p: &PartnerRow,
    req: AccountCreate,
) -> Result<Account, RequestError> {
    create(tx, p, req, By::Api)
}

/// Admin: creates an account as the vendor's dashboard does, validated like the API but not
/// behind the manageable gate.
pub fn create_account_at_dashboard(
    tx: &Connection,
    p: &PartnerRow,
    req: AccountCreate,
) -> Result<Account, RequestError> {
    create(tx, p, req, By::Dashboard)
}

fn create(
    tx: &Connection,
    p: &PartnerRow,
    req: AccountCreate,
    by: By,
) -> Result<Account, RequestError> {
    let mut errs = Vec::new();
    let parent_id = resolve_parent(tx, p, &req, &mut errs, by)?;
    check_create(&req, &mut errs);
    verdict(errs)?;
    if let Some(k) = &req.external_key
        && let Some(owner) = external_key_owner(tx, &p.id, k)?
    {
        return Err(external_key_taken(k, owner));
    }
    // A network or sub-account created without a country or time zone takes its parent's, as
    // a location created for a customer does in the vendors' dashboards.
    let (mut country, mut timezone) = (req.country, req.timezone);
    if req.kind != AccountKind::Customer && (country.is_none() || timezone.is_none()) {
        if let Some(parent) = load_account(tx, &p.id, &parent_id)? {
            country = country.or(parent.country);
            timezone = timezone.or(parent.timezone);
        }
    }
    let now = now_rfc3339();
    let mut a = Account {
        id: new_id("acc"),
        kind: req.kind,
        parent_id,
        external_key: req.external_key,
        name: req.name,
        contact: req.contact,
        country,
        timezone,
        labels: req.labels,
        manageable: (req.kind == AccountKind::Customer).then_some(true),
        etag: String::new(),
        created_at: now.clone(),
        updated_at: now,
    };
    a.stamp_etag()?;
    tx.prepare_cached(
        "INSERT INTO accounts (id, partner_id, kind, parent_id, external_key, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![a.id, p.id, a.kind.as_str(), a.parent_id, a.external_key, to_doc(&a)?])?;
    if a.kind == AccountKind::Customer {
        tx.prepare_cached("UPDATE accounts SET link_number = ?2 WHERE id = ?1")?
            .execute(params![a.id, numbers::reserve(tx)?])?;
    }
    Ok(a)
}

/// The manageable gate of a write inside `a` (in it or below it, and for a network or a
/// sub-account, to it), or of `a`'s deletion: 403 `management-disabled` naming the customer
/// when the partner is not manageable, or when the customer does not let its partner manage it.
pub(super) fn gate_inside(
    conn: &Connection,
    p: &PartnerRow,
    a: &Account,
) -> Result<(), RequestError> {
    let mut customer = a.clone();
    while customer.kind != AccountKind::Customer {
        customer = load_account(conn, &p.id, &customer.parent_id)?.ok_or_else(|| {
            RequestError::internal(format!("account {} has no parent", customer.id))
        })?;
    }
    let named = format!("{:?} ({})", customer.name, customer.id);
    if !p.manageable {
        return Err(RequestError::management_disabled(&named));
    }
    let manageable: bool = conn
        .prepare_cached("SELECT manageable FROM accounts WHERE id = ?1")?
        .query_row([&customer.id], |r| r.get(0))?;
    if !manageable {
        return Err(RequestError::customer_not_manageable(&named));
    }
    Ok(())
}

/// The field rules of the fields a patch sets.
fn check_patch(patch: &AccountPatch, errs: &mut Vec<FieldError>) {
    if let Some(n) = &patch.name {
        check_name(errs, "/name", n);
    }
    if let Some(Some(k)) = &patch.external_key {
        check_external_key(errs, "/external_key", k);
    }
    if let Some(c) = &patch.contact {
        check_contact(errs, c);
    }
    if let Some(c) = &patch.country {
        check_country(errs, "/country", c);
    }
    if let Some(t) = &patch.timezone {
        check_timezone(errs, "/timezone", t);
    }
    if let Some(l) = &patch.labels {
        check_labels(errs, l);
    }
}

/// Sets the fields the patch carries.
fn apply_patch(a: &mut Account, patch: AccountPatch) {
    if let Some(k) = patch.external_key {
        a.external_key = k;
    }
    if let Some(n) = patch.name {
        a.name = n;
    }
    if patch.contact.is_some() {
        a.contact = patch.contact;
    }
    if patch.country.is_some() {
        a.country = patch.country;
    }
    if patch.timezone.is_some() {
        a.timezone = patch.timezone;
    }
    if let Some(l) = patch.labels {
        a.labels = l;
    }
}

/// `PATCH /v1/accounts/{id}`.
pub fn patch_account(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
    patch: AccountPatch,
) -> Result<Account, RequestError> {
    let mut a = get_account(tx, p, id)?;
    // A customer's own record may change; a network or sub-account is inside its customer.
    if a.kind != AccountKind::Customer {
        gate_inside(tx, p, &a)?;
    }
    // An invalid body is a 400 whatever the precondition says.
    let mut errs = Vec::new();
    check_patch(&patch, &mut errs);
    verdict(errs)?;
    check_if_match(if_match, &a.etag, true)?;
    if let Some(Some(k)) = &patch.external_key
        && let Some(owner) = external_key_owner(tx, &p.id, k)?.filter(|o| o != id)
    {
        return Err(external_key_taken(k, owner));
    }
    apply_patch(&mut a, patch);
    a.updated_at = now_rfc3339();
    a.stamp_etag()?;
    tx.prepare_cached("UPDATE accounts SET external_key = ?2, doc = ?3 WHERE id = ?1")?
        .execute(params![a.id, a.external_key, to_doc(&a)?])?;
    Ok(a)
}

/// `DELETE /v1/accounts/{id}`: refuses (409) while the account has child accounts; removes the
/// account's users and services with it (so deleting a customer is behind the manageable gate
/// too).
pub fn delete_account(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), RequestError> {
    let a = get_account(tx, p, id)?;
    gate_inside(tx, p, &a)?;
    check_if_match(if_match, &a.etag, true)?;
    let child: Option<String> = tx
        .prepare_cached("SELECT id FROM accounts WHERE parent_id = ?1 LIMIT 1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(child) = child {
        return Err(RequestError::conflict(
            "has-children",
            format!("account {id} still has child accounts (e.g. {child}); delete them first"),
            child,
        ));
    }
    tx.prepare_cached("DELETE FROM users WHERE account_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM services WHERE account_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM accounts WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// `GET /v1/accounts` (raw JSON page).
pub fn list_accounts(
    conn: &Connection,
    p: &PartnerRow,
    q: &AccountListQuery,
) -> Result<String, RequestError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(k) = q.kind {
        f.push(("kind", SqlValue::Text(k.as_str().into())));
    }
    if let Some(x) = &q.parent_id {
        f.push(("parent_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.external_key {
        f.push(("external_key", SqlValue::Text(x.clone())));
    }
    page_query(conn, "accounts", &f, q.page_size, q.page_token.as_deref())
}

/// Admin: the partner's accounts of `kind` named `name`, oldest first.
pub fn accounts_named(
    conn: &Connection,
    partner_id: &str,
    kind: AccountKind,
    name: &str,
) -> Result<Vec<Account>, RequestError> {
    let docs: Vec<String> = conn
        .prepare_cached(
            "SELECT doc FROM accounts WHERE partner_id = ?1 AND kind = ?2 AND json_extract(doc, '$.name') = ?3 ORDER BY seq",
        )?
        .query_map(params![partner_id, kind.as_str(), name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    docs.iter().map(|d| from_doc(d)).collect()
}
