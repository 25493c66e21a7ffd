//! Edge: `import`: a customer table (CSV, or a workbook's sheets) as configuration YAML, with
//! the JSON Schema its first line refers to beside it, refusing to overwrite without `--force`.

use super::{EXIT_ERROR, EXIT_OK, ImportArgs};
use crate::config::{self, ConfigFile};
use crate::export::SCHEMA_FILE;
use crate::output;

pub(super) fn import_command(args: &ImportArgs, strict: bool) -> anyhow::Result<u8> {
    let sources = match config::read_table(&args.file) {
        Ok(sources) => sources,
        Err(problems) => {
            output::diagnostics(&problems.0);
            output::note("nothing was written");
            return Ok(EXIT_ERROR);
        }
    };
    let customers = match config::load_tables(&sources, strict) {
        Ok(table) => {
            if !table.warnings.is_empty() {
                output::diagnostics(&table.warnings);
            }
            table.customers
        }
        Err(problems) => {
            output::diagnostics(&problems.0);
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
    // Anything there counts, a link to nowhere included (it is replaced, never written through).
    if std::fs::symlink_metadata(&out).is_ok() && !args.force {
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
    super::replace::replace(&out, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    output::note(&format!("Imported {n} customer(s) into {}.", out.display()));
    write_schema(&args.out, args.force)?;
    Ok(EXIT_OK)
}

/// Writes the JSON Schema the YAML refers to beside it: when it is not there, or with `force`
/// when another version of it is. Another file there is kept, and said so.
fn write_schema(dir: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let path = dir.join(SCHEMA_FILE);
    let schema = config::schema_json();
    match std::fs::read_to_string(&path) {
        Ok(text) if text == schema => return Ok(()),
        Ok(_) if !force => {
            output::note(&format!(
                "Kept {}, which is not this version's schema: editors check the YAML against it. Pass --force to replace it.",
                path.display()
            ));
            return Ok(());
        }
        _ => {}
    }
    super::replace::replace(&path, &schema)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
