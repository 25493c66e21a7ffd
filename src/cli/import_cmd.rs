//! Edge: `import`: a customer table (CSV) as configuration YAML, refusing to overwrite without
//! `--force`.

use super::{EXIT_ERROR, EXIT_OK, ImportArgs};
use crate::config::{self, ConfigFile};
use crate::output;

pub(super) fn import_command(args: &ImportArgs, strict: bool) -> anyhow::Result<u8> {
    let source = match config::read_table(&args.file) {
        Ok(mut sources) => sources.remove(0),
        Err(problems) => {
            output::problems(&problems.to_string());
            output::note("nothing was written");
            return Ok(EXIT_ERROR);
        }
    };
    let customers = match config::load_table(&source, strict) {
        Ok(table) => {
            if !table.warnings.is_empty() {
                output::problems(&config::Problems(table.warnings).to_string());
            }
            table.customers
        }
        Err(problems) => {
            output::problems(&problems.to_string());
            output::note(&format!(
                "{} problem(s) found; nothing was written",
                problems.errors()
            ));
            return Ok(EXIT_ERROR);
        }
    };
    let stem = args.file.file_stem().map_or_else(
        || "customers".to_string(),
        |s| s.to_string_lossy().to_string(),
    );
    let out = args.out.join(format!("{stem}.yaml"));
    if out.exists() && !args.force {
        anyhow::bail!(
            "{} exists; nothing was written. Pass --force to overwrite it",
            out.display()
        );
    }
    let n = customers.len();
    let file = ConfigFile {
        version: None,
        partner: None,
        defaults: None,
        customers,
    };
    let yaml = serde_yaml::to_string(&file).expect("the configuration model serializes");
    let text = format!(
        "# yaml-language-server: $schema=partnerctl.schema.json\n#\n# Imported from {} by `partnerctl import`.\n{yaml}",
        args.file
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().to_string())
    );
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    std::fs::write(&out, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    output::note(&format!("Imported {n} customer(s) into {}.", out.display()));
    Ok(EXIT_OK)
}
