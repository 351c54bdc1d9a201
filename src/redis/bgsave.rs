//! The BGSAVE command (rdb.c bgsaveCommand()) and the scheduled BGSAVE
//! serverCron() starts once no child runs.

use crate::proto::resp::Frame;
use crate::proto::{Ctx, Reply};
use crate::sim::net::ConnId;

use super::host_faults::HostFaults;
use super::master::ChildKind;
use super::{Host, Server, strings};

impl Server {
    /// `BGSAVE [SCHEDULE]`: a child writes dump.rdb now; while an RDB child
    /// runs it is refused; while another child runs (an AOF rewrite) it is
    /// refused unless SCHEDULE asks to start it later, as BGSAVE inside EXEC
    /// always is (EXEC must not fork).
    pub(super) fn bgsave_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        args: &[String],
    ) -> Reply {
        let schedule = match args {
            [] => false,
            [a] if a.eq_ignore_ascii_case("schedule") => true,
            _ => return Reply::Error(strings::ERR_SYNTAX.into()),
        };
        let status = |s: &str| Reply::Frame(Frame::Simple(s.into()));
        match self.child.as_ref().map(|c| c.kind) {
            Some(ChildKind::Bgsave | ChildKind::Replication { .. }) => {
                Reply::Error("ERR Background save already in progress".into())
            }
            Some(ChildKind::AofRewrite) if !schedule && !self.in_exec(conn) => Reply::Error(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                    .into(),
            ),
            _ if self.child.is_some() || self.in_exec(conn) => {
                self.bgsave_scheduled = true;
                status("Background saving scheduled")
            }
            _ if self.start_bgsave(ctx, host.disk.faults, ChildKind::Bgsave) => {
                status("Background saving started")
            }
            _ => Reply::Error("ERR".into()),
        }
    }

    /// serverCron(): a scheduled BGSAVE starts once no child runs, if the
    /// last one succeeded or was tried more than 5 s ago; a failed fork
    /// leaves it scheduled.
    pub(super) fn start_scheduled_bgsave(&mut self, ctx: &mut Ctx<'_>, faults: HostFaults) {
        if self.bgsave_scheduled
            && self.child.is_none()
            && self.bgsave_may_retry(ctx.unixtime())
            && self.start_bgsave(ctx, faults, ChildKind::Bgsave)
        {
            self.bgsave_scheduled = false;
        }
    }
}
