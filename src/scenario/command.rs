//! The `[[command]]` table: a command line typed into the operator's
//! redis-cli at a time, sent to one Redis server or Sentinel.

use serde::Deserialize;
use toml::Spanned;

use crate::history::CommandLine;
use crate::proto::resp::split_args;
use crate::time::Micros;

use super::ScenarioError;
use super::builder::{Builder, Roster};

/// The session a line goes to when the table names none.
pub const DEFAULT_SESSION: &str = "redis-cli";

/// `[[command]] at = "5s" node = "replica-1" send = "REPLICAOF 10.0.0.1 6379"`
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawCommand {
    at: Spanned<String>,
    node: Spanned<String>,
    send: Spanned<String>,
    /// The redis-cli session (its own connections); `redis-cli` if unset.
    session: Option<Spanned<String>>,
    /// How `[[expect]] reply = …` refers to it.
    name: Option<Spanned<String>>,
}

impl RawCommand {
    /// Where the line's `at` is written, for errors about the whole line.
    pub(super) fn at_span(&self) -> std::ops::Range<usize> {
        self.at.span()
    }
}

impl Builder<'_> {
    /// Every command line, in the file's order, with its time.
    pub(super) fn commands(
        &self,
        raw: &[RawCommand],
        roster: &Roster,
        duration: Micros,
    ) -> Result<Vec<(Micros, CommandLine)>, ScenarioError> {
        let mut out = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for c in raw {
            let at = self.time_in_run(&c.at, duration)?;
            let node = self.node(&roster.names, &c.node)?;
            if node >= roster.servers {
                return Err(self.err(
                    c.node.span(),
                    "commands go to a Redis server or a Sentinel, not a client",
                ));
            }
            let line = c.send.get_ref().trim();
            let argv = split_args(line).ok_or_else(|| {
                self.err(
                    c.send.span(),
                    "unbalanced quotes (redis-cli: Invalid argument(s))",
                )
            })?;
            if argv.is_empty() {
                return Err(self.err(c.send.span(), "`send` is an empty command line"));
            }
            let session = match &c.session {
                Some(s) => {
                    super::limits::check_token("a session name", s.get_ref())
                        .map_err(|m| self.err(s.span(), m))?;
                    s.get_ref().clone()
                }
                None => DEFAULT_SESSION.into(),
            };
            if let Some(n) = &c.name {
                if names.contains(&n.get_ref().as_str()) {
                    return Err(self.err(
                        n.span(),
                        format!("command name `{}` is used twice", n.get_ref()),
                    ));
                }
                names.push(n.get_ref());
            }
            out.push((
                at,
                CommandLine {
                    name: c.name.as_ref().map(|n| n.get_ref().clone()),
                    session,
                    node: node as u32,
                    line: line.to_string(),
                    argv,
                },
            ));
        }
        Ok(out)
    }
}
