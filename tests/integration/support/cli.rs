//! The one way tests launch the `partnerctl` binary (and the few other programs they need), a
//! fluent builder in the style of casey/just's tests:
//!
//! ```text
//! partnerctl().args(["plan", "examples/acme"]).env("PARTNERCTL_TOKEN", t).run().success();
//! let mut apply = partnerctl().args(["apply", ...]).spawn(); // for kill -9 and Ctrl-C
//! partnerctl().args(["apply", ...]).on_a_terminal().stdin("yes\n").run();
//! ```
//!
//! The environment is always explicit: the test's own environment is not inherited, so `CI`
//! (set by CI runners, and the embedded default refuses to run under CI without an endpoint),
//! `PARTNERCTL_ENDPOINT`, `PARTNERCTL_TOKEN`, `NO_COLOR` and `RUST_LOG` reach the binary only when
//! a test sets them. Only [`PASSED_THROUGH`] is.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;

/// Variables taken from the test's environment: where programs are found (`script`, `kill`,
/// `sh`) and where coverage tools want profiles written.
pub const PASSED_THROUGH: [&str; 2] = ["PATH", "LLVM_PROFILE_FILE"];

/// The crate root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where commands run unless a test says otherwise: a directory of the build's scratch space
/// whose `examples`, `schemas`, `src` and `tests` lead to the crate root's. Relative paths in
/// arguments and messages are then as in the crate root, while what a command writes in its
/// working directory (the catalog a plan caches in `.partnerctl/`) stays out of the checkout.
pub fn workdir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workdir");
        std::fs::create_dir_all(&dir).expect("create the tests' working directory");
        for name in ["examples", "schemas", "src", "tests"] {
            let (to, link) = (root().join(name), dir.join(name));
            // A build directory shared by two checkouts keeps the other one's links: replace them.
            match std::fs::read_link(&link) {
                Ok(old) if old == to => continue,
                Ok(_) => std::fs::remove_file(&link)
                    .unwrap_or_else(|e| panic!("replace the link {}: {e}", link.display())),
                Err(_) => {}
            }
            match std::os::unix::fs::symlink(&to, &link) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    panic!("link {name} into {}: {e}", dir.display())
                }
                _ => {}
            }
        }
        dir
    })
}

/// The binary under test.
pub fn partnerctl() -> Cmd {
    program(env!("CARGO_BIN_EXE_partnerctl"))
}

/// Another program, with the same explicit environment and working directory.
pub fn program(program: impl AsRef<OsStr>) -> Cmd {
    let env = PASSED_THROUGH
        .iter()
        .filter_map(|k| Some((OsString::from(k), std::env::var_os(k)?)))
        .collect();
    Cmd {
        program: program.as_ref().to_owned(),
        args: Vec::new(),
        env,
        dir: workdir().to_path_buf(),
        stdin: None,
        terminal: false,
    }
}

/// One invocation, built up fluently and then [`Cmd::run`] or [`Cmd::spawn`].
#[must_use]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    dir: PathBuf,
    stdin: Option<Vec<u8>>,
    terminal: bool,
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets one variable of the (otherwise empty) environment.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.env.insert(key.into(), value.as_ref().to_owned());
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Bytes written to stdin, which is then closed (without this, stdin is `/dev/null`).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs the program on a pseudo-terminal (util-linux `script`), with the same environment;
    /// its stdout is then the terminal's output.
    pub fn on_a_terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// The `std` command: program, arguments, environment and directory (not stdio).
    pub fn command(&self) -> Command {
        let mut c = if self.terminal {
            let line: Vec<String> = std::iter::once(&self.program)
                .chain(&self.args)
                .map(|w| shell_quote(w))
                .collect();
            let mut c = Command::new("script");
            c.args(["-qec", &line.join(" "), "/dev/null"]);
            c
        } else {
            let mut c = Command::new(&self.program);
            c.args(&self.args);
            c
        };
        c.env_clear().envs(&self.env).current_dir(&self.dir);
        c
    }

    /// Runs to completion.
    pub fn run(self) -> Run {
        self.spawn().wait()
    }

    /// Starts the program and returns at once; its output is collected in the background.
    pub fn spawn(self) -> Running {
        let mut child = self
            .command()
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.program));
        let stdout = collect(child.stdout.take().expect("piped stdout"));
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        if let Some(input) = &self.stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input).expect("write stdin");
        }
        Running {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }
}

/// `word` in single quotes for `sh`.
fn shell_quote(word: &OsStr) -> String {
    let word = word.to_str().expect("arguments are UTF-8");
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Reads a pipe to its end on another thread, so that a child never blocks on a full pipe.
fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).expect("read output");
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A program started by [`Cmd::spawn`]; killed (if still running) when dropped.
pub struct Running {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Whether it has not exited yet.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
    }

    /// Ctrl-C: `kill -INT`.
    pub fn interrupt(&self) {
        program("kill")
            .args(["-INT", &self.child.id().to_string()])
            .run()
            .success();
    }

    /// Waits at most `limit` for it to exit; past that, kills it (`kill -9`) and panics with
    /// what it printed, so that a command that hangs fails its test instead of hanging it.
    pub fn wait_within(self, limit: std::time::Duration) -> Run {
        let pid = self.child.id();
        let (done, finished) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let run = self.wait();
            let _ = done.send(());
            run
        });
        if finished.recv_timeout(limit).is_err() {
            // Still our unreaped child (the waiter reaps it), so the id is still its own.
            program("kill")
                .args(["-KILL", &pid.to_string()])
                .run()
                .success();
            let run = waiter.join().expect("waiter");
            panic!(
                "still running after {limit:?}; killed\n--- stdout\n{}\n--- stderr\n{}",
                run.stdout, run.stderr
            );
        }
        waiter.join().expect("waiter")
    }

    /// Waits for it to exit; what it printed.
    pub fn wait(mut self) -> Run {
        let status = self.child.wait().expect("wait");
        let join = |h: Option<JoinHandle<String>>| h.expect("output").join().expect("reader");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a finished invocation produced.
pub struct Run {
    /// Exit code (-1 when ended by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }

    /// Asserts that stdout contains `text`, showing it when not.
    #[track_caller]
    pub fn stdout_contains(&self, text: &str) -> &Self {
        assert_contains("stdout", &self.stdout, text);
        self
    }

    /// Asserts that stderr contains `text`, showing it when not.
    #[track_caller]
    pub fn stderr_contains(&self, text: &str) -> &Self {
        assert_contains("stderr", &self.stderr, text);
        self
    }
}

#[track_caller]
fn assert_contains(stream: &str, output: &str, text: &str) {
    assert!(output.contains(text), "{text:?} not in {stream}:\n{output}");
}
