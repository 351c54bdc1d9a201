//! The `[[expect]]` table: each kind of expectation, read and checked.

use toml::Spanned;

use crate::check::{Cmp, Expectation, ReplyWant, ResyncKind};
use crate::time::Micros;

use super::ScenarioError;
use super::builder::Builder;
use super::error::suggest;
use super::plan::PROPERTIES;
use super::raw::*;

impl Builder<'_> {
    /// `name` names one of the scenario's `[[command]]`s.
    fn command_named(
        &self,
        name: &Spanned<String>,
        commands: &[&str],
    ) -> Result<(), ScenarioError> {
        if commands.contains(&name.get_ref().as_str()) {
            return Ok(());
        }
        let mut e = self.err(
            name.span(),
            format!("no [[command]] is named `{}`", name.get_ref()),
        );
        e.hint = suggest(name.get_ref(), commands).map(|c| format!("did you mean `{c}`?"));
        Err(e)
    }

    pub(super) fn cmp(&self, s: &Spanned<String>) -> Result<Cmp, ScenarioError> {
        Cmp::parse(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    pub(super) fn expectation(
        &self,
        names: &[String],
        e: &Spanned<RawExpect>,
        duration: Micros,
        cluster: bool,
        commands: &[&str],
    ) -> Result<Expectation, ScenarioError> {
        let span = e.span();
        let r = e.get_ref();
        let node = r.node.as_ref().map(|n| self.node(names, n)).transpose()?;
        let need_node = |what: &str| {
            node.ok_or_else(|| self.err(span.clone(), format!("`{what}` needs `node`")))
        };
        let at =
            r.at.as_ref()
                .map(|s| self.time_in_run(s, duration))
                .transpose()?;
        let need_at =
            |what: &str| at.ok_or_else(|| self.err(span.clone(), format!("`{what}` needs `at`")));
        let after = r
            .after
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?;
        let before = r
            .before
            .as_ref()
            .map(|s| self.time_in_run(s, duration))
            .transpose()?;
        let count = r.count.as_ref().map(|c| self.cmp(c)).transpose()?;
        let mut found = Vec::new();
        if let Some(role) = &r.role {
            let want = role.get_ref().as_str();
            if want != "master" && want != "replica" {
                return Err(self.err(role.span(), "role is `master` or `replica`"));
            }
            found.push(Expectation::Role {
                at: need_at("role")?,
                node: need_node("role")?,
                role: want.to_string(),
            });
        }
        if let Some(field) = &r.info {
            let equals = match r.equals.as_ref().map(|v| v.get_ref()) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(i)) => i.to_string(),
                _ => {
                    return Err(self.err(
                        field.span(),
                        "`info` needs `equals` (a string or an integer)",
                    ));
                }
            };
            found.push(Expectation::Info {
                at: need_at("info")?,
                node: need_node("info")?,
                field: field.get_ref().clone(),
                equals,
            });
        }
        if let Some(ev) = &r.event {
            found.push(Expectation::Event {
                node,
                name: ev.get_ref().clone(),
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
                after,
                before,
            });
        }
        if let Some(kind) = &r.resync {
            let kind = match kind.get_ref().as_str() {
                "partial" => ResyncKind::Partial,
                "full" => ResyncKind::Full,
                _ => return Err(self.err(kind.span(), "resync is `partial` or `full`")),
            };
            found.push(Expectation::Resync {
                node: need_node("resync")?,
                kind,
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
                after,
                before,
            });
        }
        if let Some(c) = &r.lost_acked_writes {
            found.push(Expectation::LostAckedWrites(self.cmp(c)?));
        }
        if let Some(c) = &r.lost_acked_deletes {
            found.push(Expectation::LostAckedDeletes(self.cmp(c)?));
        }
        if let Some(c) = &r.lost_waited_writes {
            found.push(Expectation::LostWaitedWrites(self.cmp(c)?));
        }
        if let Some(d) = &r.max_unavailability {
            found.push(Expectation::MaxUnavailability(self.duration(d)?));
        }
        if let Some(c) = &r.converged {
            if !*c.get_ref() {
                return Err(self.err(c.span(), "write `converged = true` with `at`"));
            }
            found.push(Expectation::Converged {
                at: need_at("converged")?,
            });
        }
        if let Some(c) = &r.stale_reads {
            found.push(Expectation::StaleReads(self.cmp(c)?));
        }
        if let Some(c) = &r.acked_writes {
            found.push(Expectation::AckedWrites(self.cmp(c)?));
        }
        if let Some(prefix) = &r.client_errors {
            found.push(Expectation::ClientErrors {
                prefix: prefix.get_ref().clone(),
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
            });
        }
        if let Some(name) = &r.invariant {
            if !PROPERTIES.contains(&name.get_ref().as_str()) {
                let mut e = self.err(
                    name.span(),
                    format!("unknown invariant `{}`", name.get_ref()),
                );
                e.hint =
                    suggest(name.get_ref(), PROPERTIES).map(|c| format!("did you mean `{c}`?"));
                return Err(e);
            }
            found.push(Expectation::Invariant(name.get_ref().clone()));
        }
        if let Some(c) = &r.keys {
            found.push(Expectation::Keys {
                at: need_at("keys")?,
                node: need_node("keys")?,
                count: self.cmp(c)?,
            });
        }
        if let Some(c) = &r.bus_bytes_per_message {
            if !cluster {
                return Err(self.err(
                    c.span(),
                    "`bus-bytes-per-message` needs `cluster = true` in [topology]",
                ));
            }
            found.push(Expectation::BusBytesPerMessage {
                at: need_at("bus-bytes-per-message")?,
                node: need_node("bus-bytes-per-message")?,
                count: self.cmp(c)?,
            });
        }
        if let Some(name) = &r.messages {
            self.command_named(name, commands)?;
            found.push(Expectation::Messages {
                name: name.get_ref().clone(),
                channel: r.channel.as_ref().map(|c| c.get_ref().clone()),
                count: count.clone().unwrap_or(Cmp::AtLeast(1)),
            });
        } else if let Some(c) = &r.channel {
            return Err(self.err(c.span(), "`channel` goes with `messages`"));
        }
        if let Some(name) = &r.reply {
            self.command_named(name, commands)?;
            let want = match (
                r.equals.as_ref().map(|v| v.get_ref()),
                &r.prefix,
                &r.matches,
            ) {
                (Some(toml::Value::String(s)), None, None) => ReplyWant::Equals(s.clone()),
                (None, Some(p), None) => ReplyWant::Prefix(p.get_ref().clone()),
                (None, None, Some(p)) => ReplyWant::Pattern(p.get_ref().clone()),
                _ => {
                    return Err(self.err(
                        name.span(),
                        "`reply` needs one of `equals` (a string), `prefix` or `matches` (a glob pattern): the reply as redis-cli prints it, or with `field`, that field's value",
                    ));
                }
            };
            found.push(Expectation::Reply {
                name: name.get_ref().clone(),
                field: r.field.as_ref().map(|f| f.get_ref().clone()),
                want,
            });
        } else if let Some(f) = r
            .field
            .as_ref()
            .or(r.prefix.as_ref())
            .or(r.matches.as_ref())
        {
            return Err(self.err(f.span(), "`field`, `prefix` and `matches` go with `reply`"));
        }
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(self.err(span, "this expectation checks nothing: use one of role, info, event, resync, lost-acked-writes, lost-acked-deletes, acked-writes, client-errors, keys, bus-bytes-per-message, reply, messages")),
            _ => Err(self.err(span, "one check per [[expect]] table: split these into separate tables")),
        }
    }
}
