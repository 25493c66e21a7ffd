//! Edge: `export`: reads the live state and writes it as configuration files, refusing to
//! overwrite anything without `--force`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{EXIT_ERROR, EXIT_OK, ExportArgs, GlobalArgs, runtime};
use crate::config;
use crate::endpoint::{self, EmbeddedPartner};
use crate::export::{self, File, Layout, SCHEMA_FILE};
use crate::output::{self, print_stdout};
use crate::provider::Provider;

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

/// Every `*.yaml`/`*.yml` below `dir` (what a configuration directory loads).
fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_yaml(&path) {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Refuses (an error saying what and how to override) to overwrite without `--force`.
fn check_overwrite(dest: &Destination, force: bool) -> anyhow::Result<()> {
    match dest {
        Destination::Stdout => Ok(()),
        Destination::File(f) if f.exists() && !force => anyhow::bail!(
            "{} exists; nothing was written. Pass --force to overwrite it, or choose another -o",
            f.display()
        ),
        Destination::Dir(d) if !force && d.is_dir() && std::fs::read_dir(d)?.next().is_some() => {
            anyhow::bail!(
                "{} is not empty; nothing was written. Pass --force to replace every *.yaml/*.yml below it, or choose an empty or new directory",
                d.display()
            )
        }
        _ => Ok(()),
    }
}

/// Writes the files; in a directory, also removes the other YAML files a configuration would
/// load, so customers gone from the live state do not linger.
fn write(dest: &Destination, files: &[File]) -> anyhow::Result<usize> {
    let err = |p: &Path, e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", p.display());
    match dest {
        Destination::Stdout => {
            let text: String = files.iter().map(|f| f.text.as_str()).collect();
            print_stdout(&text)?;
            Ok(files.len())
        }
        Destination::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
            }
            std::fs::write(path, &files[0].text).map_err(|e| err(path, e))?;
            Ok(1)
        }
        Destination::Dir(dir) => {
            let mut stale: HashSet<PathBuf> = if dir.is_dir() {
                yaml_files(dir)
                    .map_err(|e| err(dir, e))?
                    .into_iter()
                    .collect()
            } else {
                HashSet::new()
            };
            let mut made: HashSet<PathBuf> = HashSet::new();
            let schema = config::schema_json();
            let all = files
                .iter()
                .map(|f| (dir.join(&f.path), f.text.as_str()))
                .chain(std::iter::once((dir.join(SCHEMA_FILE), schema.as_str())));
            for (path, text) in all {
                stale.remove(&path);
                if let Some(parent) = path.parent().filter(|p| made.insert(p.to_path_buf())) {
                    std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
                }
                write_if_changed(&path, text).map_err(|e| err(&path, e))?;
            }
            // Customers gone from the live state must not linger in the configuration.
            for old in stale {
                std::fs::remove_file(&old).map_err(|e| err(&old, e))?;
            }
            Ok(files.len())
        }
    }
}

/// Writes `text` to `path` unless the file already holds exactly that (a re-export of an
/// unchanged estate touches nothing).
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    match std::fs::read(path) {
        Ok(old) if old == text.as_bytes() => Ok(()),
        _ => std::fs::write(path, text),
    }
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
        let conn = endpoint::connect(&choice, global.token.as_deref(), partner, &settings).await?;
        let snapshot = conn.provider.snapshot().await;
        conn.close().await?;
        anyhow::Ok(snapshot?)
    })
}

pub(super) fn export_command(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<u8> {
    let (dest, layout) = destination(args)?;
    check_overwrite(&dest, args.force)?;
    let partner = EmbeddedPartner::Existing(args.partner.as_deref());
    let snapshot = read_live(global, partner)?;
    let carries = export::Carries {
        keys: global.provider.capabilities().keys,
    };
    let estate = export::estate(&snapshot, carries);
    let files = export::files(&estate, layout);
    let written = write(&dest, &files)?;
    if !global.quiet {
        output::note(&summary(&estate.summary, carries, written, &dest));
    }
    Ok(if written > 0 { EXIT_OK } else { EXIT_ERROR })
}
