//! The `[publish]` table: the host publishes every server's port at an
//! address outside the deployment, as `docker run -p` publishes a
//! container's, and the servers announce that address with Redis's own
//! NAT settings (`replica-announce-ip`/`-port`, Sentinel's `announce-ip`/
//! `-port`, the published master in `sentinel monitor`, and a cluster
//! node's `cluster-announce-ip`/`-port`/`-bus-port`), so that every address
//! the deployment hands out is one an outside client can reach.
//! `redsim lab` writes it.

use serde::Deserialize;
use toml::Spanned;

use super::ScenarioError;
use super::builder::Builder;
use super::plan::{NodeKind, NodePlan, Publish, SENTINEL_OFFSET};

/// `[publish] host = "127.0.0.1" port-base = 7000`
/// CLUSTER_PORT_INCR: a node's bus listens at its port + 10000.
const CLUSTER_BUS_OFFSET: u64 = 10000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPublish {
    host: Option<Spanned<String>>,
    port_base: Spanned<u64>,
}

impl Builder<'_> {
    /// Reads `[publish]` and sets each server's announced address to its
    /// published one, where the file sets none itself.
    pub(super) fn publish(
        &self,
        raw: Option<&RawPublish>,
        nodes: &mut [NodePlan],
        cluster: bool,
    ) -> Result<Option<Publish>, ScenarioError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let host = match &raw.host {
            Some(h) => {
                if h.get_ref().parse::<std::net::Ipv4Addr>().is_err() {
                    return Err(self.err(h.span(), "`host` is an IPv4 address, e.g. 127.0.0.1"));
                }
                h.get_ref().clone()
            }
            None => "127.0.0.1".into(),
        };
        let sentinels = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Sentinel(_)))
            .count() as u64;
        let servers = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Redis { .. }))
            .count() as u64;
        let base = *raw.port_base.get_ref();
        let top = base + u64::from(SENTINEL_OFFSET) + sentinels;
        if cluster && base + servers + CLUSTER_BUS_OFFSET > 65536 {
            return Err(self.err(
                raw.port_base.span(),
                format!(
                    "`port-base` {base}: a cluster node's bus is announced at its port + {CLUSTER_BUS_OFFSET}, and the last one, {}, must fit under 65536",
                    base + servers - 1 + CLUSTER_BUS_OFFSET
                ),
            ));
        }
        if base == 0 || top > 65535 {
            return Err(self.err(
                raw.port_base.span(),
                format!(
                    "`port-base` {base}: the Redis servers take ports from it and the Sentinels from {}; all must fit under 65536",
                    base + u64::from(SENTINEL_OFFSET)
                ),
            ));
        }
        let publish = Publish {
            host,
            port_base: base as u16,
        };
        let addresses = publish.addresses(nodes);
        for (node, address) in nodes.iter_mut().zip(addresses) {
            let Some((host, port)) = address else {
                continue;
            };
            match &mut node.kind {
                NodeKind::Redis { conf, .. } => {
                    if cluster {
                        conf.cluster.announce_ip = Some(host.clone());
                        conf.cluster.announce_port = port;
                        conf.cluster.announce_bus_port = port + CLUSTER_BUS_OFFSET as u16;
                    }
                    if conf.replica_announce_ip.is_none() {
                        conf.replica_announce_ip = Some(host);
                    }
                    if conf.replica_announce_port == 0 {
                        conf.replica_announce_port = port;
                    }
                }
                NodeKind::Sentinel(conf) => {
                    conf.announce = Some((host.as_str().into(), port));
                }
                _ => {}
            }
        }
        Ok(Some(publish))
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{NodeKind, parse};

    const DEPLOYMENT: &str = r#"
name = "p"
duration = "10s"
[topology]
masters = 1
replicas = 1
sentinels = 1
[node.replica-1]
replica-announce-ip = "192.0.2.7"
"#;

    #[test]
    fn servers_announce_their_published_addresses() {
        let plan = parse(
            "p.toml",
            &format!("{DEPLOYMENT}[publish]\nport-base = 7000\n"),
        )
        .unwrap();
        let dir = plan.directory();
        assert_eq!(dir.known_as(0), ("127.0.0.1", 7000));
        assert_eq!(dir.known_as(1), ("127.0.0.1", 7001));
        assert_eq!(dir.known_as(2), ("127.0.0.1", 7100));
        // Published addresses reach the node; inside ones still do.
        assert_eq!(dir.lookup("127.0.0.1", 7001), Some(1));
        assert_eq!(dir.lookup("10.0.0.2", 6379), Some(1));
        let NodeKind::Redis { conf, .. } = &plan.nodes[1].kind else {
            panic!("a server")
        };
        // What the file sets itself wins.
        assert_eq!(conf.replica_announce_ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(conf.replica_announce_port, 7001);
        let NodeKind::Sentinel(conf) = &plan.nodes[2].kind else {
            panic!("a Sentinel")
        };
        assert_eq!(conf.announce, Some(("127.0.0.1".into(), 7100)));
    }

    #[test]
    fn bad_publish_tables_are_refused() {
        let err = |extra: &str| {
            parse("p.toml", &format!("{DEPLOYMENT}{extra}"))
                .unwrap_err()
                .message
        };
        assert!(err("[publish]\nport-base = 65500\n").contains("must fit under 65536"));
        assert!(err("[publish]\nport-base = 7000\nhost = \"localhost\"\n").contains("IPv4"));
        assert!(err("[publish]\nport = 7000\n").contains("unknown field"));
    }

    const CLUSTER: &str = r#"
name = "c"
duration = "10s"
[topology]
cluster = true
masters = 3
replicas = 1
"#;

    /// Each cluster node announces its published address, and its bus
    /// at that port + 10000, which must fit in a port number too.
    #[test]
    fn cluster_nodes_announce_their_published_addresses() {
        let plan = parse("c.toml", &format!("{CLUSTER}[publish]\nport-base = 7000\n")).unwrap();
        let NodeKind::Redis { conf, .. } = &plan.nodes[4].kind else {
            panic!("a server")
        };
        let c = &conf.cluster;
        assert_eq!(
            (
                c.announce_ip.as_deref(),
                c.announce_port,
                c.announce_bus_port
            ),
            (Some("127.0.0.1"), 7004, 17004)
        );
        let err = parse(
            "c.toml",
            &format!("{CLUSTER}[publish]\nport-base = 55531\n"),
        )
        .unwrap_err()
        .message;
        assert!(
            err.contains("the last one, 65536, must fit under 65536"),
            "{err}"
        );
        assert!(
            parse(
                "c.toml",
                &format!("{CLUSTER}[publish]\nport-base = 55530\n")
            )
            .is_ok()
        );
    }

    /// A scenario cannot announce a cluster address of its own: the
    /// simulated bus would not be cut off by a wrong one, as Redis's is.
    #[test]
    fn cluster_announce_settings_come_from_publish_only() {
        let err = parse(
            "c.toml",
            &format!("{CLUSTER}[redis]\ncluster-announce-ip = \"192.0.2.1\"\n"),
        )
        .unwrap_err()
        .message;
        assert!(
            err.contains("`cluster-announce-ip` is set by [publish]"),
            "{err}"
        );
    }
}
