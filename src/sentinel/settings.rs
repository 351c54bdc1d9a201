//! Settings changed at run time. `SENTINEL SET <name> <option> <value>
//! ...` (sentinel.c sentinelSetCommand()): options applied one by one, left
//! to right, each logged as a `+set` event; the first bad one ends the
//! command with its error, and those before it stay applied (the command
//! is not atomic). `SENTINEL CONFIG GET|SET` (sentinelConfigGetCommand(),
//! sentinelConfigSetCommand()): the Sentinel's global settings.

use compact_str::CompactString;

use crate::proto::resp::Frame;
use crate::proto::util::{string2ll, stringmatch};
use crate::trace::Level;

use super::SentinelNode;
use super::commands::no_such_master;
use super::instance::MasterId;
use super::pass::Pass;

/// One applied option: what the `+set` event shows after the master.
enum Applied {
    /// `<option> <value>`
    Value,
    /// `<option> ******` (auth-pass).
    Redacted,
}

/// Why an option stopped the command.
enum Refused {
    /// `Invalid argument '<value>' for SENTINEL SET '<option>'`
    BadValue,
    /// `Unknown option or number of arguments for SENTINEL SET '<option>'`
    Unknown,
    /// Any other error text.
    Error(String),
}

/// Options that only scripts or ACL users use; redsim runs no scripts and
/// has no ACL users.
const NOT_MODELLED: &[&str] = &["auth-user", "rename-command"];

impl SentinelNode {
    /// `SENTINEL SET`: each valid option changes the master (and
    /// sentinel.conf, which is flushed after every change) at once.
    pub(super) fn sentinel_set(&mut self, ctx: &mut Pass<'_, '_>, argv: &[String]) -> Frame {
        let Some(id) = self.master_named(&argv[2]).map(|m| m.id) else {
            return no_such_master();
        };
        let mut j = 3;
        while j < argv.len() {
            let option = argv[j].as_str();
            let value = argv.get(j + 1).map(String::as_str);
            let result = match value {
                Some(v) => self.set_option(ctx, id, &option.to_ascii_lowercase(), v),
                None => Err(Refused::Unknown),
            };
            match result {
                Ok(applied) => {
                    let shown = match applied {
                        Applied::Value => value.unwrap_or_default(),
                        Applied::Redacted => "******",
                    };
                    let detail = format!("{} {option} {shown}", self.m_ref(id).inst.describe());
                    Self::emit(ctx, Level::Warning, "+set", detail);
                    self.flush_config();
                }
                Err(Refused::BadValue) => {
                    return Frame::Error(format!(
                        "ERR Invalid argument '{}' for SENTINEL SET '{option}'",
                        value.unwrap_or_default()
                    ));
                }
                Err(Refused::Unknown) => {
                    return Frame::Error(format!(
                        "ERR Unknown option or number of arguments for SENTINEL SET '{option}'"
                    ));
                }
                Err(Refused::Error(e)) => return Frame::Error(e),
            }
            j += 2;
        }
        Frame::ok()
    }

    /// One `<option> <value>` pair of sentinelSetCommand().
    fn set_option(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        id: MasterId,
        option: &str,
        value: &str,
    ) -> Result<Applied, Refused> {
        let positive = || string2ll(value).filter(|&n| n > 0).ok_or(Refused::BadValue);
        let m = self.m(id);
        match option {
            "down-after-milliseconds" => {
                // sentinelPropagateDownAfterPeriod(): replicas and Sentinels
                // share the master's value here.
                let n = positive()? as u64;
                m.down_after = n;
            }
            "failover-timeout" => {
                let n = positive()? as u64;
                m.failover_timeout = n;
            }
            "parallel-syncs" => {
                let n = positive()? as u32;
                m.parallel_syncs = n;
            }
            "quorum" => {
                let n = positive()? as u32;
                m.quorum = n;
            }
            "master-reboot-down-after-period" => {
                let n = string2ll(value)
                    .filter(|&n| n >= 0)
                    .ok_or(Refused::BadValue)?;
                m.reboot_down_after = n as u64;
            }
            "auth-pass" => {
                m.auth_pass = (!value.is_empty()).then(|| value.into());
                self.drop_instance_connections(ctx, id);
                return Ok(Applied::Redacted);
            }
            "notification-script" | "client-reconfig-script" => {
                // deny-scripts-reconfig is yes, its default.
                return Err(Refused::Error(
                    "ERR Reconfiguration of scripts path is denied for security reasons. \
                     Check the deny-scripts-reconfig configuration directive in your \
                     Sentinel configuration"
                        .into(),
                ));
            }
            o if NOT_MODELLED.contains(&o) => {
                return Err(Refused::Error(format!(
                    "ERR redsim does not model SENTINEL SET '{o}' yet"
                )));
            }
            _ => return Err(Refused::Unknown),
        }
        Ok(Applied::Value)
    }

    /// dropInstanceConnections(): the links to the master and its replicas
    /// are closed, to be opened again (with the new password) at the next
    /// reconnect.
    fn drop_instance_connections(&mut self, ctx: &mut Pass<'_, '_>, id: MasterId) {
        let m = self.m_ref(id);
        let nodes: Vec<_> = std::iter::once(&m.inst)
            .chain(m.replicas.iter())
            .map(|i| i.node)
            .collect();
        for node in nodes {
            self.close_link(ctx, id, node, true);
            self.close_link(ctx, id, node, false);
        }
    }
}

/// The global settings `SENTINEL CONFIG` reads and writes, kept across
/// restarts as sentinel.conf keeps them. Every modelled address is an IP
/// that is its own hostname, so neither changes what a Sentinel does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Globals {
    pub resolve_hostnames: bool,
    pub announce_hostnames: bool,
    /// `announce-ip`: the address this Sentinel's hellos give.
    pub announce_ip: Option<CompactString>,
    /// `announce-port` (0: its own port).
    pub announce_port: u16,
}

const CONFIG_USAGE: &str =
    "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";

/// yesnotoi()
fn yes_no(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

impl SentinelNode {
    /// `SENTINEL CONFIG GET <pattern>` (4 arguments) or `SET <param>
    /// <value>` (5); anything else gets the usage error.
    pub(super) fn sentinel_config(&mut self, argv: &[String]) -> Frame {
        let sub = argv[2].as_str();
        if sub.eq_ignore_ascii_case("set") && argv.len() == 5 {
            self.config_set(&argv[3], &argv[4])
        } else if sub.eq_ignore_ascii_case("get") && argv.len() == 4 {
            self.config_get(&argv[3])
        } else {
            Frame::Error(CONFIG_USAGE.into())
        }
    }

    /// sentinelConfigGetCommand(): the six settings whose names match the
    /// glob (case-insensitive), in Redis's order; an unset string is "".
    fn config_get(&self, pattern: &str) -> Frame {
        let yn = |b: bool| if b { "yes" } else { "no" };
        let port = self.globals.announce_port.to_string();
        let all = [
            ("resolve-hostnames", yn(self.globals.resolve_hostnames)),
            ("announce-hostnames", yn(self.globals.announce_hostnames)),
            (
                "announce-ip",
                self.globals.announce_ip.as_deref().unwrap_or(""),
            ),
            ("announce-port", port.as_str()),
            ("sentinel-user", ""),
            ("sentinel-pass", ""),
        ];
        // setDeferredMapLen(): a map in RESP3.
        Frame::map(
            all.into_iter()
                .filter(|(name, _)| stringmatch(pattern, name, true))
                .map(|(k, v)| (k, Frame::bulk(v))),
        )
    }

    /// sentinelConfigSetCommand(): values are checked as Redis checks
    /// them; the hostname switches and the announced address are kept (the
    /// next hello gives the new address), the Sentinels' own credentials
    /// are not modelled.
    fn config_set(&mut self, param: &str, value: &str) -> Frame {
        let bad = || {
            Frame::Error(format!(
                "ERR Invalid value '{value}' to SENTINEL CONFIG SET '{param}'"
            ))
        };
        let lower = param.to_ascii_lowercase();
        match lower.as_str() {
            "resolve-hostnames" | "announce-hostnames" => {
                let Some(on) = yes_no(value) else {
                    return bad();
                };
                if lower == "resolve-hostnames" {
                    self.globals.resolve_hostnames = on;
                } else {
                    self.globals.announce_hostnames = on;
                }
                self.flush_config();
                Frame::ok()
            }
            "announce-port" => match string2ll(value) {
                Some(port @ 0..=65535) => {
                    self.globals.announce_port = port as u16;
                    self.flush_config();
                    Frame::ok()
                }
                _ => bad(),
            },
            "announce-ip" => {
                // An empty value clears it (sdsempty, then no announce).
                self.globals.announce_ip = (!value.is_empty()).then(|| value.into());
                self.flush_config();
                Frame::ok()
            }
            "sentinel-user" | "sentinel-pass" => not_modelled_config(param),
            _ => Frame::Error(format!(
                "ERR Invalid argument '{param}' to SENTINEL CONFIG SET"
            )),
        }
    }
}

fn not_modelled_config(param: &str) -> Frame {
    Frame::Error(format!(
        "ERR redsim does not model SENTINEL CONFIG SET '{param}' yet"
    ))
}
