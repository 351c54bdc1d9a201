//! How a scenario's processes become real ones: ports, directories and the
//! redis.conf / sentinel.conf each is started with. A topology decides which
//! nodes run and how they are configured; Redis Cluster plugs in as another
//! [`Topology`] (cluster-enabled nodes, `CLUSTER MEET`, slot assignment).

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::redis::config::{AppendFsync, ProtectedAction, RedisConfig};
use crate::scenario::{NodeKind, Plan};
use crate::sentinel::SentinelConf;

use super::net::Net;
use super::procs::Launch;
use super::scratch::{create_private_dir, safe_name, write_private};

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
    /// Writes each server's configuration under `root` (a directory the
    /// harness created for this run) and says how to start it. Clients are
    /// not processes here; the harness drives them.
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
        if let Some(why) = refused(plan) {
            return Err(why);
        }
        let mut out = Vec::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            let dir = root.join(safe_name(&n.name));
            create_private_dir(&dir)?;
            let log = dir.join("log");
            let listen = Listen {
                port: port_of(i),
                bind: net.bind(i),
                dir: &dir,
                log: &log,
            };
            let (text, program, sentinel) = match &n.kind {
                NodeKind::Redis { conf, replicaof } => (
                    redis_conf(
                        // The harness's DEBUG SLEEP comes from 127.0.0.1.
                        &RedisConfig {
                            enable_debug_command: ProtectedAction::Local,
                            ..(**conf).clone()
                        },
                        &listen,
                        replicaof.map(addr_of),
                    ),
                    bins.redis_server.clone(),
                    false,
                ),
                NodeKind::Sentinel(conf) => (
                    sentinel_conf(
                        conf,
                        &listen,
                        &conf
                            .masters
                            .iter()
                            .map(|m| addr_of(m.master as usize))
                            .collect::<Vec<_>>(),
                    ),
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
            write_private(&conf_path, &text)?;
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

/// The commands that create a plan's cluster on real processes, as
/// `redis-cli --cluster create` creates one; `conform` sends them, and
/// `redsim export` writes them into start.sh.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSetup {
    /// First, per node: its config epoch (its position + 1, as the
    /// simulated nodes.conf has it) and its slot ranges.
    pub own: Vec<(u64, Vec<(u16, u16)>)>,
    /// Then node 0 meets each of these.
    pub meet: Vec<usize>,
    /// Once every node knows every other: (replica, its master), each
    /// sent as the replica's CLUSTER REPLICATE.
    pub replicate: Vec<(usize, usize)>,
}

impl ClusterSetup {
    pub fn of(c: &crate::scenario::ClusterPlan) -> Self {
        let n = c.slots.len();
        Self {
            own: (0..n)
                .map(|i| (i as u64 + 1, c.slots[i].ranges()))
                .collect(),
            meet: (1..n).collect(),
            replicate: (0..n)
                .filter_map(|i| c.replica_of.get(i).copied().flatten().map(|m| (i, m)))
                .collect(),
        }
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
    let _ = writeln!(out, "dir {}", quote(l.dir.as_os_str().as_bytes()));
    let _ = writeln!(out, "logfile {}", quote(l.log.as_os_str().as_bytes()));
}

/// `s` as one argument of a redis.conf or sentinel.conf line, written as
/// Redis's own `sdscatrepr` writes strings and read back by its config
/// parser (`sdssplitargs`) as exactly `s`: in double quotes, with `\\`,
/// `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, and `\xHH` for every other byte
/// outside printable ASCII. Nothing in `s` can close the quotes, end the
/// line or add an argument.
pub fn quote(s: impl AsRef<[u8]>) -> String {
    crate::proto::resp::repr(s)
}

/// Why the plan's Sentinel settings cannot be given to a real Sentinel, if
/// they cannot. Redis 7.0's Sentinel rewrites its sentinel.conf at startup
/// and after every state change, writing the master's name and `auth-pass`
/// without quotes: a space, quote, backslash, control or non-ASCII
/// character in them would come back as other arguments, or other lines,
/// the next time it starts (a `restart` fault), whatever quoting redsim
/// used.
pub fn refused(plan: &Plan) -> Option<String> {
    if plan.publish.is_some() {
        return Some(
            "[publish] makes the servers announce addresses the real processes do not listen at"
                .into(),
        );
    }
    let conf = plan.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Sentinel(c) => Some(c),
        _ => None,
    })?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'))
    };
    let mut bad = Vec::new();
    if conf.masters.iter().any(|m| !plain(&m.master_name)) {
        bad.push("master-name");
    }
    if conf
        .masters
        .iter()
        .any(|m| m.auth_pass.as_deref().is_some_and(|p| !plain(p)))
    {
        bad.push("auth-pass");
    }
    (!bad.is_empty()).then(|| {
        format!(
            "{}: [sentinel] {} cannot be given to a real Sentinel: Redis 7.0's Sentinel rewrites sentinel.conf with it unquoted, so it must be printable ASCII without spaces, quotes or backslashes",
            plan.name,
            bad.join(" and ")
        )
    })
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
    let _ = writeln!(s, "tcp-keepalive {}", c.tcp_keepalive);
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
        let _ = writeln!(s, "requirepass {}", quote(p));
    }
    if let Some(p) = &c.masterauth {
        let _ = writeln!(s, "masterauth {}", quote(p));
    }
    if let Some(ip) = &c.replica_announce_ip {
        let _ = writeln!(s, "replica-announce-ip {}", quote(ip));
    }
    if c.replica_announce_port != 0 {
        let _ = writeln!(s, "replica-announce-port {}", c.replica_announce_port);
    }
    let _ = writeln!(s, "replica-priority {}", c.replica_priority);
    let _ = writeln!(s, "replica-read-only {}", yn(c.replica_read_only));
    let _ = writeln!(
        s,
        "replica-serve-stale-data {}",
        yn(c.replica_serve_stale_data)
    );
    let _ = writeln!(
        s,
        "auto-aof-rewrite-percentage {}",
        c.auto_aof_rewrite_percentage
    );
    let _ = writeln!(
        s,
        "auto-aof-rewrite-min-size {}",
        c.auto_aof_rewrite_min_size
    );
    if c.rdb_key_save_delay != 0 {
        let _ = writeln!(s, "rdb-key-save-delay {}", c.rdb_key_save_delay);
    }
    let _ = writeln!(
        s,
        "stop-writes-on-bgsave-error {}",
        yn(c.stop_writes_on_bgsave_error)
    );
    let _ = writeln!(
        s,
        "replica-ignore-disk-write-errors {}",
        yn(c.repl_ignore_disk_write_error)
    );
    let _ = writeln!(s, "hz {}", c.hz);
    let debug = match c.enable_debug_command {
        ProtectedAction::No => "no",
        ProtectedAction::Yes => "yes",
        ProtectedAction::Local => "local",
    };
    let _ = writeln!(s, "enable-debug-command {debug}");
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
    simulated_only(&mut s, c);
    s
}

/// Starts a comment line carrying a setting only the simulator has (the
/// port it listens on inside the simulated network, the cost of a fork,
/// the disk's speed): Redis skips it, `redsim import` reads it back.
pub const SIMULATED_ONLY: &str = "# redsim: ";

/// The simulator's own settings that differ from their defaults, each on
/// a [`SIMULATED_ONLY`] comment line.
fn simulated_only(s: &mut String, c: &RedisConfig) {
    let d = RedisConfig::default();
    if c.port != d.port {
        let _ = writeln!(s, "{SIMULATED_ONLY}port {}", c.port);
    }
    if c.fork_time_per_gb != d.fork_time_per_gb {
        let _ = writeln!(
            s,
            "{SIMULATED_ONLY}fork-time-per-gb {}us",
            c.fork_time_per_gb
        );
    }
    if c.rdb_save_rate != d.rdb_save_rate {
        let _ = writeln!(s, "{SIMULATED_ONLY}rdb-save-rate {}", c.rdb_save_rate);
    }
    if c.rdb_load_rate != d.rdb_load_rate {
        let _ = writeln!(s, "{SIMULATED_ONLY}rdb-load-rate {}", c.rdb_load_rate);
    }
}

/// sentinel.conf for a Sentinel monitoring each of its masters, the
/// `i`th at `masters[i]`.
pub fn sentinel_conf(c: &SentinelConf, l: &Listen, masters: &[(Ipv4Addr, u16)]) -> String {
    let mut s = String::new();
    common(&mut s, l);
    for (m, &(ip, port)) in c.masters.iter().zip(masters) {
        let name = quote(m.master_name.as_bytes());
        let _ = writeln!(s, "sentinel monitor {name} {ip} {port} {}", m.quorum);
        let _ = writeln!(
            s,
            "sentinel down-after-milliseconds {name} {}",
            m.down_after
        );
        let _ = writeln!(s, "sentinel failover-timeout {name} {}", m.failover_timeout);
        let _ = writeln!(s, "sentinel parallel-syncs {name} {}", m.parallel_syncs);
        if let Some(p) = &m.auth_pass {
            let _ = writeln!(s, "sentinel auth-pass {name} {}", quote(p));
        }
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
    fn quoting_escapes_everything_that_could_end_an_argument() {
        assert_eq!(quote("secret"), "\"secret\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(
            quote("a\"\nbind 0.0.0.0\r\\\0\t\u{7}\u{8}\u{7f}é"),
            "\"a\\\"\\nbind 0.0.0.0\\r\\\\\\x00\\t\\a\\b\\x7f\\xc3\\xa9\""
        );
        // No raw byte that ends a line, a quote or an argument survives.
        for b in 0..=255u8 {
            let q = quote([b]);
            let inner = &q[1..q.len() - 1];
            assert!(
                inner.bytes().all(|c| c.is_ascii_graphic() || c == b' '),
                "{b}: {q}"
            );
            assert!(!inner.contains('"') || inner == "\\\"", "{b}: {q}");
        }
    }

    #[test]
    fn hostile_passwords_stay_on_their_line() {
        let c = RedisConfig {
            requirepass: Some("x\nbind 0.0.0.0".into()),
            masterauth: Some("y\"\nprotected-mode no\n\"".into()),
            ..RedisConfig::default()
        };
        let s = redis_conf(&c, &listen(17001), None);
        assert!(s.contains("requirepass \"x\\nbind 0.0.0.0\"\n"), "{s}");
        assert!(
            s.contains("masterauth \"y\\\"\\nprotected-mode no\\n\\\"\"\n"),
            "{s}"
        );
        assert!(
            !s.lines()
                .any(|l| l.starts_with("bind 0") || l.starts_with("protected-mode"))
        );
    }

    #[test]
    fn sentinel_values_sentinel_rewrites_unquoted_are_refused() {
        let text = "name = \"t\"\nduration = \"1s\"\n[topology]\nmasters = 1\nreplicas = 1\n\
                    sentinels = 1\n[sentinel]\nmaster-name = \"ok.name-1\"\nauth-pass = \"p@ss\"\n";
        let ok = crate::scenario::parse("t.toml", text).expect("a valid scenario");
        assert_eq!(refused(&ok), None);
        // The scenario parser refuses these too; the harness checks again
        // whatever plan it is handed.
        let with = |name: Option<&str>, pass: Option<&str>| {
            let mut p = ok.clone();
            for n in &mut p.nodes {
                if let crate::scenario::NodeKind::Sentinel(c) = &mut n.kind {
                    if let Some(m) = name {
                        c.masters[0].master_name = m.into();
                    }
                    if let Some(a) = pass {
                        c.masters[0].auth_pass = Some(a.into());
                    }
                }
            }
            p
        };
        for (name, pass) in [
            (Some("my master"), None),
            (Some("m\nbind 0.0.0.0"), None),
            (None, Some("a b")),
            (None, Some("a\"b")),
            (None, Some("a'b")),
            (None, Some("a\\b")),
            (None, Some("é")),
        ] {
            let why =
                refused(&with(name, pass)).unwrap_or_else(|| panic!("{name:?} {pass:?} accepted"));
            assert!(why.contains("unquoted"), "{why}");
        }
    }

    /// Two masters with a replica each: every node gets its epoch (as the
    /// simulated nodes.conf has it), the masters their halves of the slots,
    /// node 0 meets the rest, and each replica follows its master.
    #[test]
    fn a_cluster_is_set_up_as_the_plan_lays_it_out() {
        let text = "name = \"t\"\nduration = \"1s\"\n[topology]\nmasters = 2\nreplicas = 1\ncluster = true\n";
        let plan = crate::scenario::parse("t.toml", text).expect("a valid scenario");
        let setup = ClusterSetup::of(plan.cluster.as_ref().expect("a cluster"));
        let epochs: Vec<u64> = setup.own.iter().map(|(e, _)| *e).collect();
        assert_eq!(epochs, [1, 2, 3, 4]);
        let slots: Vec<&[(u16, u16)]> = setup.own.iter().map(|(_, r)| r.as_slice()).collect();
        assert_eq!(slots, [&[(0, 8191)][..], &[(8192, 16383)], &[], &[]]);
        assert_eq!(setup.meet, [1, 2, 3]);
        assert_eq!(setup.replicate, [(2, 0), (3, 1)]);
    }

    #[test]
    fn sentinel_conf_monitors_the_master() {
        let mut c = SentinelConf::new(0);
        c.masters[0].down_after = 1000;
        let s = sentinel_conf(&c, &listen(17003), &[(Ipv4Addr::LOCALHOST, 17000)]);
        assert!(s.contains("sentinel monitor \"mymaster\" 127.0.0.1 17000 2\n"));
        assert!(s.contains("sentinel down-after-milliseconds \"mymaster\" 1000\n"));
    }
}
