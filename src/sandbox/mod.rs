//! Stage `sandbox`: a local, durable implementation of the partner API, and of vendor dialects
//! (Nexudus) over the same store.
//! May touch: the SQLite file, loopback sockets. Depends on nothing of the crate but the wire
//! types it shares with the clients ([`crate::wire::partner`], and
//! [`crate::wire::nexudus`] for the Nexudus dialect) and [`crate::vocab`].
//!
//! - [`server`]: serving; [`server::spawn`] starts a server in-process, speaking the dialect
//!   of [`server::ServeOptions::dialect`]; `knobs` (latency, failure injection) are shared.
//! - `dialects`: one router per dialect: `partner_api` (state, auth, request/reply, exec with
//!   throttle, failure injection and idempotency, problems, handlers per resource) and
//!   `nexudus` (token grant and Basic, pacing by the vendor's rate windows, `Page` lists,
//!   `WriteResult` writes, handlers per entity).
//! - [`store`]: the SQLite store and every rule of the partner API, one module per concern
//!   (`writer` for group commit, `schema` with its migrations, `partners`, `accounts`, `users`,
//!   `services`, `outbox`, `idempotency`, `pagination`, `validation`, `etag`, and for the
//!   dialects `numbers`, `numbered`, `people`, `credentials`, `listing`); its public items
//!   are re-exported at [`store`].
//! - [`catalog`]: the service types and their settings schemas.
//! - [`error`]: [`error::RequestError`] (a refused request, answered as a problem document) and
//!   [`error::Error`] (why the sandbox could not do what a caller asked).
//! - here and in `admin`: [`DEFAULT_DB`] and the admin functions behind `partnerctl sandbox …`,
//!   which open the database directly (`admin` plays the vendor's dashboard: partner logins,
//!   accounts the vendor's API cannot create, a customer's `manageable` flag, revoking the
//!   tokens a partner's logins were granted). The command
//!   line itself lives at the edge, in the CLI module.
//!
//! Usage:
//!
//! ```text
//! export PARTNERCTL_TOKEN=$(partnerctl sandbox partner add --name 'Acme Partners')
//! partnerctl sandbox serve --listen 127.0.0.1:0          # first stdout line: listening on http://ADDR
//! partnerctl sandbox serve --latency-ms 20 --write-limit 600/min --throttle-status 409 \
//!     --fail-rate 0.2 --seed 7                          # realism knobs
//! partnerctl sandbox users accept --email jane@contoso.example   # or: users expire
//! partnerctl sandbox outbox                              # invitation emails, JSON lines
//! partnerctl sandbox partner list | partner token --id ID
//! partnerctl sandbox partner add --name Acme --login ops@acme.example --password P
//! partnerctl sandbox partner revoke-tokens --name Acme   # the tokens its logins were granted
//! partnerctl sandbox accounts add --kind network --name 'Contoso North' --parent Contoso
//! partnerctl sandbox accounts set-manageable --name Contoso --manageable false
//! partnerctl sandbox serve --dialect nexudus --time-scale 60   # the Nexudus REST API
//! partnerctl -v sandbox serve                            # request log on stderr (or RUST_LOG=info)
//! ```
//!
//! Every command takes `--db FILE` (default `.partnerctl/sandbox.db`). In-process:
//! [`ensure_partner_token`] then [`server::spawn`] (see `RunningSandbox::shutdown`).
//!
//! Design decisions (where the spec is silent):
//! - A network or sub-account created without a country or time zone takes its parent's, so
//!   every account has both (as configurations, where they are inherited, assume).
//! - A customer's `parent_id` is the partner's id (on create it may be omitted).
//! - Users can be invited on the partner itself (account id = partner id); that is not "inside a
//!   customer", so it is allowed for non-manageable partners.
//! - The manageable gate covers everything inside customers: users and services of customers,
//!   networks and sub-accounts, and creating, changing or deleting networks and sub-accounts;
//!   and deleting a customer, which deletes all that with it. Creating a customer and changing
//!   its own record (name, contact, country, time zone, labels, external key) is allowed: that
//!   is the partner's record of its customer, and changes nothing inside it.
//! - `If-Match` is required on PATCH/DELETE of accounts and users (428 without it, 412 on
//!   mismatch); on the idempotent service PUT/DELETE it is optional and checked when sent.
//! - Idempotency keys are scoped to the partner; only successful (2xx) responses are
//!   remembered, so a request that failed validation can be corrected and retried with the key.
//! - A customer's own `manageable` flag (Nexudus: `CanManageAccount`, set at the dashboard) is
//!   enforced by both dialects, together with the partner's: the partner API shows it on the
//!   customer (`manageable`) and answers 403 `management-disabled` naming the customer. In the
//!   Nexudus dialect the gate also covers the customer's own business record (there, the
//!   customer's name is its business's, which only managing it reaches).

mod admin;
pub mod catalog;
mod dialects;
pub mod error;
pub mod server;
pub mod store;

use std::path::Path;

pub use admin::{
    AddedAccount, NewAccount, NewLogin, PartnerRef, add_account, add_partner, revoke_tokens,
    set_manageable,
};

use crate::wire::partner::{Partner, User, UserStatus};
use error::{Error, RequestError};
use store::{OutboxEmail, Store};

/// Default sandbox database, relative to the working directory.
pub const DEFAULT_DB: &str = ".partnerctl/sandbox.db";

/// For the CLI's embedded default: opens (creating) the sandbox database at `db` and returns a
/// fresh API token for the partner named `name`, created (manageable) when the database holds
/// no partner yet. A database that holds other partners but not this one is an error naming
/// them: a second partner is only made explicitly (`sandbox partner add`). Blocking; call it
/// before [`server::spawn`] or from `spawn_blocking`.
pub fn ensure_partner_token(db: &Path, name: &str) -> Result<String, Error> {
    let store = Store::open(db)?;
    let wanted = name.to_string();
    let existing: Vec<String> = store
        .read(store::list_partners)?
        .into_iter()
        .map(|p| p.name)
        .collect();
    if !existing.is_empty() && !existing.contains(&wanted) {
        return Err(Error::OtherPartner { wanted, existing });
    }
    let (_, token) = store.write(move |tx| store::ensure_partner(tx, &wanted))?;
    Ok(token)
}

/// For commands without a configuration (`export`): a fresh token for the partner named
/// `name`, or for the only partner when no name is given. Creates nothing.
pub fn existing_partner_token(db: &Path, name: Option<&str>) -> Result<(String, String), Error> {
    let store = Store::open(db)?;
    let all = store.read(store::list_partners)?;
    let names = || all.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    if all.is_empty() {
        return Err(Error::NoPartner);
    }
    let partner = match name {
        Some(n) => all
            .iter()
            .find(|p| p.name == n)
            .ok_or_else(|| Error::OtherPartner {
                wanted: n.to_string(),
                existing: names(),
            })?,
        None => match all.as_slice() {
            [one] => one,
            _ => return Err(Error::WhichPartner { existing: names() }),
        },
    };
    let id = partner.id.clone();
    let token = store.write(move |tx| store::issue_token(tx, &id))?;
    Ok((partner.name.clone(), token))
}

/// Admin: issues one more API token for the existing partner `partner_id`.
pub fn issue_token(db: &Path, partner_id: &str) -> Result<String, Error> {
    let store = Store::open(db)?;
    let id = partner_id.to_string();
    let token = store.write(move |tx| {
        if !store::list_partners(tx)?.iter().any(|p| p.id == id) {
            return Err(RequestError::not_found("partner", &id));
        }
        store::issue_token(tx, &id)
    })?;
    Ok(token)
}

/// Admin: every partner, oldest first (never their tokens).
pub fn partners(db: &Path) -> Result<Vec<Partner>, Error> {
    Ok(Store::open(db)?.read(store::list_partners)?)
}

/// Admin: every invitation email of the outbox, oldest first.
pub fn outbox(db: &Path) -> Result<Vec<OutboxEmail>, Error> {
    Ok(Store::open(db)?.read(store::outbox)?)
}

/// Admin: moves every user with `email` (case-insensitive, on any account) whose status is one
/// of `from` to `to`; returns the users it changed.
pub fn set_user_status(
    db: &Path,
    email: &str,
    from: &[UserStatus],
    to: UserStatus,
) -> Result<Vec<User>, Error> {
    let store = Store::open(db)?;
    let (email, from) = (email.to_string(), from.to_vec());
    Ok(store.write(move |tx| store::set_user_status_by_email(tx, &email, &from, to))?)
}
