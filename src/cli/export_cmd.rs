//! Edge: `export`: reads the live state and writes it as configuration files (YAML, or with
//! `--format csv|xlsx` sheets beside `partner.yaml`), refusing to overwrite anything without
//! `--force`. What it writes and removes stays inside its target (see [`write`]); a single file
//! is replaced whole, never written through a link. The defaults of the partner file it replaces
//! are read back, so that a re-export keeps them while they fit.

mod write;

use std::path::{Path, PathBuf};

use super::{EXIT_ERROR, EXIT_OK, ExportArgs, GlobalArgs, runtime};
use crate::config;
use crate::endpoint::{self, EmbeddedPartner};
use crate::export::{self, File, Layout, SCHEMA_FILE};
use crate::output::{self, print_stdout};
use crate::provider::Provider;

/// `export --format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Configuration YAML (`--layout` says which files).
    Yaml,
    /// `customers.csv` and `users.csv` beside `partner.yaml`.
    Csv,
    /// `customers.xlsx` (sheets `customers` and `users`) beside `partner.yaml`.
    Xlsx,
}

/// Where and how the export goes.
enum Destination {
    Stdout,
    File(PathBuf),
    Dir(PathBuf),
}

fn is_yaml(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The destination and layout from `-o` and `--layout`.
fn destination(args: &ExportArgs) -> anyhow::Result<(Destination, Layout)> {
    let Some(out) = &args.out else {
        return match args.layout {
            Some(Layout::PerCustomer) => anyhow::bail!(
                "--layout per-customer writes several files: name a directory with -o DIR"
            ),
            _ => Ok((Destination::Stdout, Layout::Single)),
        };
    };
    let as_dir = !is_yaml(out) || out.is_dir();
    let layout = args.layout.unwrap_or(if as_dir {
        Layout::PerCustomer
    } else {
        Layout::Single
    });
    Ok(match layout {
        Layout::PerCustomer => (Destination::Dir(out.clone()), layout),
        Layout::Single if as_dir => (Destination::File(out.join("partnerctl.yaml")), layout),
        Layout::Single => (Destination::File(out.clone()), layout),
    })
}

/// Refuses (an error saying what and how to override) to overwrite without `--force`, and to
/// write a single file where a link or something else than a regular file is.
fn check_overwrite(dest: &Destination, force: bool) -> anyhow::Result<()> {
    match dest {
        Destination::Stdout => Ok(()),
        Destination::File(f) => {
            write::check_file(f).map_err(|r| anyhow::anyhow!("{r}; nothing was written"))?;
            if f.exists() && !force {
                anyhow::bail!(
                    "{} exists; nothing was written. Pass --force to overwrite it, or choose another -o",
                    f.display()
                )
            }
            Ok(())
        }
        Destination::Dir(d) if !force && d.is_dir() && std::fs::read_dir(d)?.next().is_some() => {
            anyhow::bail!(
                "{} is not empty; nothing was written. Pass --force to write there and remove the other *.yaml/*.yml files a configuration would read there (regular files only, none hidden, none through a link), or choose an empty or new directory",
                d.display()
            )
        }
        Destination::Dir(_) => Ok(()),
    }
}

/// Writes the files; in a directory, also removes the other YAML files a configuration would
/// load, so customers gone from the live state do not linger, and says which.
fn write(dest: &Destination, files: &[File], quiet: bool) -> anyhow::Result<usize> {
    match dest {
        Destination::Stdout => {
            let text: String = files.iter().map(|f| f.text.as_str()).collect();
            print_stdout(&text)?;
            Ok(files.len())
        }
        Destination::File(path) => {
            let cannot = |p: &Path, e| anyhow::anyhow!("cannot write {}: {e}", p.display());
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
            }
            super::replace::replace(path, &files[0].text).map_err(|e| cannot(path, e))?;
            Ok(1)
        }
        Destination::Dir(dir) => {
            let schema = config::schema_json();
            let all: Vec<(PathBuf, &str)> = files
                .iter()
                .map(|f| (f.path.clone(), f.text.as_str()))
                .chain(std::iter::once((
                    PathBuf::from(SCHEMA_FILE),
                    schema.as_str(),
                )))
                .collect();
            let outcome = write::write_dir(dir, &all)?;
            if !quiet {
                for rel in &outcome.removed {
                    output::note(&format!(
                        "Removed {}: not part of this export (a customer gone from the live state, or a file of another layout).",
                        dir.join(rel).display()
                    ));
                }
                for rel in &outcome.links_kept {
                    output::note(&format!(
                        "Kept {}: a link, which export neither removes nor writes through; the configuration reads what it leads to, so remove it if that is not wanted.",
                        dir.join(rel).display()
                    ));
                }
            }
            Ok(files.len())
        }
    }
}

/// The lines saying which live keys were not valid configuration keys, and what became of them.
fn invalid_keys(invalid: &[export::InvalidKey]) -> String {
    let mut out = format!(
        "{} account(s) have a live key that is not a valid configuration key (`{}`), so it names no file and no configuration account: each was exported under a key derived from its name and pinned to its live id with `adopt`; the first apply sets that key on it.",
        invalid.len(),
        crate::vocab::rules::KEY_SYNTAX
    );
    for k in invalid {
        out.push_str(&format!(
            "\n  {} {:?} ({}): live key {:?} exported as `{}`",
            k.kind, k.name, k.id, k.live_key, k.key
        ));
    }
    out
}

fn summary(
    s: &export::Summary,
    carries: export::Carries,
    written: usize,
    dest: &Destination,
) -> String {
    let place = match dest {
        Destination::Stdout => "stdout".to_string(),
        Destination::File(f) => f.display().to_string(),
        Destination::Dir(d) => d.display().to_string(),
    };
    let mut out = format!(
        "Exported {} customer(s), {} network(s), {} sub-account(s), {} user(s) ({} invitation(s) pending), {} service(s) to {place} ({written} file(s)).",
        s.customers, s.networks, s.sub_accounts, s.users, s.pending, s.services
    );
    if s.derived_keys > 0 && carries.keys {
        out.push_str(&format!(
            "\n{} account(s) had no key: each got one from its name ({} pinned with `adopt` where names repeat), so the first apply adopts them.",
            s.derived_keys, s.pinned
        ));
    } else if s.derived_keys > 0 {
        out.push_str(&format!(
            "\n{} account(s) got a key from their name and are pinned to their live id with `adopt`: accounts carry no key at this vendor, so plans find them by that id (a name changed in the vendor's dashboard is then an update, not a new account). Keep the pins.",
            s.pinned
        ));
    }
    if s.expired > 0 {
        out.push_str(&format!(
            "\n{} invitation(s) have expired: the first apply re-sends them.",
            s.expired
        ));
    }
    out
}

/// The partner file an export to `dest` replaces (`partner.yaml` of a directory, or the single
/// file).
fn partner_file(dest: &Destination) -> Option<PathBuf> {
    match dest {
        Destination::Stdout => None,
        Destination::File(f) => Some(f.clone()),
        Destination::Dir(d) => Some(d.join("partner.yaml")),
    }
}

/// The `defaults` of the partner file an export to `dest` replaces, so that the new export
/// keeps them while they still fit (a new customer then changes its own file only). Read only
/// from a regular file (never through a link) of bounded size; anything unreadable or invalid
/// there means no earlier defaults: the export then chooses them afresh, as on a first export.
fn previous_defaults(dest: &Destination) -> Option<config::Defaults> {
    use std::io::Read;
    /// The one field read; every other one is skipped, whatever it holds.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        defaults: Option<config::Defaults>,
    }
    let path = partner_file(dest)?;
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > config::MAX_FILE_BYTES {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .ok()?
        .take(config::MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    serde_yaml::from_str::<Head>(&text).ok()?.defaults
}

/// Reads the live state (the endpoint's, or the embedded sandbox's `partner`) and closes the
/// connection.
pub(super) fn read_live(
    global: &GlobalArgs,
    partner: EmbeddedPartner<'_>,
) -> anyhow::Result<crate::live::Snapshot> {
    let choice = endpoint::choose(global.endpoint.as_deref(), endpoint::ci_from_env())?;
    let rt = runtime()?;
    rt.block_on(async {
        let settings = global.connection();
        let conn = endpoint::connect(&choice, partner, &settings).await?;
        let snapshot = conn.provider.snapshot().await;
        conn.close().await?;
        anyhow::Ok(snapshot?)
    })
}

/// The sheets an export in `format` writes.
fn sheet_names(format: ExportFormat) -> &'static [&'static str] {
    match format {
        ExportFormat::Yaml => &[],
        ExportFormat::Csv => &["customers.csv", "users.csv"],
        ExportFormat::Xlsx => &["customers.xlsx"],
    }
}

/// Refuses to export sheets into a directory holding sheets the export does not write
/// (`ours`): a configuration directory reads every sheet in it, so their customers would be
/// read beside the exported ones, twice where they are the same.
fn check_other_sheets(dir: &Path, ours: &[&str]) -> anyhow::Result<()> {
    let others = write::other_tables(dir, ours)?;
    if others.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = others
        .iter()
        .map(|r| dir.join(r).display().to_string())
        .collect();
    let one = names.len() == 1;
    anyhow::bail!(
        "{} {} there, and a configuration directory reads every sheet in it, so the customers there would be read beside the exported ones (twice where they are the same); nothing was written. Move {} out of {}, or choose another -o (an export with the same --format replaces its own sheets)",
        names.join(", "),
        if one { "is" } else { "are" },
        if one { "it" } else { "them" },
        dir.display(),
    )
}

/// `export --format csv|xlsx`: the estate as sheets beside `partner.yaml` in the directory -o
/// names (and the YAML of what no row can hold).
fn export_sheets(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<u8> {
    let format = args.format;
    let shown = if format == ExportFormat::Csv {
        "csv"
    } else {
        "xlsx"
    };
    let Some(dir) = args.out.clone().filter(|o| !is_yaml(o) || o.is_dir()) else {
        anyhow::bail!(
            "--format {shown} writes several files (partner.yaml and the sheets): name a directory with -o DIR"
        );
    };
    if args.layout.is_some() {
        anyhow::bail!(
            "--layout is for YAML: --format {shown} writes partner.yaml and the sheets (and customers/KEY.yaml for what no row can hold); leave --layout out"
        );
    }
    let ours = sheet_names(format);
    let dest = Destination::Dir(dir.clone());
    check_overwrite(&dest, args.force)?;
    check_other_sheets(&dir, ours)?;
    let previous = previous_defaults(&dest);
    for name in ours {
        write::check_file(&dir.join(name))
            .map_err(|r| anyhow::anyhow!("{r}; nothing was written"))?;
    }
    let partner = EmbeddedPartner::Existing(args.partner.as_deref());
    let snapshot = read_live(global, partner)?;
    let carries = export::Carries {
        keys: global.provider.capabilities().keys,
    };
    let estate = export::estate_keeping(&snapshot, carries, previous.as_ref());
    let sheets = export::sheets::sheets(&estate);
    let mut files = sheets.yaml.clone();
    let book = match format {
        ExportFormat::Xlsx => Some(
            export::sheets::to_xlsx(&[&sheets.customers, &sheets.users])
                .map_err(|e| anyhow::anyhow!("cannot make the workbook: {e}"))?,
        ),
        _ => {
            for sheet in [&sheets.customers, &sheets.users] {
                files.push(File {
                    path: PathBuf::from(format!("{}.csv", sheet.name)),
                    text: export::sheets::to_csv(sheet),
                });
            }
            None
        }
    };
    let mut written = write(&dest, &files, global.quiet)?;
    if let Some(book) = book {
        let path = dir.join("customers.xlsx");
        super::replace::replace(&path, &book)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        written += 1;
    }
    if !global.quiet {
        output::note(&summary(&estate.summary, carries, written, &dest));
        let rows = sheets.customers.rows.len() - 1;
        let in_yaml = sheets.yaml.len() - 1;
        output::note(&format!(
            "{rows} customer(s) are rows of the customer sheet and their users rows of the users sheet; {in_yaml} kept their customers/KEY.yaml (networks, an adoption pin, protect, service settings, or a value a sheet would not read back as written)."
        ));
    }
    if !estate.invalid_keys.is_empty() {
        output::note(&invalid_keys(&estate.invalid_keys));
    }
    Ok(EXIT_OK)
}

pub(super) fn export_command(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<u8> {
    if args.format != ExportFormat::Yaml {
        return export_sheets(global, args);
    }
    let (dest, layout) = destination(args)?;
    check_overwrite(&dest, args.force)?;
    let previous = previous_defaults(&dest);
    let partner = EmbeddedPartner::Existing(args.partner.as_deref());
    let snapshot = read_live(global, partner)?;
    let carries = export::Carries {
        keys: global.provider.capabilities().keys,
    };
    let estate = export::estate_keeping(&snapshot, carries, previous.as_ref());
    let files = export::files(&estate, layout);
    let written = write(&dest, &files, global.quiet)?;
    if !global.quiet {
        output::note(&summary(&estate.summary, carries, written, &dest));
        if let Destination::Dir(dir) = &dest {
            for rel in write::other_tables(dir, &[]).unwrap_or_default() {
                output::note(&format!(
                    "Kept {}: a sheet, which export neither removes nor writes; the configuration reads it too, so remove it if what it holds is now in the YAML.",
                    dir.join(rel).display()
                ));
            }
        }
    }
    // Said even with -q: the files differ from the live state there.
    if !estate.invalid_keys.is_empty() {
        output::note(&invalid_keys(&estate.invalid_keys));
    }
    Ok(if written > 0 { EXIT_OK } else { EXIT_ERROR })
}
