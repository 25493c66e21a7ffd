//! Stage `apply`, progress on stderr: a bar on a terminal, a line every few seconds in CI logs.

use std::time::{Duration, Instant};

/// Progress reporting.
pub trait Progress: Send {
    /// Called after every state change.
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize);
    /// Called once at the end.
    fn finish(&mut self);
}

/// No progress output.
pub struct Silent;

impl Progress for Silent {
    fn update(&mut self, _: usize, _: usize, _: usize, _: usize) {}
    fn finish(&mut self) {}
}

/// A terminal progress bar (indicatif) on stderr: counts, rate and ETA.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    /// A bar for `total` operations.
    pub fn new(total: usize) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} ops · ETA {eta} {msg}")
                .expect("static template"),
        );
        Bar { bar }
    }
}

impl Progress for Bar {
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize) {
        let finished = done + failed + skipped;
        self.bar.set_position(finished as u64);
        let rate = finished as f64 / self.bar.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(if failed + skipped > 0 {
            format!(
                "· {rate:.0} ops/s · {failed} failed, {skipped} skipped · {in_flight} in flight"
            )
        } else {
            format!("· {rate:.0} ops/s · {in_flight} in flight")
        });
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Off a terminal (CI logs): one line on stderr every `every`, and a last one at the end.
pub struct Lines {
    total: usize,
    start: Instant,
    last: Instant,
    every: Duration,
    state: (usize, usize, usize, usize),
    /// Where a line goes (the edge decides: text or a JSON log line on stderr).
    sink: Box<dyn Fn(&str) + Send>,
}

impl Lines {
    /// Lines every `every` for `total` operations, each handed to `sink`.
    pub fn new(total: usize, every: Duration, sink: Box<dyn Fn(&str) + Send>) -> Self {
        let now = Instant::now();
        Lines {
            total,
            start: now,
            last: now,
            every,
            state: (0, 0, 0, 0),
            sink,
        }
    }

    fn print(&self) {
        let (done, failed, skipped, in_flight) = self.state;
        let finished = done + failed + skipped;
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = finished as f64 / secs;
        let eta = if rate > 0.0 {
            format!("{:.0}s", (self.total - finished) as f64 / rate)
        } else {
            "?".to_string()
        };
        (self.sink)(&format!(
            "apply: {finished}/{} operations ({done} done, {failed} failed, {skipped} skipped, {in_flight} in flight) · {rate:.1} ops/s · ETA {eta}",
            self.total
        ));
    }
}

impl Progress for Lines {
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize) {
        self.state = (done, failed, skipped, in_flight);
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.print();
        }
    }

    fn finish(&mut self) {
        if self.start.elapsed() >= self.every {
            self.print();
        }
    }
}
