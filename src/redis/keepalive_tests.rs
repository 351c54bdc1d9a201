//! TCP keepalive on the sockets a server accepts: `tcp-keepalive` seconds
//! on a client's (createClient()), twice the node timeout in whole seconds
//! on a cluster bus peer's (clusterAcceptHandler()).

use super::config::{ClusterConfig, RedisConfig};
use super::testing::{Cli, cluster, cluster_conf};
use crate::sim::net::{Keepalive, PORT_BUS};

#[test]
fn a_client_connection_gets_tcp_keepalive_seconds() {
    let mut cli = Cli::two(RedisConfig::default());
    assert_eq!(
        cli.h.sim.kernel.keepalive_of(cli.conn, 0),
        Some(Keepalive::anet(300))
    );
    assert_eq!(
        cli.send("CONFIG GET tcp-keepalive"),
        "1) \"tcp-keepalive\"\n2) \"300\""
    );
    assert_eq!(cli.send("CONFIG SET tcp-keepalive 0"), "OK");
    // Sockets accepted from now on have none; the open one keeps its own.
    cli.other("PING");
    let second = cli.h.probe(2).conn_with(0).expect("connected");
    assert_eq!(cli.h.sim.kernel.keepalive_of(second, 0), None);
    assert_eq!(
        cli.h.sim.kernel.keepalive_of(cli.conn, 0),
        Some(Keepalive::anet(300))
    );
}

#[test]
fn a_cluster_bus_connection_gets_twice_the_node_timeout() {
    let conf = RedisConfig {
        cluster: ClusterConfig {
            node_timeout: 5_500,
            ..cluster_conf().cluster
        },
        ..cluster_conf()
    };
    let mut h = cluster(vec![None, None, None], conf);
    let conn = h.connect_port(1, 0, PORT_BUS);
    h.settle();
    // 5500 ms: 5 whole seconds, twice: 10 s idle, a probe every 3 s.
    let k = h.sim.kernel.keepalive_of(conn, 0).expect("set");
    assert_eq!(k, Keepalive::anet(10));
    assert_eq!((k.idle, k.interval, k.probes), (10_000_000, 3_000_000, 3));
}
