//! Where the cluster says each node is: a node's own entry follows its
//! `cluster-announce-ip`/`-port`/`-bus-port` (clusterUpdateMyselfIp(),
//! clusterUpdateMyselfAnnouncedPorts()), and the others learn it from the
//! header of its PINGs (nodeUpdateAddressIfNeeded()). That is Redis's NAT
//! support: a node behind one announces the address clients can reach.

use std::rc::Rc;

use super::{ClusterState, NodeAddr};
use crate::proto::Ctx;
use crate::proto::addr::Directory;
use crate::proto::bus::BusMsg;
use crate::redis::{Host, Server};
use crate::sim::net::NodeId;
use crate::trace::Level;
use crate::trace::names;

impl Server {
    /// Refuses announce settings that name an address other than this
    /// node's (inside or published, with the bus at its port + 10000):
    /// Redis's bus would then dial nowhere and cut the node off, while the
    /// simulated bus reaches a node by its identity. Outside cluster mode
    /// the settings do nothing, and anything goes.
    pub(in crate::redis) fn announce_reaches_me(
        &self,
        dir: &Directory,
        me: NodeId,
    ) -> Result<(), String> {
        if self.cluster.is_none() {
            return Ok(());
        }
        let a = &self.cfg.cluster;
        let ip = a.announce_ip.as_deref().unwrap_or(&dir.hosts[me as usize]);
        let port = if a.announce_port != 0 {
            a.announce_port
        } else {
            self.cfg.port
        };
        let cport = if a.announce_bus_port != 0 {
            a.announce_bus_port
        } else {
            port.wrapping_add(10000)
        };
        if dir.lookup(ip, port) == Some(me) && u32::from(cport) == u32::from(port) + 10000 {
            return Ok(());
        }
        Err(format!(
            "ERR redsim does not model announcing {ip}:{port}@{cport}, which does not reach this node: \
             Redis's cluster bus would be cut off, the simulated one would not"
        ))
    }

    /// The announce settings changed (or the node booted): its own entry
    /// takes them at once; the others see them in its next PING.
    pub(in crate::redis) fn cluster_update_myself_address(
        &mut self,
        ctx: &mut Ctx<'_>,
        inside_ip: &str,
    ) {
        let port = self.cfg.port;
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        if c.update_myself_address(&self.cfg.cluster, port, inside_ip) {
            // Redis learns it from the next packet's socket; that comes
            // within a cron period.
            ctx.log(
                Level::Warning,
                names::redis::MY_IP_UPDATED,
                format!("IP address for this node updated to {inside_ip}"),
            );
            c.todo_save = true;
        }
    }

    /// nodeUpdateAddressIfNeeded(): a PING on an inbound link says where
    /// its sender is: the address it announces (`hdr->myip`), else the
    /// connection's source address, with the ports from the header. A
    /// change replaces the entry, drops the outbound link (it reconnects
    /// to the new address) and, for this replica's master, points
    /// replication there.
    pub(super) fn update_address_if_needed(
        &mut self,
        c: &mut ClusterState,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        msg: &BusMsg,
    ) {
        let sender = msg.sender;
        let ip: Rc<str> = match &msg.myip {
            Some(ip) => ip.clone(),
            None => host.dir.hosts[sender as usize].as_str().into(),
        };
        let addr = NodeAddr {
            ip,
            port: msg.port,
            cport: msg.cport,
        };
        if c.node(sender).addr == addr {
            return;
        }
        let name = c.name(sender);
        ctx.log(
            Level::Warning,
            names::redis::ADDRESS_UPDATED,
            format!("Address updated for node {name}, now {addr}"),
        );
        c.node_mut(sender).addr = addr.clone();
        if let Some(link) = c.node(sender).link {
            ctx.close(link.conn);
            c.set_link(sender, None);
        }
        c.todo_save = true;
        c.todo_update_state = true;
        if !c.i_am_master() && c.me().slaveof == Some(sender) {
            self.replicaof(ctx, sender, (&addr.ip, addr.port), "");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::Msg;
    use crate::proto::bus::BusKind;
    use crate::redis::testing::{Cli, H, bus_from, cluster, cluster_conf, server, state};
    use crate::sim::net::PORT_BUS;
    use crate::time::ms;

    use super::*;

    /// Node 0 and masters 1 and 2, with replicas 3, 4, 5; or node 0 as
    /// the replica of 1 (`replica`).
    fn six(replica: bool) -> H {
        let zero = if replica { Some(1) } else { None };
        let mut h = cluster(
            vec![zero, None, None, Some(0), Some(1), Some(2)],
            cluster_conf(),
        );
        h.run_until(ms(500));
        h
    }

    /// `kind` from node 1 announcing 127.0.0.1:7001 (bus 17001), sent on a
    /// new connection from node 1 (an inbound link of node 0's).
    fn announce_from_1(h: &mut H, kind: BusKind) {
        let mut msg = bus_from(h, 1, kind);
        msg.myip = Some("127.0.0.1".into());
        msg.port = 7001;
        msg.cport = 17001;
        let conn = h.connect_port(1, 0, PORT_BUS);
        h.send(1, conn, Msg::Bus(Box::new(msg)));
    }

    /// nodeUpdateAddressIfNeeded(): a PING on an inbound link that
    /// announces a new address replaces node 1's, logs it once, and drops
    /// the outbound link to it; the same address again changes nothing.
    #[test]
    fn a_ping_announcing_a_new_address_updates_the_node() {
        let mut h = six(false);
        assert_eq!(state(&mut h).nodes[1].addr, NodeAddr::at("10.0.0.2", 6379));
        assert!(state(&mut h).nodes[1].link.is_some());
        announce_from_1(&mut h, BusKind::Ping);
        let c = state(&mut h);
        assert_eq!(
            c.nodes[1].addr,
            NodeAddr {
                ip: "127.0.0.1".into(),
                port: 7001,
                cport: 17001
            }
        );
        let name = c.name(1);
        assert!(c.nodes[1].link.is_none(), "reconnects to the new address");
        let updated = h.events(0, names::redis::ADDRESS_UPDATED);
        assert_eq!(updated.len(), 1);
        assert_eq!(
            updated[0].1,
            format!("Address updated for node {name}, now 127.0.0.1:7001")
        );
        announce_from_1(&mut h, BusKind::Ping);
        assert_eq!(h.events(0, names::redis::ADDRESS_UPDATED).len(), 1);
    }

    /// Only a PING updates an address: a PONG announcing another is read
    /// for everything else, but not for where its sender is.
    #[test]
    fn a_pong_does_not_move_a_node() {
        let mut h = six(false);
        announce_from_1(&mut h, BusKind::Pong);
        assert_eq!(state(&mut h).nodes[1].addr, NodeAddr::at("10.0.0.2", 6379));
    }

    /// A replica whose master moves replicates from the new address
    /// (replicationSetMaster(node->ip, node->port)).
    #[test]
    fn a_replica_follows_its_master_to_its_new_address() {
        let mut h = six(true);
        h.run_until(ms(1500));
        let side = server(&mut h).replica.as_ref().expect("a replica");
        assert_eq!(
            (side.master_host.as_str(), side.master_port),
            ("10.0.0.2", 6379)
        );
        announce_from_1(&mut h, BusKind::Ping);
        let side = server(&mut h).replica.as_ref().expect("a replica");
        assert_eq!(
            (side.master_host.as_str(), side.master_port),
            ("127.0.0.1", 7001)
        );
    }

    /// CONFIG SET of the announce settings: its own entry and its next
    /// headers take an address that reaches it at once; one that does not
    /// (Redis's bus would be cut off) is refused and nothing changes.
    /// Clearing the IP goes back to the address it is reached at.
    #[test]
    fn config_set_announces_only_an_address_that_reaches_the_node() {
        let mut cli = Cli::with(six(false));
        assert_eq!(cli.send("CONFIG SET cluster-announce-ip 10.0.0.1"), "OK");
        let c = state(&mut cli.h);
        assert_eq!(c.announce_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(c.me().addr, NodeAddr::at("10.0.0.1", 6379));
        assert_eq!(
            cli.send("CONFIG SET cluster-announce-port 7000"),
            "(error) ERR redsim does not model announcing 10.0.0.1:7000@17000, which does not \
             reach this node: Redis's cluster bus would be cut off, the simulated one would not"
        );
        assert_eq!(
            cli.send("CONFIG GET cluster-announce-port"),
            "1) \"cluster-announce-port\"\n2) \"0\""
        );
        assert!(
            cli.send("CONFIG SET cluster-announce-ip 192.0.2.1")
                .starts_with("(error) ERR redsim")
        );
        assert_eq!(cli.send("CONFIG SET cluster-announce-bus-port 16379"), "OK");
        assert_eq!(cli.send("CONFIG SET cluster-announce-ip \"\""), "OK");
        let c = state(&mut cli.h);
        assert_eq!(
            (c.announce_ip.clone(), c.me().addr.clone()),
            (None, NodeAddr::at("10.0.0.1", 6379))
        );
        assert_eq!(
            cli.h.events(0, names::redis::MY_IP_UPDATED)[0].1,
            "IP address for this node updated to 10.0.0.1"
        );
    }
}
