//! Edge: `access`: the effective access from the configuration (offline) or the live state,
//! filtered by person or account, in the chosen format.

use super::export_cmd::read_live;
use super::plan_cmd::load_config;
use super::{AccessArgs, EXIT_ERROR, EXIT_OK, GlobalArgs};
use crate::access::Model;
use crate::endpoint::EmbeddedPartner;
use crate::output::print_stdout;
use crate::plan;
use crate::render;

pub(super) fn access_command(global: &GlobalArgs, args: &AccessArgs) -> anyhow::Result<u8> {
    let desired = if args.paths.is_empty() {
        None
    } else {
        match load_config(&args.paths, global.needs()) {
            Some(d) => Some(d),
            None => return Ok(EXIT_ERROR),
        }
    };
    let (model, origin) = if args.live {
        let partner = match &desired {
            Some(d) => EmbeddedPartner::Config(&d.partner.name),
            None => EmbeddedPartner::Existing(args.partner.as_deref()),
        };
        let snapshot = read_live(global, partner)?;
        // Accounts matched without a key are named by the configuration's keys.
        let addresses = desired
            .as_ref()
            .map(|d| plan::live_addresses(d, &snapshot, &global.provider.capabilities()))
            .unwrap_or_default();
        let model = Model::from_live_named(&snapshot, desired.as_ref(), &addresses);
        (model, "live state")
    } else {
        let d = desired.as_ref().expect("paths are required without --live");
        (Model::from_desired(d), "configuration")
    };
    let grants = model.select(args.user.as_deref(), args.account.as_deref())?;
    print_stdout(&render::access_report(&grants, origin, args.format))?;
    Ok(EXIT_OK)
}
