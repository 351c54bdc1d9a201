//! How a scenario's processes become real ones: ports, directories and the
//! redis.conf / sentinel.conf each is started with. A topology decides which
//! nodes run and how they are configured; Redis Cluster plugs in as another
//! [`Topology`] (cluster-enabled nodes, `CLUSTER MEET`, slot assignment).

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::redis::config::{AppendFsync, RedisConfig};
use crate::scenario::{NodeKind, Plan};
use crate::sentinel::SentinelConf;

use super::net::Net;
use super::procs::Launch;

/// The real binaries to run.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub redis_server: PathBuf,
    pub redis_sentinel: PathBuf,
}

/// One real process: its node, port, directory, log file and how to start it.
#[derive(Clone, Debug)]
pub struct RealNode {
    pub node: usize,
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub sentinel: bool,
    pub launch: Launch,
}

/// Lays a plan's servers out as real processes.
pub trait Topology {
    /// Writes each server's configuration under `root` and says how to
    /// start it. Clients are not processes here; the harness drives them.
    fn layout(
        &self,
        plan: &Plan,
        port_base: u16,
        root: &Path,
        bins: &Binaries,
        net: &Net,
    ) -> Result<Vec<RealNode>, String>;
}

/// One master, its replicas and Sentinels (or a cluster's nodes), each with
/// port `port_base + node index` at its address on `net`.
pub struct Replication;

impl Topology for Replication {
    fn layout(
        &self,
        plan: &Plan,
        port_base: u16,
        root: &Path,
        bins: &Binaries,
        net: &Net,
    ) -> Result<Vec<RealNode>, String> {
        let port_of = |n: usize| port_base + n as u16;
        let addr_of = |n: usize| (net.ip(n), port_of(n));
        let mut out = Vec::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            let dir = root.join(&n.name);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let log = dir.join("log");
            let listen = Listen {
                port: port_of(i),
                bind: net.bind(i),
                dir: &dir,
                log: &log,
            };
            let (text, program, sentinel) = match &n.kind {
                NodeKind::Redis { conf, replicaof } => (
                    redis_conf(conf, &listen, replicaof.map(addr_of)),
                    bins.redis_server.clone(),
                    false,
                ),
                NodeKind::Sentinel(conf) => (
                    sentinel_conf(conf, &listen, addr_of(conf.master as usize)),
                    bins.redis_sentinel.clone(),
                    true,
                ),
                NodeKind::Client(_) | NodeKind::Operator => continue,
            };
            let conf_path = dir.join(if sentinel {
                "sentinel.conf"
            } else {
                "redis.conf"
            });
            std::fs::write(&conf_path, text)
                .map_err(|e| format!("cannot write {}: {e}", conf_path.display()))?;
            out.push(RealNode {
                node: i,
                port: port_of(i),
                dir,
                log,
                sentinel,
                launch: net.launch(
                    i,
                    &Launch {
                        program,
                        args: vec![conf_path.display().to_string()],
                        env: Vec::new(),
                    },
                ),
            });
        }
        Ok(out)
    }
}

/// Where a real process listens and keeps its files.
pub struct Listen<'a> {
    pub port: u16,
    /// The `bind` addresses (127.0.0.1 alone on loopback).
    pub bind: String,
    pub dir: &'a Path,
    pub log: &'a Path,
}

/// Settings common to every real process: its addresses, foreground, our
/// own directory and log file.
fn common(out: &mut String, l: &Listen) {
    let _ = writeln!(out, "port {}", l.port);
    let _ = writeln!(out, "bind {}\ndaemonize no", l.bind);
    if l.bind != "127.0.0.1" {
        // Peers reach it on its namespace's own address, and Redis 7.0
        // refuses non-loopback clients without a password otherwise.
        out.push_str("protected-mode no\n");
    }
    let _ = writeln!(out, "dir \"{}\"", l.dir.display());
    let _ = writeln!(out, "logfile \"{}\"", l.log.display());
}

/// redis.conf for a node, from the values the simulator uses.
pub fn redis_conf(c: &RedisConfig, l: &Listen, replicaof: Option<(Ipv4Addr, u16)>) -> String {
    let yn = |b: bool| if b { "yes" } else { "no" };
    let mut s = String::new();
    common(&mut s, l);
    let _ = writeln!(s, "repl-backlog-size {}", c.repl_backlog_size);
    let _ = writeln!(s, "repl-backlog-ttl {}", c.repl_backlog_ttl);
    let _ = writeln!(s, "repl-timeout {}", c.repl_timeout);
    let _ = writeln!(s, "repl-ping-replica-period {}", c.repl_ping_replica_period);
    let _ = writeln!(s, "repl-diskless-sync {}", yn(c.repl_diskless_sync));
    let _ = writeln!(s, "repl-diskless-sync-delay {}", c.repl_diskless_sync_delay);
    let _ = writeln!(
        s,
        "repl-diskless-sync-max-replicas {}",
        c.repl_diskless_sync_max_replicas
    );
    s.push_str("repl-diskless-load disabled\n");
    let o = &c.replica_output_buffer_limit;
    let _ = writeln!(
        s,
        "client-output-buffer-limit replica {} {} {}",
        o.hard, o.soft, o.soft_seconds
    );
    let _ = writeln!(s, "min-replicas-to-write {}", c.min_replicas_to_write);
    let _ = writeln!(s, "min-replicas-max-lag {}", c.min_replicas_max_lag);
    let _ = writeln!(s, "appendonly {}", yn(c.appendonly));
    let fsync = match c.appendfsync {
        AppendFsync::Always => "always",
        AppendFsync::Everysec => "everysec",
        AppendFsync::No => "no",
    };
    let _ = writeln!(s, "appendfsync {fsync}");
    if c.save.is_empty() {
        s.push_str("save \"\"\n");
    } else {
        let points: Vec<String> = c.save.iter().map(|(a, b)| format!("{a} {b}")).collect();
        let _ = writeln!(s, "save {}", points.join(" "));
    }
    if let Some(p) = &c.requirepass {
        let _ = writeln!(s, "requirepass \"{p}\"");
    }
    if let Some(p) = &c.masterauth {
        let _ = writeln!(s, "masterauth \"{p}\"");
    }
    let _ = writeln!(s, "replica-priority {}", c.replica_priority);
    let _ = writeln!(s, "replica-read-only {}", yn(c.replica_read_only));
    let _ = writeln!(
        s,
        "replica-serve-stale-data {}",
        yn(c.replica_serve_stale_data)
    );
    let _ = writeln!(s, "hz {}", c.hz);
    // DEBUG SLEEP, from 127.0.0.1 only.
    s.push_str("enable-debug-command local\n");
    if let Some((ip, port)) = replicaof {
        let _ = writeln!(s, "replicaof {ip} {port}");
    }
    if c.cluster_enabled {
        let k = &c.cluster;
        s.push_str("cluster-enabled yes\ncluster-config-file nodes.conf\n");
        let _ = writeln!(s, "cluster-node-timeout {}", k.node_timeout);
        let _ = writeln!(
            s,
            "cluster-replica-validity-factor {}",
            k.replica_validity_factor
        );
        let _ = writeln!(s, "cluster-migration-barrier {}", k.migration_barrier);
        let _ = writeln!(
            s,
            "cluster-allow-replica-migration {}",
            yn(k.allow_replica_migration)
        );
        let _ = writeln!(
            s,
            "cluster-require-full-coverage {}",
            yn(k.require_full_coverage)
        );
        let _ = writeln!(
            s,
            "cluster-replica-no-failover {}",
            yn(k.replica_no_failover)
        );
        let _ = writeln!(
            s,
            "cluster-allow-reads-when-down {}",
            yn(k.allow_reads_when_down)
        );
    }
    s
}

/// sentinel.conf for a Sentinel monitoring the master at `master`.
pub fn sentinel_conf(c: &SentinelConf, l: &Listen, master: (Ipv4Addr, u16)) -> String {
    let mut s = String::new();
    common(&mut s, l);
    let name = &c.master_name;
    let (ip, port) = master;
    let _ = writeln!(s, "sentinel monitor {name} {ip} {port} {}", c.quorum);
    let _ = writeln!(
        s,
        "sentinel down-after-milliseconds {name} {}",
        c.down_after
    );
    let _ = writeln!(s, "sentinel failover-timeout {name} {}", c.failover_timeout);
    let _ = writeln!(s, "sentinel parallel-syncs {name} {}", c.parallel_syncs);
    if let Some(p) = &c.auth_pass {
        let _ = writeln!(s, "sentinel auth-pass {name} \"{p}\"");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(port: u16) -> Listen<'static> {
        Listen {
            port,
            bind: "127.0.0.1".into(),
            dir: Path::new("/d"),
            log: Path::new("/d/log"),
        }
    }

    #[test]
    fn redis_conf_carries_the_scenario_values() {
        let c = RedisConfig {
            repl_backlog_size: 16 * 1024,
            save: Vec::new(),
            ..RedisConfig::default()
        };
        let s = redis_conf(&c, &listen(17001), Some((Ipv4Addr::LOCALHOST, 17000)));
        assert!(s.contains("port 17001\nbind 127.0.0.1\ndaemonize no\n"));
        assert!(s.contains("repl-backlog-size 16384\n"));
        assert!(s.contains("save \"\"\n"));
        assert!(s.contains("replicaof 127.0.0.1 17000\n"));
        let d = RedisConfig::default();
        let s = redis_conf(&d, &listen(17000), None);
        assert!(s.contains("save 3600 1 300 100 60 10000\n"));
        assert!(!s.contains("replicaof"));
    }

    #[test]
    fn sentinel_conf_monitors_the_master() {
        let mut c = SentinelConf::new(0);
        c.down_after = 1000;
        let s = sentinel_conf(&c, &listen(17003), (Ipv4Addr::LOCALHOST, 17000));
        assert!(s.contains("sentinel monitor mymaster 127.0.0.1 17000 2\n"));
        assert!(s.contains("sentinel down-after-milliseconds mymaster 1000\n"));
    }
}
