//! Stage `access`, addresses: finding the account a person named on the command line
//! (`--account`, `--target`) among the known addresses (`customer.contoso`,
//! `sub_account.contoso-lyon`, `customer[id=acc_7]` for a live account without a key). A full
//! address is taken as it is; a bare key (`contoso-lyon`) or, for an account known only by its
//! live id, a bare id (`acc_7`) when exactly one account has it. What names nothing gets the
//! closest full address, compared by whole address and by key, so that a bare or mistyped key
//! is answered with the address to write. Pure.

use crate::vocab::address::AccountAddress;

/// What a name given for an account is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The address of the one account it names.
    Found(String),
    /// Several accounts have that key or id (of different kinds): their addresses, sorted.
    Ambiguous(Vec<String>),
    /// No account: the closest known address, if one is close.
    Unknown(Option<String>),
}

/// The key of an address (`contoso` of `customer.contoso`), or the id of an address by id
/// (`acc_7` of `customer[id=acc_7]`).
fn key_or_id(address: &str) -> Option<String> {
    match address.parse::<AccountAddress>().ok()? {
        AccountAddress::Key { key, .. } => Some(key),
        AccountAddress::Id { id, .. } | AccountAddress::Outside { id } => Some(id),
        AccountAddress::Partner | AccountAddress::Unknown { .. } => None,
    }
}

/// Is `given` a bare name (no kind), to be matched against keys and ids?
fn is_bare(given: &str) -> bool {
    !given.contains('.') && !given.contains('[')
}

/// The largest edit distance at which a known address is suggested.
const CLOSE: usize = 3;

/// Finds `given` among the `known` account addresses (see the module documentation).
pub fn lookup<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Lookup {
    let known: Vec<&str> = known.into_iter().collect();
    if known.contains(&given) {
        return Lookup::Found(given.to_string());
    }
    if is_bare(given) {
        let mut matches: Vec<&str> = known
            .iter()
            .copied()
            .filter(|a| key_or_id(a).as_deref() == Some(given))
            .collect();
        matches.sort_unstable();
        matches.dedup();
        match matches.as_slice() {
            [] => {}
            [one] => return Lookup::Found((*one).to_string()),
            many => return Lookup::Ambiguous(many.iter().map(|a| (*a).to_string()).collect()),
        }
    }
    let given_key = if is_bare(given) {
        Some(given.to_string())
    } else {
        key_or_id(given)
    };
    let closest = known
        .iter()
        .filter_map(|a| {
            let whole = strsim::levenshtein(given, a);
            let by_key = given_key
                .as_deref()
                .zip(key_or_id(a))
                .map_or(usize::MAX, |(g, k)| strsim::levenshtein(g, &k));
            let d = whole.min(by_key);
            (d <= CLOSE).then_some((d, *a))
        })
        .min()
        .map(|(_, a)| a.to_string());
    Lookup::Unknown(closest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 5] = [
        "customer.contoso",
        "network.contoso-network",
        "sub_account.contoso-lyon",
        "sub_account.contoso-paris",
        "customer[id=acc_7]",
    ];

    #[test]
    fn full_addresses_bare_keys_and_bare_ids() {
        let found = |a: &str| Lookup::Found(a.to_string());
        assert_eq!(lookup("customer.contoso", KNOWN), found("customer.contoso"));
        assert_eq!(
            lookup("contoso-lyon", KNOWN),
            found("sub_account.contoso-lyon")
        );
        assert_eq!(lookup("acc_7", KNOWN), found("customer[id=acc_7]"));
        assert_eq!(
            lookup("customer[id=acc_7]", KNOWN),
            found("customer[id=acc_7]")
        );
    }

    #[test]
    fn what_names_nothing_gets_the_closest_full_address() {
        let unknown = |a: Option<&str>| Lookup::Unknown(a.map(str::to_string));
        // A typo in a bare key, the wrong kind, a typo in a full address.
        assert_eq!(
            lookup("contoso-lyn", KNOWN),
            unknown(Some("sub_account.contoso-lyon"))
        );
        assert_eq!(
            lookup("customer.contoso-lyon", KNOWN),
            unknown(Some("sub_account.contoso-lyon"))
        );
        assert_eq!(
            lookup("customer.contso", KNOWN),
            unknown(Some("customer.contoso"))
        );
        assert_eq!(lookup("acc_8", KNOWN), unknown(Some("customer[id=acc_7]")));
        assert_eq!(lookup("fabrikam-hq", KNOWN), unknown(None));
        assert_eq!(lookup("anything", []), unknown(None));
    }

    /// A key one account has and an id another has (a vendor whose ids are numbers) name no
    /// account alone.
    #[test]
    fn a_name_several_accounts_have_is_ambiguous() {
        let known = ["customer.6", "network[id=6]", "customer.7"];
        assert_eq!(
            lookup("6", known),
            Lookup::Ambiguous(vec!["customer.6".into(), "network[id=6]".into()])
        );
        assert_eq!(lookup("7", known), Lookup::Found("customer.7".into()));
    }
}
