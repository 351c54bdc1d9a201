//! The string commands over several keys (MSET, MGET, DEL and EXISTS with
//! many keys: t_string.c msetCommand(), mgetCommand(); db.c delCommand(),
//! existsCommand()) and the cluster commands about keys (cluster.c
//! clusterCommand(): KEYSLOT, COUNTKEYSINSLOT; READONLY, READWRITE).
//!
//! They arrive as [`Cmd::Named`] lines; their keys are read off the command
//! table's key range, so cluster routing (CROSSSLOT, TRYAGAIN) sees them.

use crate::proto::keyspace::ERR_NOT_INTEGER;
use crate::proto::resp::Frame;
use crate::proto::{Cmd, Ctx, Reply, slots};
use crate::sim::net::ConnId;

use super::Server;
use super::expire::Lookup;

const ERR_NO_CLUSTER: &str = "ERR This instance has cluster support disabled";

impl Server {
    /// A keyed line (the admission and routing checks have passed).
    pub(super) fn multikey_command(
        &mut self,
        ctx: &Ctx<'_>,
        conn: ConnId,
        name: &str,
        argv: &[String],
    ) -> Reply {
        match name {
            "mset" => {
                if argv.len().is_multiple_of(2) {
                    return Reply::Error("ERR wrong number of arguments for 'mset' command".into());
                }
                // setKey()'s lookupKeyWrite() of each key.
                for pair in argv[1..].chunks_exact(2) {
                    self.lookup(ctx, &pair[0], Lookup::Write);
                }
                self.write_line(name, argv);
                Reply::Ok
            }
            "del" => {
                // delGenericCommand(): expireIfNeeded() on each key first.
                for k in &argv[1..] {
                    self.expire_if_needed(ctx, k, false);
                }
                let existing = argv[1..]
                    .iter()
                    .filter(|k| self.data.get(k).is_some())
                    .count();
                self.write_line(name, argv);
                Reply::Frame(Frame::Int(existing as i64))
            }
            "mget" => Reply::Frame(Frame::Array(Some(
                argv[1..]
                    .iter()
                    .map(|k| match self.lookup(ctx, k, Lookup::Read) {
                        true => Frame::bulk(self.data.get(k).expect("found").to_string()),
                        false => Frame::Bulk(None),
                    })
                    .collect(),
            ))),
            "exists" => Reply::Frame(Frame::Int(
                argv[1..]
                    .iter()
                    .filter(|k| self.lookup(ctx, k, Lookup::Read))
                    .count() as i64,
            )),
            "readonly" | "readwrite" => {
                if self.cluster.is_none() {
                    return Reply::Error(ERR_NO_CLUSTER.into());
                }
                if let Some(c) = self.clients.get_mut(&conn) {
                    c.readonly = name == "readonly";
                }
                Reply::Ok
            }
            "cluster|keyslot" => {
                if self.cluster.is_none() {
                    return Reply::Error(ERR_NO_CLUSTER.into());
                }
                Reply::Frame(Frame::Int(i64::from(slots::key_hash_slot(
                    argv[2].as_bytes(),
                ))))
            }
            "cluster|countkeysinslot" => {
                if self.cluster.is_none() {
                    return Reply::Error(ERR_NO_CLUSTER.into());
                }
                let slot = match argv[2].parse::<i64>() {
                    Err(_) => return Reply::Error(ERR_NOT_INTEGER.into()),
                    Ok(s) if !(0..16384).contains(&s) => {
                        return Reply::Error("ERR Invalid slot".into());
                    }
                    Ok(s) => s as u16,
                };
                let n = self
                    .data
                    .keys()
                    .filter(|k| slots::key_hash_slot(k.as_bytes()) == slot)
                    .count();
                Reply::Frame(Frame::Int(n as i64))
            }
            _ => Reply::Error(format!(
                "ERR redsim does not model '{name}' in this form yet"
            )),
        }
    }

    /// call() for a keyed write: applied, then propagated as sent when it
    /// changed the dataset.
    fn write_line(&mut self, name: &str, argv: &[String]) {
        if !super::strings::apply(&mut self.data, name, argv) {
            return;
        }
        self.dirty += 1;
        let Ok(spec) = crate::proto::command::Table::Redis.lookup(argv) else {
            return;
        };
        self.propagate(Cmd::Named {
            spec,
            argv: argv.to_vec(),
        });
    }
}
