//! A fluent builder for running the real `partnerctl` binary with a controlled environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The crate root; tests run the binary from here so paths in messages are stable.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One invocation of the binary.
pub struct Cmd {
    command: Command,
    stdin: Option<Vec<u8>>,
}

/// What a finished invocation produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cmd {
    /// `partnerctl` with an empty, explicit environment (CI sets `CI=true`; the binary must not
    /// see it unless a test says so) and the crate root as working directory.
    pub fn new() -> Self {
        Cmd::new_program(env!("CARGO_BIN_EXE_partnerctl"))
    }

    /// Another program, with the same clean environment and working directory.
    pub fn new_program(program: &str) -> Self {
        let mut command = Command::new(program);
        command.env_clear().current_dir(root());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        Cmd {
            command,
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    #[allow(dead_code)]
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    #[allow(dead_code)]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.command.current_dir(dir.into());
        self
    }

    #[allow(dead_code)]
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs to completion.
    pub fn run(mut self) -> Run {
        use std::io::Write;
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn partnerctl");
        if let Some(input) = self.stdin.take() {
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(&input)
                .expect("write stdin");
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("wait for partnerctl");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    pub fn success(self) -> Self {
        self.code(0)
    }
}
