//! The lab's side of the live page: answering the page's requests (the
//! page itself, its event stream, its actions) and sending following
//! pages what changed. The HTTP itself is `http.rs`'s; the recording,
//! `dashboard::live`'s.

use std::time::{Duration, Instant};

use super::Lab;
use super::http::{Http, Request};
use crate::sim::SimError;

/// How often a following page gets an update, and the client view and
/// outcome with it (their cost grows with the session), in wall-clock time.
pub(super) const UPDATE_EVERY: Duration = Duration::from_millis(200);
pub(super) const FULL_UPDATE_EVERY: Duration = Duration::from_secs(1);

/// An instant `d` ago (now, if the clock cannot go back that far): a
/// timer that is due at once.
pub(super) fn a_while_ago(d: Duration) -> Instant {
    Instant::now().checked_sub(d).unwrap_or_else(Instant::now)
}

/// Whether the page may send this line: a fault, `heal` or `speed`, never
/// `save` (a path on the lab's host) or `quit`, which are the terminal's.
pub(super) fn page_may(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or("");
    !matches!(word.to_ascii_lowercase().as_str(), "save" | "quit" | "exit")
}

/// Refuses a page's `save` or `quit`.
pub(super) fn forbid(http: &mut Http, id: u64) {
    let why = "the page sends faults, heal and speed; save and quit are the prompt's\n";
    http.respond(
        id,
        "403 Forbidden",
        "text/plain; charset=utf-8",
        why.as_bytes(),
    );
}

/// Prints what the lab said to a page's action and answers the page with
/// it (`ok` when it said nothing).
pub(super) fn answer(http: &mut Http, id: u64, said: &[String]) {
    for l in said {
        crate::outln!("{l}");
    }
    let body = if said.is_empty() {
        "ok".to_string()
    } else {
        said.join("\n")
    };
    http.respond(id, "200 OK", "text/plain; charset=utf-8", body.as_bytes());
}

impl Lab {
    /// Sends following pages what changed, at most every [`UPDATE_EVERY`].
    pub(super) fn update_pages(&mut self) {
        let (Some(http), Some(live)) = (self.http.as_mut(), self.live.as_mut()) else {
            return;
        };
        if http.has_followers() && self.last_update.elapsed() >= UPDATE_EVERY {
            self.last_update = Instant::now();
            let full = self.last_full.elapsed() >= FULL_UPDATE_EVERY;
            if full {
                self.last_full = self.last_update;
            }
            if let Some(json) = live.update(&self.world, full, self.pace.speed()) {
                http.broadcast(&json);
            }
        }
        http.flush();
    }

    /// Answers the page's requests on connection `i`.
    pub(super) fn serve_http(&mut self, i: usize) -> Result<bool, SimError> {
        let Some(http) = self.http.as_mut() else {
            return Ok(false);
        };
        let Some((id, request)) = http.read(i) else {
            return Ok(false);
        };
        match request {
            Request::Page => {
                let now = self.pace.sim_at(self.elapsed()).min(self.horizon);
                self.advance(now)?;
                let html = (self.live.as_ref())
                    .map(|l| l.page(&self.world))
                    .unwrap_or_default();
                if let Some(h) = self.http.as_mut() {
                    h.respond(id, "200 OK", "text/html; charset=utf-8", html.as_bytes());
                }
            }
            Request::Events => {
                if let Some(h) = self.http.as_mut() {
                    h.start_events(id);
                }
            }
            Request::Action(line) if !page_may(&line) => {
                if let Some(h) = self.http.as_mut() {
                    forbid(h, id);
                }
            }
            Request::Action(line) => {
                crate::outln!("lab: from the page: {line}");
                let mut said = Vec::new();
                let quit = self.act(&line, &mut said)?;
                if let Some(h) = self.http.as_mut() {
                    answer(h, id, &said);
                }
                // The page sees the fault, and its outcome, at once.
                self.last_update = a_while_ago(UPDATE_EVERY);
                self.last_full = a_while_ago(FULL_UPDATE_EVERY);
                return Ok(quit);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::page_may;

    #[test]
    fn the_page_sends_faults_not_save_or_quit() {
        assert!(page_may("kill master") && page_may("heal") && page_may("speed 10"));
        assert!(!page_may("save /tmp/x.toml") && !page_may("QUIT") && !page_may("exit"));
    }
}
