//! Where the real processes sit on the network.
//!
//! On loopback (the default) every process listens on 127.0.0.1 and nothing
//! can come between two of them. A scenario with partitions runs on
//! [`Namespaces`] instead: each node, workload clients included, gets its own
//! network namespace with one interface on a shared bridge, so a partition
//! can silently drop the packets from one namespace to another, as a real
//! network does, while TCP keeps retransmitting underneath.
//!
//! The drop is made without netfilter or traffic control (neither is
//! available on every kernel): every namespace knows every peer's MAC
//! address through a permanent neighbour entry, and blocking `a → b` points
//! `a`'s entry for `b` at a MAC nobody owns. The bridge floods such frames to
//! ports that ignore them. Healing restores the entry. Directions are
//! independent, so one-way partitions work too.
//!
//! The harness itself is never partitioned: it reaches each server from
//! inside that server's namespace, over its loopback interface.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::endpoint::Endpoint;
use super::procs::Launch;

/// iproute2's `ip`: on `PATH`, else where Debian puts it (root's `PATH`
/// may lack the sbin directories).
pub fn find_ip() -> Option<PathBuf> {
    super::find_program(None, "ip").or_else(|| {
        ["/usr/sbin/ip", "/sbin/ip"]
            .map(PathBuf::from)
            .into_iter()
            .find(|p| p.is_file())
    })
}

/// The network the real processes of one run share.
pub enum Net {
    /// Everyone on 127.0.0.1; partitions cannot be applied.
    Loopback,
    Namespaces(Namespaces),
}

impl Net {
    /// The address other processes use to reach `node`.
    pub fn ip(&self, node: usize) -> Ipv4Addr {
        match self {
            Net::Loopback => Ipv4Addr::LOCALHOST,
            Net::Namespaces(ns) => ns.ip(node),
        }
    }

    /// The `bind` line's addresses for `node`'s server. The peer-facing
    /// address comes first: Redis binds its outgoing cluster-bus and
    /// Sentinel connections to the first one.
    pub fn bind(&self, node: usize) -> String {
        match self {
            Net::Loopback => "127.0.0.1".into(),
            Net::Namespaces(ns) => format!("{} 127.0.0.1", ns.ip(node)),
        }
    }

    /// How the harness reaches `node`'s server on `port`, partitions or not.
    pub fn admin(&self, node: usize, port: u16) -> Endpoint {
        match self {
            Net::Loopback => Endpoint::loopback(port),
            Net::Namespaces(_) => Endpoint {
                ip: Ipv4Addr::LOCALHOST,
                port,
                netns: self.home(node),
            },
        }
    }

    /// How a client, already inside its own namespace, reaches `node`.
    pub fn peer(&self, node: usize, port: u16) -> Endpoint {
        Endpoint {
            ip: self.ip(node),
            port,
            netns: None,
        }
    }

    /// The namespace a workload client on `node` runs in, if any: its
    /// thread enters it with [`enter_path`] before connecting anywhere.
    pub fn home(&self, node: usize) -> Option<Arc<Path>> {
        match self {
            Net::Loopback => None,
            Net::Namespaces(ns) => Some(ns.path(node).into()),
        }
    }

    /// `launch`, run inside `node`'s namespace. `ip netns exec` execs the
    /// program, so the PID is still the server's own.
    pub fn launch(&self, node: usize, launch: &Launch) -> Launch {
        match self {
            Net::Loopback => launch.clone(),
            Net::Namespaces(ns) => {
                let mut args = vec!["netns".into(), "exec".into(), ns.name(node)];
                args.push(launch.program.display().to_string());
                args.extend(launch.args.iter().cloned());
                // `ip netns exec` hands its environment on.
                Launch {
                    program: ns.ip_cmd.clone(),
                    args,
                    env: launch.env.clone(),
                }
            }
        }
    }
}

/// One namespace per node plus a hub holding the bridge; all deleted on
/// drop (after the processes in them have been stopped).
pub struct Namespaces {
    prefix: String,
    nodes: usize,
    ip_cmd: PathBuf,
    /// Directed pairs currently dropped.
    blocked: BTreeSet<(usize, usize)>,
    created: Vec<String>,
}

/// Networks created by this process so far: each gets its own names.
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A MAC address no namespace owns: frames sent to it go nowhere.
const NOWHERE: &str = "02:72:73:ff:ff:ff";

impl Namespaces {
    /// Creates the hub with its bridge and one namespace per node, each
    /// with `eth0` at 10.77.0.(node + 1)/24 and loopback up, and every
    /// peer's address resolved permanently.
    pub fn create(ip_cmd: &Path, nodes: usize) -> Result<Self, String> {
        if nodes > 250 {
            return Err(format!("{nodes} nodes do not fit one /24"));
        }
        let mut me = Self {
            prefix: format!(
                "redsim-{}-{}",
                std::process::id(),
                RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            nodes,
            ip_cmd: ip_cmd.to_path_buf(),
            blocked: BTreeSet::new(),
            created: Vec::new(),
        };
        me.remove_stale();
        let hub = format!("{}-hub", me.prefix);
        me.add_ns(&hub)?;
        me.run(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        me.run(&["-n", &hub, "link", "set", "br0", "up"])?;
        for n in 0..nodes {
            let ns = me.name(n);
            me.add_ns(&ns)?;
            let port = format!("v{n}");
            me.run(&[
                "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ])?;
            me.run(&["-n", &hub, "link", "set", &port, "master", "br0", "up"])?;
            me.run(&["-n", &ns, "link", "set", "eth0", "address", &mac(n)])?;
            let cidr = format!("{}/24", me.ip(n));
            me.run(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
            me.run(&["-n", &ns, "link", "set", "eth0", "up"])?;
            me.run(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        for a in 0..nodes {
            for b in (0..nodes).filter(|b| *b != a) {
                me.point(a, b, &mac(b))?;
            }
        }
        Ok(me)
    }

    pub fn name(&self, node: usize) -> String {
        format!("{}-n{node}", self.prefix)
    }

    fn path(&self, node: usize) -> PathBuf {
        Path::new("/run/netns").join(self.name(node))
    }

    pub fn ip(&self, node: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, 0, node as u8 + 1)
    }

    /// Drops (or lets through again) every packet from `from` to `to`.
    pub fn set_blocked(&mut self, from: usize, to: usize, blocked: bool) -> Result<(), String> {
        if from == to || from >= self.nodes || to >= self.nodes {
            return Ok(());
        }
        let changed = if blocked {
            self.blocked.insert((from, to))
        } else {
            self.blocked.remove(&(from, to))
        };
        if !changed {
            return Ok(());
        }
        let lladdr = if blocked { NOWHERE.into() } else { mac(to) };
        self.point(from, to, &lladdr)
    }

    /// Lets every blocked path through again.
    pub fn heal(&mut self) -> Result<(), String> {
        let pairs: Vec<_> = self.blocked.iter().copied().collect();
        for (a, b) in pairs {
            self.set_blocked(a, b, false)?;
        }
        Ok(())
    }

    /// Sets `from`'s permanent neighbour entry for `to` to `lladdr`.
    fn point(&self, from: usize, to: usize, lladdr: &str) -> Result<(), String> {
        let ns = self.name(from);
        let ip = self.ip(to).to_string();
        self.run(&[
            "-n",
            &ns,
            "neigh",
            "replace",
            &ip,
            "lladdr",
            lladdr,
            "dev",
            "eth0",
            "nud",
            "permanent",
        ])
    }

    /// Deletes the namespaces of earlier runs whose process is gone (one
    /// stopped by a signal never ran its destructors).
    fn remove_stale(&self) {
        let Ok(dir) = std::fs::read_dir("/run/netns") else {
            return;
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let Some(pid) = name
                .strip_prefix("redsim-")
                .and_then(|r| r.split('-').next())
            else {
                continue;
            };
            if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
                let _ = self.run(&["netns", "del", &name]);
            }
        }
    }

    fn add_ns(&mut self, name: &str) -> Result<(), String> {
        self.run(&["netns", "add", name])?;
        self.created.push(name.to_string());
        Ok(())
    }

    /// Runs `ip` with `args`.
    fn run(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new(&self.ip_cmd)
            .args(args)
            .stdin(Stdio::null())
            .process_group(0)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.ip_cmd.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// Deletes every namespace this run created, once nothing runs in them (the
/// processes' guard goes first). `ip` runs in a process group of its own, as
/// every `ip` here does, so a Ctrl-C at the terminal cannot cut the cleanup
/// short.
impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in self.created.drain(..).rev() {
            let _ = Command::new(&self.ip_cmd)
                .args(["netns", "del", &ns])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .status();
        }
    }
}

/// Node `n`'s MAC address (locally administered).
fn mac(n: usize) -> String {
    format!("02:72:73:00:{:02x}:{:02x}", n >> 8, n & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::endpoint::enter_path;
    use std::time::Duration;
    #[test]
    fn loopback_keeps_everyone_on_127_0_0_1() {
        let net = Net::Loopback;
        assert_eq!(net.ip(3), Ipv4Addr::LOCALHOST);
        assert_eq!(net.bind(3), "127.0.0.1");
        let l = Launch {
            program: "/usr/bin/redis-server".into(),
            args: vec!["redis.conf".into()],
            env: Vec::new(),
        };
        assert_eq!(net.launch(3, &l).args, l.args);
        assert!(net.admin(3, 17003).netns.is_none());
    }

    /// Needs root and iproute2; says so and passes vacuously elsewhere.
    #[test]
    fn a_blocked_path_drops_packets_until_the_heal() {
        use std::io::{Read, Write};
        let Some(ip) = find_ip() else {
            crate::errln!("skipped: iproute2 is not installed");
            return;
        };
        let mut ns = match Namespaces::create(&ip, 2) {
            Ok(ns) => ns,
            Err(e) => {
                crate::errln!("skipped: no network namespaces here ({e})");
                return;
            }
        };
        let server_home = ns.path(1);
        let server_ip = ns.ip(1);
        let listener = std::thread::scope(|s| {
            s.spawn(|| {
                enter_path(&server_home)?;
                std::net::TcpListener::bind((server_ip, 9000))
            })
            .join()
            .unwrap()
        })
        .expect("listens in its namespace");
        let to_server = Endpoint {
            ip: server_ip,
            port: 9000,
            netns: Some(ns.path(0).into()),
        };
        let mut client = to_server.connect(Duration::from_secs(2)).expect("connects");
        let (mut conn, _) = listener.accept().expect("accepts");
        conn.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 8];
        client.write_all(b"a").unwrap();
        assert_eq!(conn.read(&mut buf).unwrap(), 1);

        // Blocked: the write succeeds locally, nothing arrives, no error.
        ns.set_blocked(0, 1, true).unwrap();
        client.write_all(b"b").unwrap();
        assert!(conn.read(&mut buf).is_err(), "a blocked packet arrived");
        // The other direction still works.
        conn.write_all(b"c").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        assert_eq!(client.read(&mut buf).unwrap(), 1);

        // Healed: TCP's retransmission delivers the held byte.
        ns.heal().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(conn.read(&mut buf).unwrap(), 1);
        assert_eq!(buf[0], b'b');
    }

    #[test]
    fn macs_are_distinct_and_none_is_nowhere() {
        let macs: BTreeSet<String> = (0..300).map(mac).collect();
        assert_eq!(macs.len(), 300);
        assert!(!macs.contains(NOWHERE));
    }
}
