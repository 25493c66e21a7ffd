//! A real sandbox server: the `partnerctl sandbox serve` binary on `127.0.0.1:0`, and its admin
//! commands.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::api::Api;
use super::cli::{Cmd, Run, partnerctl, program};

/// A running sandbox server (killed on drop).
pub struct Sandbox {
    child: Option<Child>,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its database.
    pub db: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// A server on a fresh database in a temporary directory.
    pub fn start() -> Sandbox {
        Sandbox::start_args(&[])
    }

    /// A server on a fresh database with extra `serve` arguments (knobs).
    pub fn start_args(args: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("nested").join("sandbox.db");
        let mut sb = Sandbox::start_on(&db, args);
        sb._dir = Some(dir);
        sb
    }

    /// A server on the given database.
    pub fn start_on(db: &Path, args: &[&str]) -> Sandbox {
        Sandbox::start_cmd(sandbox_cmd(), db, args)
    }

    /// A server on the given database, started with the file mode creation mask `umask`
    /// (octal, as the shell's `umask` takes it).
    pub fn start_with_umask(db: &Path, umask: &str, args: &[&str]) -> Sandbox {
        let sh = program("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_partnerctl"))
            .arg("sandbox");
        Sandbox::start_cmd(quiet(sh), db, args)
    }

    fn start_cmd(cmd: Cmd, db: &Path, args: &[&str]) -> Sandbox {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn partnerctl sandbox serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("unexpected first line from sandbox serve: {line:?}")
            })
            .to_string();
        let sb = Sandbox {
            child: Some(child),
            url,
            db: db.to_path_buf(),
            _dir: None,
        };
        sb.wait_healthy();
        sb
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = self.url.trim_start_matches("http://").to_string();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sandbox at {} never became healthy",
                self.url
            );
            std::thread::yield_now();
        }
    }

    /// Runs `partnerctl sandbox partner add` on this server's database; returns the token.
    pub fn add_partner(&self, name: &str, manageable: bool) -> String {
        let mut args = vec!["partner", "add", "--name", name];
        if !manageable {
            args.push("--not-manageable");
        }
        let run = self.admin(&args).success();
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "partner add must print only the token: {:?}",
            run.stdout
        );
        lines[0].to_string()
    }

    /// An API client for a new partner.
    pub fn partner(&self, name: &str, manageable: bool) -> Api {
        Api::new(&self.url, &self.add_partner(name, manageable))
    }

    /// Runs an admin subcommand (`users accept ...`, `outbox`) against this database.
    pub fn admin(&self, args: &[&str]) -> Run {
        admin(&self.db, args)
    }

    /// `kill -9` the server.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reap");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `partnerctl sandbox`, as CI runs it (`CI=true`: neither the server nor the admin commands
/// need an endpoint), without colour and logging only warnings.
fn sandbox_cmd() -> Cmd {
    quiet(partnerctl().arg("sandbox"))
}

/// The environment of [`sandbox_cmd`].
fn quiet(cmd: Cmd) -> Cmd {
    cmd.env("CI", "true")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
}

/// Runs `partnerctl sandbox ARGS --db DB` (an admin command: no server, no token).
pub fn admin(db: &Path, args: &[&str]) -> Run {
    sandbox_cmd().args(args).arg("--db").arg(db).run()
}
