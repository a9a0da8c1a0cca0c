//! Progress bars for long imports, drawn only when a person watches (stderr is a terminal), so
//! logs and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lizhi_app::import::Progress;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// An indicatif bar behind the application's [`Progress`] trait: a spinner while the file is
/// read and checked (the application reports nothing then), a bar once rows are written.
pub struct Bar {
    bar: ProgressBar,
    counting: AtomicBool,
}

impl Bar {
    /// A spinner on stderr when it is a terminal, else an invisible bar.
    pub fn for_stderr() -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message("checking…");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Bar { bar, counting: AtomicBool::new(false) }
    }

    /// Removes the bar from the screen (call before printing the result).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn update(&self, stage: &str, done: u64, total: u64) {
        if !self.counting.swap(true, Ordering::Relaxed) {
            let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            self.bar.set_style(style);
        }
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
        self.bar.set_message(stage.to_owned());
        self.bar.set_position(done);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
