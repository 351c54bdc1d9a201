//! The `[[connection]]` table: a connection from outside the deployment (a
//! client of `redsim lab`), open from one instant to another, that the
//! `[[command]]` lines of its session are sent on. `redsim lab` writes
//! these when it saves a session; a replay opens and closes them at the
//! same instants, so the servers see the same clients come and go.

use serde::Deserialize;
use toml::Spanned;

use crate::history::CommandLine;
use crate::time::Micros;

use super::ScenarioError;
use super::builder::{Builder, Roster};
use super::command::DEFAULT_SESSION;
use super::fault::FAULT_SESSION;

/// `[[connection]] session = "lab-1" node = "master" open = "2.5s"`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawConnection {
    session: Spanned<String>,
    node: Spanned<String>,
    open: Spanned<String>,
    close: Option<Spanned<String>>,
}

/// One outside connection: its session's lines go on it, and its replies
/// are passed on as they come, frame by frame (no redis-cli in between).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub session: String,
    pub node: usize,
    pub open: Micros,
    /// When the outside client hung up; `None` if it stayed to the end.
    pub close: Option<Micros>,
}

impl Builder<'_> {
    /// Every outside connection, checked against the command lines sent
    /// on it: each goes to the connection's node while it is open.
    pub(super) fn connections(
        &self,
        raw: &[RawConnection],
        roster: &Roster,
        duration: Micros,
        commands: &[(Micros, CommandLine)],
        command_spans: &[std::ops::Range<usize>],
    ) -> Result<Vec<Connection>, ScenarioError> {
        let mut out: Vec<Connection> = Vec::new();
        for c in raw {
            let session = c.session.get_ref();
            super::limits::check_token("a session name", session)
                .map_err(|m| self.err(c.session.span(), m))?;
            if session == DEFAULT_SESSION || session == FAULT_SESSION {
                return Err(self.err(
                    c.session.span(),
                    format!(
                        "`{session}` is the operator's redis-cli session, not an outside connection"
                    ),
                ));
            }
            if out.iter().any(|o| &o.session == session) {
                return Err(self.err(
                    c.session.span(),
                    format!("connection `{session}` is declared twice"),
                ));
            }
            let node = self.node(&roster.names, &c.node)?;
            if node >= roster.servers {
                return Err(self.err(
                    c.node.span(),
                    "connections go to a Redis server or a Sentinel, not a client",
                ));
            }
            let open = self.time_in_run(&c.open, duration)?;
            let close = match &c.close {
                Some(s) => {
                    let t = self.time_in_run(s, duration)?;
                    if t < open {
                        return Err(self.err(s.span(), "`close` is before `open`"));
                    }
                    Some(t)
                }
                None => None,
            };
            out.push(Connection {
                session: session.clone(),
                node,
                open,
                close,
            });
        }
        for ((at, line), span) in commands.iter().zip(command_spans) {
            let Some(c) = out.iter().find(|c| c.session == line.session) else {
                continue;
            };
            if line.node as usize != c.node {
                return Err(self.err(
                    span.clone(),
                    format!(
                        "session `{}` is a connection to {}: its lines go there",
                        c.session, roster.names[c.node]
                    ),
                ));
            }
            if *at < c.open || c.close.is_some_and(|close| *at >= close) {
                return Err(self.err(
                    span.clone(),
                    format!(
                        "connection `{}` is not open at {}",
                        c.session,
                        crate::time::format_duration(*at)
                    ),
                ));
            }
        }
        Ok(out)
    }
}
