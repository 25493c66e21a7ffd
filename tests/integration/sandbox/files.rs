//! The sandbox's files are private: its database and the `-wal` and `-shm` files beside it are
//! created 0600 whatever the umask, and an existing database others could read is made
//! private when it is opened, with a warning on stderr.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::Sandbox;
use crate::support::sandbox::admin;

/// The database, its `-wal` and its `-shm`.
fn files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .collect()
}

fn mode(file: &Path) -> u32 {
    std::fs::metadata(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_and_its_wal_and_shm_are_created_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    // A umask that takes nothing away: SQLite alone would make the files 0644.
    let sb = Sandbox::start_with_umask(&db, "000", &[]);
    let api = sb.partner("P", true);
    api.customer("c0").await;
    for f in files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn an_existing_database_others_can_read_is_made_private_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    admin(&db, &["partner", "add", "--name", "P"]).success();
    // Another connection keeps the -wal and -shm there, as a running server would.
    let other = rusqlite::Connection::open(&db).unwrap();
    other
        .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t (x);")
        .unwrap();
    for f in files(&db) {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let run = admin(&db, &["partner", "list"]).success();
    for f in files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        run.stderr_contains(&format!(
            "{} was readable or writable by others (mode 0644); made it 0600",
            f.display()
        ));
    }
    let again = admin(&db, &["partner", "list"]).success();
    assert!(
        !again.stderr.contains("readable"),
        "nothing more to say: {}",
        again.stderr
    );
    drop(other);
}
