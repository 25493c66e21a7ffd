//! Edge: replacing a file whole. The new text is written to a hidden temporary file beside it
//! (which the loader never reads), flushed to the disk and renamed over it, so that a crash or
//! a full disk leaves the old file or the new one, never a truncated one; a link in its place
//! is replaced, not written through. May touch: the file and its directory.

use std::io::Write;
use std::path::Path;

/// Writes `text` (or any bytes) to `path` through a temporary file in the same directory, renamed over
/// `path`. A file it replaces keeps its permissions; a new one gets the usual ones (the umask
/// applied to read and write for all).
pub(super) fn replace(path: &Path, text: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".partnerctl-").suffix(".tmp");
    let kept = std::fs::symlink_metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.permissions());
    #[cfg(unix)]
    let kept = kept.or_else(|| {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o666))
    });
    if let Some(permissions) = kept {
        builder.permissions(permissions);
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(text.as_ref())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
