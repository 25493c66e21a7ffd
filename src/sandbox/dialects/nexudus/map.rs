//! The store's records as the Nexudus wire has them: the partner as the reseller, its home as
//! the reseller's own business, accounts as businesses, customers' links as reseller
//! accounts, people as users; countries and time zones by their ids in [`super::lookups`].
//! `UniqueId`s are GUIDs derived from the store's ids (stable).

use super::lookups;
use crate::sandbox::store::{Home, Link, PartnerRow, Person, Place, sha256_hex};
use crate::wire::nexudus::{Business, Reseller, ResellerAccount, User};

/// A GUID-shaped id derived from `seed`.
pub(super) fn guid(seed: &str) -> String {
    let h = sha256_hex(seed.as_bytes());
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The reseller: the partner (approved when manageable).
pub(super) fn reseller(p: &PartnerRow, h: &Home) -> Reseller {
    Reseller {
        id: h.partner_number,
        unique_id: guid(&p.id),
        name: p.name.clone(),
        business_id: h.business_number,
        approved: p.manageable,
    }
}

/// A business: the partner's home, or one of its accounts.
pub(super) fn business(p: &PartnerRow, place: Place) -> Business {
    let seed = place
        .account
        .as_ref()
        .map_or_else(|| format!("{}/home", p.id), |a| a.id.clone());
    let a = place.account;
    Business {
        id: place.number,
        unique_id: guid(&seed),
        name: place.name,
        root_location_id: place.parent_number,
        web_address: None,
        email: a
            .as_ref()
            .and_then(|a| a.contact.as_ref().map(|c| c.email.clone())),
        contact_email: place.secondary_email,
        country_id: a
            .as_ref()
            .and_then(|a| a.country.as_deref())
            .and_then(lookups::country_id),
        simple_time_zone_id: a
            .as_ref()
            .and_then(|a| a.timezone.as_deref())
            .and_then(lookups::time_zone_id),
        suspended: false,
        created_on: place.created_at,
        updated_on: place.updated_at,
    }
}

/// A reseller account: a customer's link to the partner numbered `reseller_id`.
pub(super) fn reseller_account(p: &PartnerRow, reseller_id: i64, l: Link) -> ResellerAccount {
    ResellerAccount {
        id: l.number,
        unique_id: guid(&format!("{}/link/{}", p.id, l.number)),
        reseller_id,
        business_id: l.business_number,
        business_name: l.business_name,
        can_manage_account: l.manageable,
        provides_first_line_support: l.first_line_support,
        notes: l.notes,
        scope_of_work: l.scope_of_work,
        created_on: l.created_at,
        updated_on: l.updated_at,
    }
}

/// A user: a person (its businesses only when the store filled them).
pub(super) fn user(p: &PartnerRow, person: Person) -> User {
    User {
        id: person.number,
        unique_id: guid(&format!("{}/person/{}", p.id, person.number)),
        full_name: person.full_name,
        email: person.email,
        is_admin: person.admin,
        active: person.active,
        businesses: person.places,
        added_businesses: None,
        removed_businesses: None,
        created_on: person.created_at,
        updated_on: person.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_shaped() {
        let g = guid("acc_1");
        assert_eq!(g, guid("acc_1"));
        assert_ne!(g, guid("acc_2"));
        let parts: Vec<usize> = g.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
    }
}
