//! `redsim export`: a scenario's deployment as the files that run it on
//! real processes. Each server gets the redis.conf or sentinel.conf that
//! `redsim conform` starts it with (from the same writers), in a folder of
//! its own; `start.sh` starts them on 127.0.0.1 and creates the cluster if
//! there is one, `stop.sh` stops exactly the processes `start.sh` started.
//! What configuration files cannot hold (the workload, the faults, the
//! network, the expectations) goes to `redsim.toml`, so that
//! [`super::import`] can put the scenario back together.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::conform::topology::{self, Listen};
use crate::scenario::{NodeKind, Plan};

use super::{EXPERIMENT, is_server_table};

/// The files of one export, relative to its directory, in writing order.
#[derive(Debug)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    /// The ports the servers listen on, first to last.
    pub ports: (u16, u16),
}

/// Writes `plan` (read from scenario `text`, `--set`s applied) into `dir`,
/// which must be new or empty. Server `i` listens on `port_base + i`.
pub fn export(plan: &Plan, text: &str, dir: &Path, port_base: u16) -> Result<Exported, String> {
    if let Some(why) = topology::refused(plan) {
        return Err(why);
    }
    let servers: Vec<usize> = (0..plan.nodes.len())
        .filter(|&i| {
            matches!(
                plan.nodes[i].kind,
                NodeKind::Redis { .. } | NodeKind::Sentinel(_)
            )
        })
        .collect();
    let last = u32::from(port_base) + servers.len() as u32 - 1;
    if port_base < 1024 || last > u32::from(u16::MAX) {
        return Err(format!(
            "--port-base {port_base}: the {} servers need ports {port_base}..={last}, within 1024..=65535",
            servers.len()
        ));
    }
    prepare(dir)?;
    let port_of = |i: usize| port_base + i as u16;
    let loopback = |i: usize| (Ipv4Addr::LOCALHOST, port_of(i));
    let mut files = Vec::new();
    let mut write = |rel: PathBuf, text: &str| -> Result<(), String> {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        files.push(rel);
        Ok(())
    };
    for &i in &servers {
        let n = &plan.nodes[i];
        let folder = PathBuf::from(crate::conform::scratch::safe_name(&n.name));
        let listen = |log: &'static str| Listen {
            port: port_of(i),
            bind: "127.0.0.1".into(),
            dir: Path::new("."),
            log: Path::new(log),
        };
        match &n.kind {
            NodeKind::Redis { conf, replicaof } => write(
                folder.join("redis.conf"),
                &topology::redis_conf(conf, &listen("redis.log"), replicaof.map(loopback)),
            )?,
            NodeKind::Sentinel(conf) => {
                let masters: Vec<_> = conf
                    .masters
                    .iter()
                    .map(|m| loopback(m.master as usize))
                    .collect();
                write(
                    folder.join("sentinel.conf"),
                    &topology::sentinel_conf(conf, &listen("sentinel.log"), &masters),
                )?
            }
            _ => {}
        }
    }
    write(PathBuf::from(EXPERIMENT), &experiment(plan, text)?)?;
    write(
        PathBuf::from("start.sh"),
        &start_script(plan, &servers, port_of),
    )?;
    write(PathBuf::from("stop.sh"), STOP)?;
    for script in ["start.sh", "stop.sh"] {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(script);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok(Exported {
        files,
        ports: (port_base, last as u16),
    })
}

/// Creates `dir`, or accepts it if it is an empty directory: an export
/// never writes over files it did not make.
fn prepare(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "{} is not empty: export writes into a new or empty directory",
                    dir.display()
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        Err(e) => Err(format!("cannot use {}: {e}", dir.display())),
    }
}

/// `redsim.toml`: the scenario without its server tables (`[redis]`,
/// `[node.*]`, `[sentinel]`), which the configuration files carry. Its
/// `[topology]` stays, for what the files cannot say: a cluster's slots
/// and replicas per master, and unlinked replicas.
fn experiment(plan: &Plan, text: &str) -> Result<String, String> {
    let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    doc.retain(|k, _| !is_server_table(k));
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    Ok(format!(
        "# The experiment of scenario `{}`: everything but the servers'\n\
         # configuration, which is in the .conf files beside this one.\n\
         # `redsim import` on this directory puts the scenario back together.\n\n{body}",
        plan.name
    ))
}

/// `start.sh`: each server started in its folder, in the plan's order,
/// its PID appended to `pids`; then, for a cluster, the slots, MEETs and
/// REPLICATEs that create the plan's cluster.
fn start_script(plan: &Plan, servers: &[usize], port_of: impl Fn(usize) -> u16) -> String {
    let mut s = String::new();
    let ports: Vec<String> = servers.iter().map(|&i| port_of(i).to_string()).collect();
    let _ = write!(
        s,
        "#!/bin/sh\n\
         # Starts the servers of scenario `{name}` on 127.0.0.1 (ports {first}-{last})\n\
         # from the configuration files beside this script; ./stop.sh stops them.\n\
         # Needs redis-server, redis-sentinel and redis-cli 7.0 on the PATH (or\n\
         # REDIS_SERVER, REDIS_SENTINEL and REDIS_CLI naming them).\n\
         set -eu\n\
         cd \"$(dirname \"$0\")\"\n\
         : \"${{REDIS_SERVER:=redis-server}}\"\n\
         : \"${{REDIS_SENTINEL:=redis-sentinel}}\"\n\
         : \"${{REDIS_CLI:=redis-cli}}\"\n\
         if [ -e pids ]; then\n  echo \"already started (./pids exists): run ./stop.sh first\" >&2\n  exit 1\nfi\n\
         cli() {{ port=$1; shift; \"$REDIS_CLI\" -h 127.0.0.1 -p \"$port\" \"$@\"; }}\n\
         # Each server runs in its folder; what it prints before its log file\n\
         # opens (a refused configuration) goes to output.log there.\n\
         start() {{ (cd \"$1\" && exec \"$2\" \"$3\" </dev/null >output.log 2>&1) & echo $! >> pids; }}\n\
         # Waits until every port given answers PING.\n\
         ready() {{\n  for port in \"$@\"; do\n    tries=0\n    until cli \"$port\" PING >/dev/null 2>&1; do\n      tries=$((tries + 1))\n      if [ \"$tries\" -gt 100 ]; then echo \"port $port never answered (see the *.log files in its folder; ./stop.sh stops the others)\" >&2; exit 1; fi\n      sleep 0.1\n    done\n  done\n}}\n",
        name = plan.name,
        first = ports.first().map_or("", String::as_str),
        last = ports.last().map_or("", String::as_str),
    );
    let cluster = plan.cluster.as_ref();
    if let (Some(_), Some(&first)) = (cluster, servers.first()) {
        // A cluster node that has a nodes.conf already belongs to the
        // cluster it created before.
        let _ = writeln!(
            s,
            "fresh=yes\n[ ! -e {}/nodes.conf ] || fresh=no",
            crate::conform::scratch::safe_name(&plan.nodes[first].name)
        );
    }
    for &i in servers {
        let n = &plan.nodes[i];
        let (program, conf) = match n.kind {
            NodeKind::Sentinel(_) => ("\"$REDIS_SENTINEL\"", "sentinel.conf"),
            _ => ("\"$REDIS_SERVER\"", "redis.conf"),
        };
        let folder = crate::conform::scratch::safe_name(&n.name);
        let _ = writeln!(s, "start {folder} {program} {conf}");
    }
    let _ = writeln!(s, "ready {}", ports.join(" "));
    if let Some(c) = cluster {
        cluster_steps(&mut s, c, &port_of);
    }
    s.push_str("echo \"started: PIDs in ./pids\"\n");
    s
}

/// The plan's cluster created by the commands `conform` sends
/// ([`topology::ClusterSetup`]), written as redis-cli lines; then a wait
/// until every replica's link is up and every node reports
/// `cluster_state:ok`.
fn cluster_steps(
    s: &mut String,
    c: &crate::scenario::ClusterPlan,
    port_of: &impl Fn(usize) -> u16,
) {
    let n = c.replica_of.len();
    let all: Vec<String> = (0..n).map(|i| port_of(i).to_string()).collect();
    let replicas: Vec<String> = (0..n)
        .filter(|&i| c.replica_of[i].is_some())
        .map(|i| port_of(i).to_string())
        .collect();
    s.push_str(
        "# Waits until, on every port given, the reply to the command given has\n\
         # the line given.\n\
         wait_line() {\n  want=$1; first=$2; second=$3; shift 3\n  for port in \"$@\"; do\n    tries=0\n    \
         until cli \"$port\" \"$first\" \"$second\" | tr -d '\\r' | grep -qx \"$want\"; do\n      \
         tries=$((tries + 1))\n      \
         if [ \"$tries\" -gt 300 ]; then echo \"port $port never reported $want (./stop.sh stops the servers)\" >&2; exit 1; fi\n      \
         sleep 0.1\n    done\n  done\n}\n\
         if [ \"$fresh\" = yes ]; then\n",
    );
    let setup = topology::ClusterSetup::of(c);
    for (i, (epoch, ranges)) in setup.own.iter().enumerate() {
        let _ = writeln!(
            s,
            "  cli {} CLUSTER SET-CONFIG-EPOCH {epoch} >/dev/null",
            port_of(i)
        );
        for (lo, hi) in ranges {
            let _ = writeln!(
                s,
                "  cli {} CLUSTER ADDSLOTSRANGE {lo} {hi} >/dev/null",
                port_of(i)
            );
        }
    }
    for &i in &setup.meet {
        let _ = writeln!(
            s,
            "  cli {} CLUSTER MEET 127.0.0.1 {} >/dev/null",
            port_of(0),
            port_of(i)
        );
    }
    let _ = writeln!(
        s,
        "  wait_line cluster_known_nodes:{n} CLUSTER INFO {}",
        all.join(" ")
    );
    for &(i, m) in &setup.replicate {
        let _ = writeln!(
            s,
            "  cli {} CLUSTER REPLICATE \"$(cli {} CLUSTER MYID)\" >/dev/null",
            port_of(i),
            port_of(m)
        );
    }
    s.push_str("fi\n");
    if !replicas.is_empty() {
        let _ = writeln!(
            s,
            "wait_line master_link_status:up INFO replication {}",
            replicas.join(" ")
        );
    }
    let _ = writeln!(
        s,
        "wait_line cluster_state:ok CLUSTER INFO {}",
        all.join(" ")
    );
}

/// `stop.sh`: stops the processes `start.sh` recorded, and only those,
/// and waits until they have exited (a server saves its data as it shuts
/// down), so that `start.sh` may follow at once.
const STOP: &str = "#!/bin/sh\n\
# Stops the servers ./start.sh started (the PIDs in ./pids), and nothing else,\n\
# and waits until they have exited.\n\
set -eu\n\
cd \"$(dirname \"$0\")\"\n\
if [ ! -e pids ]; then echo \"nothing to stop (no ./pids)\"; exit 0; fi\n\
while read -r pid; do kill \"$pid\" 2>/dev/null || true; done < pids\n\
while read -r pid; do\n\
\x20 tries=0\n\
\x20 while kill -0 \"$pid\" 2>/dev/null; do\n\
\x20   tries=$((tries + 1))\n\
\x20   if [ \"$tries\" -gt 300 ]; then echo \"process $pid did not exit\" >&2; exit 1; fi\n\
\x20   sleep 0.1\n\
\x20 done\n\
done < pids\n\
rm -f pids\n\
echo stopped\n";
