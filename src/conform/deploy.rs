//! A plan's real processes, laid out, started and held: the run's
//! directory, its network (loopback, or namespaces where it partitions),
//! each server's configuration, and the processes themselves, started one
//! at a time and ready (a cluster created as `redis-cli --cluster create`
//! creates one). `conform` plays a scenario on it and `redsim lab --real`
//! plays a session; both let it go by dropping it, which releases its
//! guards in field order: the processes (SIGCONT, SIGKILL, reaped), the
//! clock shims, the namespaces (once nothing runs in them), the directory.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::interrupt;
use crate::scenario::{Fault, Plan};

use super::clock::FakeClocks;
use super::host::HostShims;
use super::net::{Namespaces, Net};
use super::procs::Procs;
use super::resp::{Conn, Frame, text};
use super::scratch::RunDir;
use super::topology::{Binaries, RealNode, Topology};
use super::workload::Env;

/// Where and how to run real processes.
#[derive(Clone, Debug)]
pub struct RealOptions {
    pub bins: Binaries,
    pub port_base: u16,
    /// An existing directory; each run creates a fresh private
    /// subdirectory in it, named from the scenario's name
    /// ([`super::scratch::RunDir`]), and nothing else in it is touched.
    pub root: std::path::PathBuf,
    /// Keep each run's configuration files and logs (else the run's
    /// directory is removed when it ends).
    pub keep: bool,
    /// Run every scenario in network namespaces, not only those with
    /// partitions.
    pub netns: bool,
}

/// Why a real run did not produce an observation.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// The host could not run it: a port in use, a binary that does not
    /// start or exits, no network namespaces, a directory that cannot be
    /// written.
    Environment(String),
    /// SIGINT or SIGTERM asked redsim to stop.
    Interrupted,
    /// The scenario cannot run for real, or the real processes did
    /// something the harness cannot go on from.
    Failed(String),
}

impl From<String> for RunError {
    fn from(e: String) -> Self {
        RunError::Failed(e)
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Environment(e) | RunError::Failed(e) => f.write_str(e),
            RunError::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// Why a fault cannot be caused in real processes, if it cannot.
/// Partitions can, in network namespaces; a Sentinel's clock jumps, with
/// the clock shim.
pub fn unsupported(plan: &Plan, a: &Fault) -> Option<String> {
    match a {
        Fault::Crash(_) => {
            Some("a power loss (no FIN, lost page cache) cannot be caused here".into())
        }
        Fault::Link { .. } => Some(
            "link latency and loss are not applied to real processes (this kernel has no netem)"
                .into(),
        ),
        Fault::ClockJump { .. } => super::clock::unsupported(plan, a),
        Fault::Host { .. } | Fault::HostEnd { .. } => super::host::unsupported(a),
        _ => None,
    }
}

/// The preloaded libraries' controls: moved wall clocks, faulted hosts.
#[derive(Debug, Default)]
pub struct Shims {
    pub clocks: FakeClocks,
    pub host: HostShims,
}

/// How long one call to a process may take.
pub const IO: Duration = Duration::from_millis(500);

/// The real processes of one plan and everything they need.
pub struct Deployment {
    /// Dropped first: every process still running is stopped.
    pub procs: Procs,
    pub shims: Shims,
    /// Dropped once nothing runs in its namespaces.
    pub net: Net,
    pub nodes: Vec<RealNode>,
    /// Dropped last (removed unless kept).
    pub dir: RunDir,
}

/// `Err(Interrupted)` once SIGINT or SIGTERM arrived.
pub fn check_interrupt() -> Result<(), RunError> {
    if interrupt::requested() {
        Err(RunError::Interrupted)
    } else {
        Ok(())
    }
}

/// Whether the plan drops packets between processes.
fn partitions(plan: &Plan) -> bool {
    plan.faults.iter().any(|(_, a)| {
        matches!(
            a,
            Fault::Partition(_) | Fault::PartitionOneWay { .. } | Fault::Heal
        )
    })
}

/// The network a run of `plan` uses: namespaces where it partitions (or
/// when asked), loopback otherwise.
fn network(plan: &Plan, opts: &RealOptions) -> Result<Net, String> {
    if !(opts.netns || partitions(plan)) {
        return Ok(Net::Loopback);
    }
    let ip = super::net::find_ip()
        .ok_or("partitions need network namespaces, and `ip` (iproute2) is not installed")?;
    Namespaces::create(&ip, plan.nodes.len())
        .map(Net::Namespaces)
        .map_err(|e| format!("partitions need network namespaces (root and iproute2): {e}"))
}

impl Deployment {
    /// Checks that `plan` can run for real, then creates its directory and
    /// network and writes each server's configuration; starts nothing.
    pub fn prepare(plan: &Plan, topo: &dyn Topology, opts: &RealOptions) -> Result<Self, RunError> {
        for (_, a) in &plan.faults {
            if let Some(why) = unsupported(plan, a) {
                return Err(RunError::Failed(format!(
                    "{}: cannot run for real: {why}; mark it `[conform] real = false` with a reason",
                    plan.name
                )));
            }
        }
        if let Some(why) = super::topology::refused(plan)
            .or_else(|| super::commands::refused(plan))
            .or_else(|| super::workload::refused(plan))
        {
            return Err(RunError::Failed(why));
        }
        check_interrupt()?;
        let dir =
            RunDir::create(&opts.root, &plan.name, opts.keep).map_err(RunError::Environment)?;
        let net = network(plan, opts).map_err(RunError::Environment)?;
        let mut nodes = topo
            .layout(plan, opts.port_base, dir.path(), &opts.bins, &net)
            .map_err(RunError::Environment)?;
        let clocks =
            FakeClocks::prepare(plan, &mut nodes, dir.path()).map_err(RunError::Environment)?;
        let host =
            HostShims::prepare(plan, &mut nodes, dir.path()).map_err(RunError::Environment)?;
        for r in nodes.iter().filter(|_| matches!(net, Net::Loopback)) {
            if std::net::TcpListener::bind(("127.0.0.1", r.port)).is_err() {
                return Err(RunError::Environment(format!(
                    "port {} is in use; choose another --port-base",
                    r.port
                )));
            }
        }
        Ok(Self {
            procs: Procs::default(),
            shims: Shims { clocks, host },
            net,
            nodes,
            dir,
        })
    }

    /// The real process of node `n`, if it is one.
    pub fn real(&self, n: usize) -> Option<&RealNode> {
        self.nodes.iter().find(|r| r.node == n)
    }

    /// Starts the processes one at a time, each answering before the next
    /// starts: a master's first cron has run before its replicas attach,
    /// as in the simulator (otherwise its first replication PING may or
    /// may not enter the stream, depending on how fast the host starts
    /// processes). Then creates the plan's cluster, if it has one.
    pub fn start(&mut self, plan: &Plan) -> Result<(), RunError> {
        check_interrupt()?;
        let ready_by = Instant::now() + Duration::from_secs(10);
        for r in &self.nodes {
            let stderr = r.dir.join("stderr");
            self.procs
                .spawn(r.node, &r.launch, Some(&stderr))
                .map_err(RunError::Environment)?;
            loop {
                // A server says it is ready in its log, so the first client
                // the scenario opens gets the first client id (3) as in the
                // model; a Sentinel's client ids are not modelled, and PING
                // tells.
                let ready = if r.sentinel {
                    Conn::connect(&self.net.admin(r.node, r.port), IO)
                        .is_ok_and(|mut c| answers(c.call(&["PING"])))
                } else {
                    std::fs::read_to_string(&r.log)
                        .is_ok_and(|log| log.contains("Ready to accept connections"))
                };
                if ready {
                    break;
                }
                check_interrupt()?;
                if let Some(status) = self.procs.exited(r.node) {
                    return Err(RunError::Environment(format!(
                        "{} ({}) exited before answering on port {} ({status}){}",
                        plan.nodes[r.node].name,
                        program(r),
                        r.port,
                        tail(&stderr)
                    )));
                }
                if Instant::now() > ready_by {
                    return Err(RunError::Environment(format!(
                        "{} did not start on port {} (see {})",
                        plan.nodes[r.node].name,
                        r.port,
                        r.log.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if let Some(cluster) = &plan.cluster {
            create_cluster(plan, cluster, &self.nodes, &self.net)?;
        }
        Ok(())
    }

    /// How the workload clients and the harness reach each node, timed
    /// from `t0`, stopping once `stop` is set.
    pub fn env(&self, plan: &Plan, t0: Instant, stop: Arc<AtomicBool>) -> Env {
        let mut ports = vec![0u16; plan.nodes.len()];
        for r in &self.nodes {
            ports[r.node] = r.port;
        }
        let net = &self.net;
        Env {
            t0,
            peers: (0..plan.nodes.len())
                .map(|n| net.peer(n, ports[n]))
                .collect(),
            admin: (0..plan.nodes.len())
                .map(|n| net.admin(n, ports[n]))
                .collect(),
            ports,
            stop,
            progress: None,
        }
    }
}

/// Builds the cluster the plan describes, as `redis-cli --cluster create`
/// does: a configEpoch per node (1, 2, ... in node order), the slots of each
/// master, MEETs, then each replica's CLUSTER REPLICATE; and waits until
/// every node is in state ok and every replica in sync, before the
/// scenario's clock starts.
fn create_cluster(
    plan: &Plan,
    cluster: &crate::scenario::ClusterPlan,
    nodes: &[RealNode],
    net: &Net,
) -> Result<(), RunError> {
    let port = |n: usize| {
        nodes
            .iter()
            .find(|r| r.node == n)
            .map(|r| r.port)
            .ok_or_else(|| format!("{} is not a real process", plan.nodes[n].name))
    };
    let call = |n: usize, args: &[&str]| -> Result<Frame, String> {
        let mut c = Conn::connect(&net.admin(n, port(n)?), IO).map_err(|e| e.to_string())?;
        match c.call(args).map_err(|e| e.to_string())? {
            Frame::Error(e) => Err(format!("{} {}: {e}", plan.nodes[n].name, args.join(" "))),
            r => Ok(r),
        }
    };
    let setup = super::topology::ClusterSetup::of(cluster);
    let n = setup.own.len();
    let mut ids = Vec::new();
    for (i, (epoch, ranges)) in setup.own.iter().enumerate() {
        call(i, &["CLUSTER", "SET-CONFIG-EPOCH", &epoch.to_string()])?;
        for (lo, hi) in ranges {
            call(
                i,
                &["CLUSTER", "ADDSLOTSRANGE", &lo.to_string(), &hi.to_string()],
            )?;
        }
        let id = text(&call(i, &["CLUSTER", "MYID"])?)
            .ok_or_else(|| "CLUSTER MYID gave no id".to_string())?;
        ids.push(id);
    }
    for &i in &setup.meet {
        let ip = net.ip(i).to_string();
        call(0, &["CLUSTER", "MEET", &ip, &port(i)?.to_string()])?;
    }
    let wait = |what: &str, ok: &dyn Fn() -> bool| -> Result<(), RunError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ok() {
            check_interrupt()?;
            if Instant::now() > deadline {
                return Err(RunError::Failed(format!("the real cluster never {what}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    };
    let info_field = |i: usize, section: &str, field: &str| -> Option<String> {
        let text = match section {
            "cluster" => text(&call(i, &["CLUSTER", "INFO"]).ok()?)?,
            _ => text(&call(i, &["INFO", section]).ok()?)?,
        };
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .map(|v| v.trim().to_string())
    };
    let known = n.to_string();
    wait("learned of every node", &|| {
        (0..n).all(|i| info_field(i, "cluster", "cluster_known_nodes").as_deref() == Some(&known))
    })?;
    for &(i, m) in &setup.replicate {
        call(i, &["CLUSTER", "REPLICATE", &ids[m]])?;
    }
    wait("reached state ok with every replica in sync", &|| {
        (0..n).all(|i| {
            info_field(i, "cluster", "cluster_state").as_deref() == Some("ok")
                && (cluster.replica_of[i].is_none()
                    || info_field(i, "replication", "master_link_status").as_deref() == Some("up"))
        })
    })
}

/// Whether a PING's reply says the server is up: PONG, or NOAUTH from one
/// with `requirepass` (not LOADING, nor a closed connection).
fn answers(reply: std::io::Result<Frame>) -> bool {
    match reply {
        Ok(Frame::Simple(_)) => true,
        Ok(Frame::Error(e)) => e.starts_with("NOAUTH"),
        _ => false,
    }
}

/// The program a node runs (not `ip`, for one started in a namespace).
fn program(r: &RealNode) -> String {
    let l = &r.launch;
    match l.args.first().map(String::as_str) {
        Some("netns") => l.args.get(3).cloned().unwrap_or_default(),
        _ => l.program.display().to_string(),
    }
}

/// The last lines a process wrote to standard error (Redis reports a
/// configuration it refuses there), as `: a / b`, or nothing.
fn tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(": {}", lines[lines.len().saturating_sub(4)..].join(" / "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_that_cannot_be_real_say_why() {
        let plan = crate::scenario::parse(
            "t.toml",
            "name = \"t\"\nduration = \"1s\"\n[topology]\nmasters = 1\nreplicas = 1\nsentinels = 1\n",
        )
        .expect("a valid scenario");
        let sentinel = plan.node_index("sentinel-1").expect("sentinel-1");
        assert!(unsupported(&plan, &Fault::Heal).is_none());
        let server_jump = Fault::ClockJump { node: 0, by: 1 };
        let why = unsupported(&plan, &server_jump).expect("a server's clock is not jumped");
        assert!(why.contains("only a Sentinel's clock"), "{why}");
        let sentinel_jump = Fault::ClockJump {
            node: sentinel,
            by: 1,
        };
        assert_eq!(
            unsupported(&plan, &sentinel_jump).is_none(),
            crate::conform::preload::compiler().is_some()
        );
        assert!(unsupported(&plan, &Fault::Crash(0)).is_some());
        assert!(unsupported(&plan, &Fault::Kill(0)).is_none());
        assert!(unsupported(&plan, &Fault::Pause(1)).is_none());
    }
}
