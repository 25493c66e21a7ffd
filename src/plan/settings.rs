//! Stage `plan`, service settings: the live catalog as a [`Catalog`], whose check `validate`
//! shares. Settings are compared with the schema's top-level defaults filled in on both sides,
//! so `{}` and `{layout_approval: true}` (the default) are the same service, whether the server
//! stores settings as sent or completed with defaults. Pure.

use crate::config::{Catalog, CatalogEntry};
use crate::live::ServiceType;

/// The live catalog as the configuration stage checks services against it.
pub fn catalog(types: &[ServiceType]) -> Catalog {
    Catalog::new(types.iter().map(|t| CatalogEntry {
        name: t.name.clone(),
        description: t.description.clone(),
        settings_schema: t.settings_schema.clone(),
    }))
}
