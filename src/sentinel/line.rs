//! Command lines sent to a Sentinel: looked up in Sentinel's own command
//! table (sentinel.c `sentinelcmds`), so a Redis command gets Sentinel's
//! `unknown command` reply, and answered as RESP.

use crate::proto::Cmd;
use crate::proto::command::Table;
use crate::proto::resp::Frame;
use crate::sim::net::ConnId;

use super::SentinelNode;
use super::pass::Pass;

impl SentinelNode {
    /// A command line from a client (processCommand() with Sentinel's
    /// table, then sentinelCommand() and the few others it has).
    pub(super) fn command_line(
        &mut self,
        ctx: &mut Pass<'_, '_>,
        conn: ConnId,
        argv: Vec<String>,
    ) -> Frame {
        let spec = match Table::Sentinel.lookup(&argv) {
            Ok(spec) => spec,
            Err(e) => return Frame::Error(e),
        };
        let cmd = match spec.name {
            "ping" if argv.len() == 1 => Cmd::Ping,
            "ping" if argv.len() == 2 => return Frame::bulk(argv[1].clone()),
            "role" => return self.role_frame(),
            "info" => return self.info_frame(ctx, &argv[1..]),
            "sentinel|get-master-addr-by-name" => Cmd::GetMasterAddrByName(argv[2].as_str().into()),
            "sentinel|ckquorum" => return self.ckquorum(&argv[2]),
            "sentinel|failover" => return self.force_failover(ctx, &argv[2]),
            "sentinel|master" => return self.show_master(ctx, &argv[2]),
            "sentinel|masters" => return self.show_masters(ctx),
            "sentinel|replicas" | "sentinel|slaves" => return self.show_replicas(ctx, &argv[2]),
            "sentinel|sentinels" => return self.show_sentinels(ctx, &argv[2]),
            "sentinel|set" => return self.sentinel_set(ctx, &argv),
            "sentinel|reset" => return self.reset_by_pattern(ctx, &argv[2]),
            "sentinel|monitor" => return self.monitor(ctx, &argv),
            "sentinel|remove" => return self.remove(ctx, &argv[2]),
            "sentinel|info-cache" => return self.info_cache(ctx, &argv[2..]),
            "sentinel|config" => return self.sentinel_config(&argv),
            "sentinel|is-master-down-by-addr" => return self.is_master_down_line(ctx, &argv),
            "sentinel|help" => return super::help::help_frame(),
            // Scripts are not run, so none is ever pending.
            "sentinel|pending-scripts" => return Frame::Array(Some(Vec::new())),
            "sentinel|flushconfig" => {
                self.flush_config();
                return Frame::ok();
            }
            "sentinel|myid" => {
                let p = self.state.as_ref().expect("running");
                return Frame::bulk(p.myid.to_string());
            }
            name => {
                return Frame::Error(format!(
                    "ERR redsim does not model '{name}' in this form yet"
                ));
            }
        };
        let reply = self.command(ctx, conn, cmd);
        reply
            .to_frame()
            .unwrap_or_else(|| Frame::Error(format!("{reply:?}")))
    }

    /// `INFO sentinel` (sentinelInfoCommand() with the one section a
    /// Sentinel adds): the masters count, TILT, and one `masterN:` line per
    /// monitored master. The server sections are not modelled.
    fn info_frame(&self, ctx: &Pass<'_, '_>, sections: &[String]) -> Frame {
        if !matches!(sections, [s] if s.eq_ignore_ascii_case("sentinel")) {
            return Frame::Error(
                "ERR redsim does not model 'info' in this form yet (INFO sentinel is)".into(),
            );
        }
        let p = self.state.as_ref().expect("running");
        let tilt_since = if p.tilt {
            (ctx.mstime() as i64 - p.tilt_start as i64) / 1000
        } else {
            -1
        };
        let mut s = format!(
            "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\n\
             sentinel_tilt_since_seconds:{tilt_since}\r\nsentinel_running_scripts:0\r\n\
             sentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n",
            p.masters.len(),
            u8::from(p.tilt),
        );
        for (i, m) in p.masters.iter().enumerate() {
            s.push_str(&super::master_info_line(i, m));
        }
        Frame::bulk(s)
    }

    /// `ROLE` on a Sentinel: `sentinel` and the names of the masters it
    /// monitors (sentinel.c `sentinelRoleCommand()`).
    fn role_frame(&self) -> Frame {
        let p = self.state.as_ref().expect("running");
        let names = p
            .masters
            .iter()
            .map(|m| Frame::bulk(m.inst.name.to_string()))
            .collect();
        Frame::Array(Some(vec![
            Frame::bulk("sentinel"),
            Frame::Array(Some(names)),
        ]))
    }
}
