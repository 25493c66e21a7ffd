//! A stand-in for GitLab's merge request notes API, for the `plan-note` job.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value as Json, json};

/// A stand-in for GitLab's merge request notes API (project 42, merge request 7) on
/// `127.0.0.1:0`: lists, creates and edits notes, and records each request.
pub(super) struct FakeGitLab {
    pub(super) url: String,
    state: Arc<Mutex<NotesState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Clone, Default)]
pub(super) struct NotesState {
    /// `(id, body)`, oldest first.
    pub(super) notes: Vec<(u64, String)>,
    /// `METHOD /path?query`.
    pub(super) requests: Vec<String>,
}

impl FakeGitLab {
    pub(super) fn start(token: &str) -> FakeGitLab {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(NotesState {
            // A note by someone else, already there.
            notes: vec![(1, "Looks good to me".to_string())],
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, token) = (state.clone(), stop.clone(), token.to_string());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    serve(stream.unwrap(), &state, &token);
                }
            })
        };
        FakeGitLab {
            url,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The notes and the requests so far.
    pub(super) fn snapshot(&self) -> NotesState {
        self.state.lock().unwrap().clone()
    }
}

impl Drop for FakeGitLab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl NotesState {
    /// Records one request and answers it: the status and the JSON reply.
    fn answer(&mut self, method: &str, target: &str, authorized: bool, body: &[u8]) -> (u16, Json) {
        self.requests.push(format!("{method} {target}"));
        let notes = "/api/v4/projects/42/merge_requests/7/notes";
        let path = target.split('?').next().unwrap_or("");
        if !authorized {
            (401, json!({"message": "401 Unauthorized"}))
        } else if method == "GET" && path == notes {
            let mut list: Vec<Json> = self
                .notes
                .iter()
                .map(|(id, b)| json!({"id": id, "body": b, "system": false}))
                .collect();
            // A system note ("added 1 commit") that quotes the marker is never ours.
            let system = "<!-- partnerctl-plan --> added 1 commit";
            list.push(json!({"id": 1000, "body": system, "system": true}));
            (200, Json::Array(list))
        } else if method == "POST" && path == notes {
            let text = note_body(body);
            let id = self.notes.iter().map(|n| n.0).max().unwrap_or(0) + 1;
            self.notes.push((id, text.clone()));
            (201, json!({"id": id, "body": text}))
        } else if let Some(id) = path
            .strip_prefix(&format!("{notes}/"))
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|_| method == "PUT")
        {
            let text = note_body(body);
            match self.notes.iter_mut().find(|n| n.0 == id) {
                Some(note) => {
                    note.1 = text.clone();
                    (200, json!({"id": id, "body": text}))
                }
                None => (404, json!({"message": "404 Not found"})),
            }
        } else {
            (404, json!({"message": "404 Not found"}))
        }
    }
}

/// One request of one connection.
fn serve(stream: TcpStream, state: &Mutex<NotesState>, token: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut out = stream;
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    }
    let length: usize = headers
        .get("content-length")
        .map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();

    let authorized = headers.get("private-token").map(String::as_str) == Some(token);
    let (status, reply) = state
        .lock()
        .unwrap()
        .answer(&method, &target, authorized, &body);
    let reply = reply.to_string();
    let _ = write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

/// The `body` of a JSON request.
fn note_body(body: &[u8]) -> String {
    let v: Json = serde_json::from_slice(body).expect("a JSON body");
    v["body"].as_str().expect("body").to_string()
}
