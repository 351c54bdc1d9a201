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

#[cfg(test)]
mod tests {
    use crate::scenario::parse;

    const BASE: &str = r#"
name = "c"
duration = "10s"
[topology]
masters = 1
replicas = 1
[[workload]]
target = "master"
rate = 1
"#;

    fn error(extra: &str) -> String {
        parse("c.toml", &format!("{BASE}{extra}"))
            .unwrap_err()
            .message
    }

    #[test]
    fn a_connection_carries_its_sessions_lines() {
        let plan = parse(
            "c.toml",
            &format!(
                "{BASE}[[connection]]\nsession = \"lab-1\"\nnode = \"replica-1\"\nopen = \"1s\"\nclose = \"3s\"\n\
                 [[command]]\nat = \"2s\"\nnode = \"replica-1\"\nsession = \"lab-1\"\nsend = \"GET k\"\n"
            ),
        )
        .unwrap();
        assert_eq!(plan.connections.len(), 1);
        assert_eq!(
            (plan.connections[0].open, plan.connections[0].close),
            (1_000_000, Some(3_000_000))
        );
        // Outside connections are held by the operator's node.
        assert!(plan.node_index("redis-cli").is_some());
    }

    #[test]
    fn bad_connections_are_refused_with_the_reason() {
        let conn = |s: &str, node: &str, open: &str, close: &str| {
            format!(
                "[[connection]]\nsession = \"{s}\"\nnode = \"{node}\"\nopen = \"{open}\"\n{close}"
            )
        };
        assert!(
            error(&conn("redis-cli", "master", "1s", "")).contains("operator's redis-cli session")
        );
        assert!(error(&conn("c1", "client-1", "1s", "")).contains("not a client"));
        assert!(
            error(&conn("c1", "master", "2s", "close = \"1s\"\n"))
                .contains("`close` is before `open`")
        );
        let twice = format!(
            "{}{}",
            conn("c1", "master", "1s", ""),
            conn("c1", "master", "2s", "")
        );
        assert!(error(&twice).contains("declared twice"));
        let line = |at: &str, node: &str| {
            format!(
                "[[command]]\nat = \"{at}\"\nnode = \"{node}\"\nsession = \"c1\"\nsend = \"PING\"\n"
            )
        };
        let c1 = conn("c1", "master", "2s", "close = \"4s\"\n");
        assert!(error(&format!("{c1}{}", line("3s", "replica-1"))).contains("its lines go there"));
        assert!(error(&format!("{c1}{}", line("1s", "master"))).contains("not open at 1s"));
        assert!(error(&format!("{c1}{}", line("4s", "master"))).contains("not open at 4s"));
    }

    #[test]
    fn stop_ends_the_run_within_its_duration() {
        let stop = |v: &str| {
            BASE.replace(
                "duration = \"10s\"",
                &format!("duration = \"10s\"\nstop = \"{v}\""),
            )
        };
        assert_eq!(parse("c.toml", &stop("4s")).unwrap().duration, 4_000_000);
        assert!(
            parse("c.toml", &stop("11s"))
                .unwrap_err()
                .message
                .contains("after the end of the run")
        );
        assert!(
            parse("c.toml", &stop("0s"))
                .unwrap_err()
                .message
                .contains("stop must be after zero")
        );
    }
}
