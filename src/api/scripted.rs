//! Test kit of the `api` stage, for the unit tests of every HTTP client (tests only): a
//! scripted HTTP server on `127.0.0.1:0` that answers its requests in turn with the steps of a
//! script (an answer, a connection reset, silence), the last step again once the script is
//! spent, and records every request whole. One request per connection (`Connection: close`).
//! May touch: loopback sockets.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the server does with one request.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Answers: status, headers, body.
    Reply(u16, Vec<(&'static str, String)>, String),
    /// Resets the connection without a word.
    Reset,
    /// Says nothing, and keeps the connection open until the client gives up.
    Silent,
}

impl Step {
    /// An answer with no header but `Content-Length`.
    pub(crate) fn status(status: u16, body: &str) -> Step {
        Step::Reply(status, Vec::new(), body.to_string())
    }

    /// An answer with these headers besides.
    pub(crate) fn with(status: u16, headers: &[(&'static str, &str)], body: &str) -> Step {
        let headers = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Step::Reply(status, headers, body.to_string())
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// `GET`, `POST`, ...
    pub(crate) method: String,
    /// The request target (`/v1/partner?x=1`).
    pub(crate) target: String,
    /// The header lines, names in lowercase.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Seen {
    /// The value of header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running scripted server (stopped on drop).
pub(crate) struct Scripted {
    /// Base URL (`http://127.0.0.1:PORT`).
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Scripted {
    /// Starts a server playing `steps` (at least one) on the current tokio runtime.
    pub(crate) async fn start(steps: Vec<Step>) -> Scripted {
        assert!(!steps.is_empty(), "a script of at least one step");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept(listener, steps, seen.clone()));
        Scripted { url, seen, task }
    }

    /// Every request received so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests were received so far.
    pub(crate) fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, steps: Vec<Step>, seen: Arc<Mutex<Vec<Seen>>>) {
    // Owned here, so that aborting the server ends every connection too.
    let mut connections = JoinSet::new();
    let steps = Arc::new(steps);
    while let Ok((stream, _)) = listener.accept().await {
        connections.spawn(serve(stream, steps.clone(), seen.clone()));
    }
}

/// Reads one request of `stream`, records it and plays the step of its turn.
async fn serve(stream: TcpStream, steps: Arc<Vec<Step>>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body).await;
    let step = {
        let mut all = seen.lock().unwrap();
        let step = steps[all.len().min(steps.len() - 1)].clone();
        all.push(Seen {
            method,
            target,
            headers,
            body,
        });
        step
    };
    let mut stream = reader.into_inner();
    match step {
        Step::Reply(status, headers, body) => {
            let mut head = format!("HTTP/1.1 {status} Scripted\r\n");
            for (k, v) in &headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Step::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Step::Silent => std::future::pending::<()>().await,
    }
}
