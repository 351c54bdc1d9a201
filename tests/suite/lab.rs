//! `redsim lab`: outside connections enter a running world as steps at
//! instants, and the saved session replays to the same trace; real sockets
//! speak RESP to the simulated servers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use redsim::client::operator::Tapped;
use redsim::history::CommandLine;
use redsim::lab::record::{Deployment, session_file};
use redsim::proto::resp::{Frame, join_args, split_args};
use redsim::report::{Format, render_trace};
use redsim::scenario::Fault;
use redsim::scenario::connection::Connection;
use redsim::world::{Step, World};

use crate::common::{redsim, redsim_command, root};

const SCENARIO: &str = "scenarios/conform/sentinel-failover-after-kill.toml";

fn line(session: &str, node: u32, text: &str) -> Step {
    let argv = split_args(text).unwrap();
    Step::Command(CommandLine {
        name: None,
        session: session.into(),
        node,
        line: join_args(&argv),
        argv,
    })
}

/// An outside connection opening (at the instant it is injected at).
fn open(session: &str, node: usize) -> Step {
    Step::Open(Connection {
        session: session.into(),
        node,
        open: 0,
        close: None,
    })
}

/// A session driven as the lab drives one (each step on a free instant),
/// then saved and replayed: the replay's trace is the session's, byte for
/// byte, and the outside clients read what the servers answered.
#[test]
fn a_lab_session_replays_to_the_same_trace() {
    let text = std::fs::read_to_string(root().join(SCENARIO)).unwrap();
    let deployment = Deployment::from_scenario(&text, 3, 3_600_000_000, None).unwrap();
    let mut plan = redsim::scenario::parse("lab", &deployment.text()).unwrap();
    plan.with_operator();
    let (master, sentinel) = (0u32, 3u32);
    assert_eq!(plan.nodes[sentinel as usize].name, "sentinel-1");
    let mut world = World::new(&plan, 3);
    world.tap_outside();
    let step = |world: &mut World, wanted: u64, s: Step| {
        let at = world.free_instant(wanted).unwrap();
        world.inject(at, s);
        at
    };
    // Whole milliseconds: instants timers also hold, so some are moved on.
    step(&mut world, 2_000_000, open("lab-1", master as usize));
    step(&mut world, 2_500_000, line("lab-1", master, "SET k v"));
    step(&mut world, 2_500_000, line("lab-1", master, "GET k"));
    let kill_at = step(&mut world, 5_000_000, Step::Fault(Fault::Kill(0)));
    step(&mut world, 20_000_000, open("lab-2", sentinel as usize));
    step(
        &mut world,
        20_500_000,
        line(
            "lab-2",
            sentinel,
            "SENTINEL get-master-addr-by-name mymaster",
        ),
    );
    step(&mut world, 21_000_000, Step::Close("lab-2".into()));
    world.run_until(25_000_000).unwrap();

    let tapped = world.take_tapped();
    let frame = |s: &str, f: Frame| Tapped::Frame {
        session: s.into(),
        frame: f,
    };
    let bulk = |s: &str| Frame::Bulk(Some(s.into()));
    assert_eq!(
        tapped,
        vec![
            frame("lab-1", Frame::Simple("OK".into())),
            frame("lab-1", bulk("v")),
            // The master's death closes its clients' connections.
            Tapped::Closed {
                session: "lab-1".into()
            },
            // replica-2 (replica-priority 50) was promoted.
            frame(
                "lab-2",
                Frame::Array(Some(vec![bulk("10.0.0.3"), bulk("6379")]))
            ),
        ]
    );

    assert_eq!(
        redsim::lab::record::clients(&world.plan),
        [
            "lab-1 -> master, connected at 2.000001s, 2 commands, last `GET k` at 2.500002s",
            "lab-2 -> sentinel-1, connected at 20.000001s, 1 command, last \
             `SENTINEL get-master-addr-by-name mymaster` at 20.500001s, hung up at 21.000001s",
        ]
    );
    let mut kill = toml::Table::new();
    kill.insert("at".into(), redsim::time::format_duration(kill_at).into());
    kill.insert("kill".into(), "master".into());
    let saved = session_file(&deployment, &world.plan, 25_000_000, &[kill]);
    assert!(saved.contains("stop = \"25s\""), "{saved}");
    assert!(
        saved.contains("[[connection]]\nclose = \"21000001us\"\nnode = \"sentinel-1\"\nopen = \"20000001us\"\nsession = \"lab-2\"\n"),
        "{saved}"
    );
    let replay = redsim::scenario::parse("saved.toml", &saved).expect("the saved session parses");
    let outcome = redsim::world::run(&replay, replay.seed).unwrap();
    let live = render_trace(&world, Format::Text, 3);
    assert_eq!(render_trace(&outcome.world, Format::Text, 3), live);
    assert!(
        live.contains(
            "lab-2@sentinel-1> SENTINEL get-master-addr-by-name mymaster: 1) \"10.0.0.3\""
        )
    );
}

/// A running `redsim lab`, its prompt and what it printed (read by a
/// thread, so the pipe never fills), saving its session and trace in a
/// directory of its own; stopped by PID if the test fails first.
struct LiveLab {
    dir: tempfile::TempDir,
    child: Child,
    prompt: ChildStdin,
    printed: mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
    seen: String,
}

impl LiveLab {
    /// `redsim lab scenario --speed speed --port-base port_base`, saving
    /// to `session.toml` and writing its trace to `live.txt`.
    fn start(scenario: &str, speed: &str, port_base: u16) -> Self {
        Self::start_with(scenario, speed, port_base, &[])
    }

    /// [`LiveLab::start`] with more arguments (`--http ADDR`).
    fn start_with(scenario: &str, speed: &str, port_base: u16, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = redsim_command()
            .args(["lab", scenario, "--duration", "30m", "--speed", speed])
            .args(["--port-base", &port_base.to_string()])
            .args(extra)
            .arg("--save")
            .arg(dir.path().join("session.toml"))
            .arg("--trace")
            .arg(dir.path().join("live.txt"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let prompt = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, printed) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            dir,
            child,
            prompt,
            printed,
            reader: Some(reader),
            seen: String::new(),
        }
    }

    /// Waits (a bound on a test that would hang, not a timing check) until
    /// the lab printed `times` lines with `text`; returns what it printed.
    fn wait_for(&mut self, text: &str, times: usize) -> &str {
        while self.seen.matches(text).count() < times {
            let line = (self.printed.recv_timeout(Duration::from_secs(120)))
                .unwrap_or_else(|_| panic!("never printed {times} × {text}:\n{}", self.seen));
            self.seen.push_str(&line);
            self.seen.push('\n');
        }
        &self.seen
    }

    /// The Sentinels know both replicas (the second at `replica_2`) and
    /// each other: a kill now fails the master over.
    fn wait_for_sentinels(&mut self, replica_2: &str) {
        self.wait_for(&format!("+slave slave {replica_2}"), 3);
        self.wait_for("+sentinel sentinel", 6);
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.prompt, "{line}").unwrap();
    }

    /// A file in the lab's directory (`session.toml`, `live.txt`).
    fn file(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// `quit`: the lab's exit status and everything it printed.
    fn quit(&mut self) -> (std::process::ExitStatus, String) {
        self.type_line("quit");
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let rest: Vec<String> = self.printed.try_iter().collect();
        (status, format!("{}{}", self.seen, rest.join("\n")))
    }
}

impl Drop for LiveLab {
    /// SIGTERM first, so a lab that started real processes stops them.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = (std::process::Command::new("kill").args(["-TERM", &pid]))
            .stderr(Stdio::null())
            .status();
        for _ in 0..200 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A bound on a test that would otherwise hang, not a timing check.
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Reads until `want` bytes came.
fn read_exactly(s: &mut TcpStream, want: usize) -> String {
    let mut buf = vec![0u8; want];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

/// Asks again (a bound, not a timing check) until `ask` gives `want`.
fn until(want: &str, mut ask: impl FnMut() -> String) -> String {
    let mut got = ask();
    for _ in 0..600 {
        if got == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        got = ask();
    }
    got
}

/// Clients that speak RESP over TCP (inline and multibulk, pipelined)
/// reach the simulated servers; a fault typed at the prompt fails the
/// master over; the saved session replays to the trace the lab wrote.
#[test]
fn resp_clients_and_the_prompt_drive_a_live_deployment() {
    let mut lab = LiveLab::start(SCENARIO, "20", 27300);
    let banner = lab.wait_for("sentinel-3 ", 1);
    assert!(banner.contains("master       127.0.0.1:27300"), "{banner}");
    assert!(banner.contains("sentinel-1   127.0.0.1:27400"), "{banner}");
    lab.wait_for_sentinels("127.0.0.1:27302");

    let mut m = connect(27300);
    m.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n")
        .unwrap();
    assert_eq!(read_exactly(&mut m, 5), "+OK\r\n");
    // Two requests in one write, the second inline: answered in order.
    m.write_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n")
        .unwrap();
    assert_eq!(read_exactly(&mut m, 8 + 7), "$2\r\nv1\r\n+PONG\r\n");
    m.write_all(b"*1\r\n$7\r\nNOTACMD\r\n").unwrap();
    let unknown = "-ERR unknown command 'NOTACMD', with args beginning with: \r\n";
    assert_eq!(read_exactly(&mut m, unknown.len()), unknown);

    lab.type_line("kill master");
    let mut s = connect(27400);
    let ask = b"*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n";
    // At its published address: the servers announce the lab's ports.
    let promoted = "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n27302\r\n";
    let answer = until(promoted, || {
        s.write_all(ask).unwrap();
        read_exactly(&mut s, promoted.len())
    });
    assert_eq!(
        answer, promoted,
        "Sentinel never named the promoted replica"
    );
    // It names it from the moment the replicas are being reconfigured; the
    // failover ends (+switch-master) a little later.
    lab.wait_for("+switch-master", 1);

    let (status, printed) = lab.quit();
    assert!(status.success(), "{printed}");
    assert!(
        printed.contains("replays it to the same trace"),
        "{printed}"
    );

    let replayed = lab.file("replayed.txt");
    let out = redsim(&[
        "run",
        lab.file("session.toml").to_str().unwrap(),
        "--trace",
        replayed.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let live = std::fs::read_to_string(lab.file("live.txt")).unwrap();
    assert_eq!(std::fs::read_to_string(&replayed).unwrap(), live);
    assert!(live.contains("lab-1@master> GET k: \"v1\""), "{live}");
    assert!(live.contains("+switch-master mymaster 127.0.0.1 27300 127.0.0.1 27302"));
}

/// `redis-cli -p port args…`: what it printed.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8(out.stdout).unwrap()
}

/// The README's lab example, typed with redis-cli: a write read back on a
/// replica, INFO replication, Sentinel's answer before and after `kill
/// master` at the prompt.
#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn the_readme_lab_session_with_redis_cli() {
    let mut lab = LiveLab::start(SCENARIO, "10", 27500);
    lab.wait_for_sentinels("127.0.0.1:27502");
    assert_eq!(redis_cli(27500, &["SET", "greeting", "hello"]), "OK\n");
    let read = until("hello\n", || redis_cli(27501, &["GET", "greeting"]));
    assert_eq!(read, "hello\n");
    let info = redis_cli(27501, &["INFO", "replication"]);
    assert!(info.contains("role:slave\r\n"), "{info}");
    assert!(
        info.contains("master_host:127.0.0.1\r\nmaster_port:27500\r\n"),
        "{info}"
    );
    assert!(info.contains("master_link_status:up\r\n"), "{info}");
    let ask = ["SENTINEL", "get-master-addr-by-name", "mymaster"];
    assert_eq!(redis_cli(27600, &ask), "127.0.0.1\n27500\n");
    lab.type_line("kill master");
    let answer = until("127.0.0.1\n27502\n", || redis_cli(27600, &ask));
    assert_eq!(answer, "127.0.0.1\n27502\n");
    assert!(lab.quit().0.success());
}

/// What the Sentinel-managed redis-py client does through a failover:
/// writes until the first error, says so, and goes on until it has written
/// to the promoted replica.
const REDIS_PY_FAILOVER: &str = r#"
import sys, time
from redis.sentinel import Sentinel
port = int(sys.argv[1])
s = Sentinel([("127.0.0.1", port)], socket_timeout=0.5)
m = s.master_for("mymaster", socket_timeout=0.5)
before = s.discover_master("mymaster")
ok = failed = after = 0
deadline = time.monotonic() + 120
i = 0
while time.monotonic() < deadline and after < 20:
    i += 1
    try:
        m.set("k%d" % i, i)
        ok += 1
        if ok == 1:
            print("writing", flush=True)
        if failed:
            after += 1
    except Exception:
        failed += 1
    time.sleep(0.01)
print("before %s:%d" % before)
print("now %s:%d" % s.discover_master("mymaster"))
print("failed %d after %d" % (failed, after))
print("ok %d" % ok, flush=True)
"#;

/// redis-py's Sentinel client writes through a failover of the lab's
/// deployment: the addresses Sentinel hands out are the lab's own
/// (`[publish]`: replica-announce-ip/port, Sentinel announce-ip/port), so
/// it finds the promoted replica and goes on writing.
#[test]
#[ignore = "needs python3 with redis-py"]
fn redis_py_follows_a_sentinel_failover_in_the_lab() {
    let mut lab = LiveLab::start(SCENARIO, "2", 27700);
    lab.wait_for_sentinels("127.0.0.1:27702");
    let mut py = std::process::Command::new("python3")
        .args(["-c", REDIS_PY_FAILOVER, "27800"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut out = BufReader::new(py.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "writing\n");
    lab.type_line("kill master");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(py.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("before 127.0.0.1:27700\n"), "{rest}");
    // replica-2 (replica-priority 50), at its published address.
    assert!(rest.contains("now 127.0.0.1:27702\n"), "{rest}");
    assert!(rest.contains(" after 20\n"), "{rest}");
    // The lab counts the client's writes as `redsim run` counts a
    // workload's: every write redis-py saw acknowledged (and any whose
    // reply came after its timeout), checked against the final state.
    let ok: usize = rest
        .lines()
        .find_map(|l| l.strip_prefix("ok "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    let (status, printed) = lab.quit();
    assert!(status.success());
    let acked: usize = printed
        .lines()
        .find_map(|l| l.strip_prefix("writes: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(acked >= ok, "{acked} < {ok}: {printed}");
    assert!(printed.contains("lost acknowledged writes: "), "{printed}");
}

/// The study notes' hands-on session, typed with redis-cli against the lab
/// on two unlinked servers: REPLICAOF at the master's lab address (with
/// masterauth), INFO replication on both sides, REPLICAOF NO ONE.
#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn the_study_notes_replicaof_session_with_redis_cli() {
    let mut lab = LiveLab::start("scenarios/conform/replicaof-by-hand.toml", "10", 27900);
    lab.wait_for("replica-1 ", 1);
    let replica = |args: &[&str]| redis_cli(27901, args);
    assert_eq!(
        replica(&["INFO", "replication"]).lines().nth(1),
        Some("role:master")
    );
    assert_eq!(replica(&["REPLICAOF", "127.0.0.1", "27900"]), "OK\n");
    let linked = |info: &str| info.contains("master_link_status:up");
    let mut info = replica(&["INFO", "replication"]);
    for _ in 0..300 {
        if linked(&info) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        info = replica(&["INFO", "replication"]);
    }
    assert!(info.contains("role:slave\r\n"), "{info}");
    assert!(
        info.contains("master_host:127.0.0.1\r\nmaster_port:27900\r\n"),
        "{info}"
    );
    assert!(linked(&info), "{info}");
    let master = redis_cli(27900, &["INFO", "replication"]);
    assert!(master.starts_with("NOAUTH"), "{master}");
    let master = redis_cli(
        27900,
        &["--no-auth-warning", "-a", "s3cret", "INFO", "replication"],
    );
    assert!(master.contains("connected_slaves:1\r\n"), "{master}");
    // The replica is listed at its lab address (replica-announce-*).
    assert!(
        master.contains("slave0:ip=127.0.0.1,port=27901,"),
        "{master}"
    );
    assert_eq!(replica(&["REPLICAOF", "NO", "ONE"]), "OK\n");
    assert!(replica(&["INFO", "replication"]).contains("role:master\r\n"));
    assert!(lab.quit().0.success());
}

/// An outside client's acknowledged write is checked like a workload's.
/// lab-1 writes `early` at 2 s (replicated) and `k` at 12 s, while the
/// master is cut off from its replicas and Sentinels but not from the
/// client. The Sentinels promote a replica; after the heal the old master
/// is demoted and full-resyncs, so `k` is lost, and the summary says who
/// wrote it and why it went. The APPEND is counted, but its key is left
/// unchecked, and said so.
#[test]
fn an_outside_clients_lost_write_is_counted_with_its_cause() {
    let text = r#"
name = "outside-client-loses-a-write"
seed = 5
duration = "60s"

[topology]
masters = 1
replicas = 2
sentinels = 3

[sentinel]
quorum = 2
down-after-milliseconds = 5000

[[connection]]
session = "lab-1"
node = "master"
open = "1s"

[[command]]
at = "2s"
session = "lab-1"
node = "master"
send = "SET early v1"

[[command]]
at = "12s"
session = "lab-1"
node = "master"
send = "SET k lost-value"

[[command]]
at = "13s"
session = "lab-1"
node = "master"
send = "APPEND other x"

[[fault]]
at = "10s"
partition = [["master"], ["replica-1", "replica-2", "sentinel-1", "sentinel-2", "sentinel-3"]]

[[fault]]
at = "30s"
heal = true
"#;
    let plan = redsim::scenario::parse("outside.toml", text).unwrap();
    let outcome = redsim::world::run(&plan, plan.seed).unwrap();
    let summary = redsim::report::summary(&outcome);
    assert!(
        summary.contains("writes: 3 acknowledged, 0 refused, 0 indeterminate"),
        "{summary}"
    );
    assert!(
        summary.contains("lost acknowledged writes: 1 "),
        "{summary}"
    );
    assert!(
        summary.contains("  k written by lab-1 #2 acknowledged at 12.0"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "final state holds nothing\n    acknowledged by master at 12.000500s while \
             partitioned; replica-2 promoted at offset 2057"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("master demoted and full-resynced at"),
        "{summary}"
    );
    assert!(
        summary.contains("  1 key not checked, written by commands the checker does not follow:\n    other (APPEND by lab-1 #3)"),
        "{summary}"
    );
}

/// The bundled cluster (three masters, a replica each) in the lab at
/// five times the clock, once every replica has its first full sync.
fn cluster_lab(port_base: u16) -> LiveLab {
    let mut lab = LiveLab::start(
        "scenarios/cluster/master-killed-replica-promoted.toml",
        "5",
        port_base,
    );
    lab.wait_for("MASTER <-> REPLICA sync: Finished with success", 3);
    lab
}

/// A cluster in the lab hands out its lab addresses (cluster-announce-*,
/// set by `[publish]`): redis-cli `-c` follows MOVED to the node that
/// serves the key, and after `kill master-2` and the cluster's own
/// failover, to the promoted replica, which CLUSTER SLOTS now names.
#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn redis_cli_follows_moved_through_a_cluster_failover_in_the_lab() {
    let mut lab = cluster_lab(26100);
    // {k}x hashes to slot 7629, master-2's (5461-10922).
    let cli = |args: &[&str]| redis_cli(26100, args);
    assert_eq!(cli(&["-c", "SET", "{k}x", "before"]), "OK\n");
    assert_eq!(
        cli(&["SET", "{k}x", "v"]).trim_end(),
        "MOVED 7629 127.0.0.1:26101"
    );
    let slots = cli(&["CLUSTER", "SLOTS"]);
    assert!(slots.contains("5461\n10922\n127.0.0.1\n26101\n"), "{slots}");
    lab.type_line("kill master-2");
    lab.wait_for("Failover election won", 1);
    let mut reply = String::new();
    for _ in 0..300 {
        reply = cli(&["-c", "SET", "{k}x", "after"]);
        if reply == "OK\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(reply, "OK\n");
    assert_eq!(cli(&["-c", "GET", "{k}x"]), "after\n");
    let slots = cli(&["CLUSTER", "SLOTS"]);
    // replica-2-1, the fifth server, took master-2's slots.
    assert!(slots.contains("5461\n10922\n127.0.0.1\n26104\n"), "{slots}");
    let (status, printed) = lab.quit();
    assert!(status.success());
    assert!(printed.contains("lost acknowledged writes: "), "{printed}");
}

/// redis-py's RedisCluster against a cluster in the lab: it reads the
/// topology (COMMAND, CLUSTER SLOTS) at the lab's addresses, writes to a
/// key of master-2's, and once `kill master-2` has been typed and a
/// replica has won the election, goes on writing: 20 more writes all go
/// through, to the promoted replica at its lab port.
const REDIS_PY_CLUSTER: &str = r#"
import sys, threading
from redis.cluster import RedisCluster
port = int(sys.argv[1])
rc = RedisCluster(host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
key = "{k}x"
before = rc.get_node_from_key(key)
print("before %s:%d" % (before.host, before.port), flush=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
i = ok = failed = 0
while not stop.is_set():
    i += 1
    try:
        rc.set(key, i)
        ok += 1
        if ok == 1:
            print("writing", flush=True)
    except Exception:
        failed += 1
for _ in range(20):
    i += 1
    rc.set(key, i)
    ok += 1
now = rc.get_node_from_key(key)
print("now %s:%d" % (now.host, now.port))
print("read %s" % rc.get(key).decode())
print("wrote %d ok %d failed %d" % (i, ok, failed), flush=True)
"#;

#[test]
#[ignore = "needs python3 with redis-py"]
fn redis_py_cluster_client_follows_a_cluster_failover_in_the_lab() {
    let mut lab = cluster_lab(26300);
    let mut py = std::process::Command::new("python3")
        .args(["-c", REDIS_PY_CLUSTER, "26300"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut out = BufReader::new(py.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "before 127.0.0.1:26301\n");
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "writing\n");
    lab.type_line("kill master-2");
    lab.wait_for("Failover election won", 1);
    writeln!(py.stdin.as_mut().unwrap(), "stop").unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(py.wait().unwrap().success(), "{rest}");
    // replica-2-1, the fifth server, serves the key now.
    assert!(rest.starts_with("now 127.0.0.1:26304\n"), "{rest}");
    let wrote: u64 = rest
        .lines()
        .find_map(|l| l.strip_prefix("wrote "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(rest.contains(&format!("read {wrote}\n")), "{rest}");
    let (status, printed) = lab.quit();
    assert!(status.success());
    assert!(printed.contains("lost acknowledged writes: "), "{printed}");
}

/// The live dashboard: headless Chromium loads the lab's page, which
/// follows the session; a click on the master in the topology and on its
/// "kill" button sends `kill master` to the lab, and the page's trace then
/// shows the Sentinels' `+switch-master`. `REDSIM_SCREENSHOT=FILE` also
/// saves the page as it is then (the README's picture).
#[test]
#[ignore = "needs chromium"]
fn the_live_page_kills_the_master_and_shows_the_failover() {
    let mut lab = LiveLab::start_with(SCENARIO, "2", 26500, &["--http", "127.0.0.1:26590"]);
    lab.wait_for("The live dashboard: http://127.0.0.1:26590/", 1);
    lab.wait_for_sentinels("127.0.0.1:26502");
    let mut browser = crate::browser::Browser::start();
    let page = browser.open("http://127.0.0.1:26590/");
    let text = |id: &str| format!("((document.getElementById('{id}') || {{}}).textContent || '')");
    browser.wait_until(
        &page,
        &format!("{} === 'live'", text("playback-state")),
        300,
    );
    // The speed list shows the lab's speed.
    browser.wait_until(&page, "document.getElementById('speed').value === '2'", 100);
    open_master_panel(&mut browser, &page);
    click_kill_master(&mut browser, &page, &mut lab);
    browser.wait_until(
        &page,
        &format!("{}.includes('+switch-master')", text("log")),
        600,
    );
    // The page names the promoted replica (at its published address).
    browser.wait_until(&page, &format!("{} === 'replica-2'", text("promoted")), 100);
    if let Ok(path) = std::env::var("REDSIM_SCREENSHOT") {
        std::fs::write(path, browser.screenshot(&page)).unwrap();
    }
    drop(browser);
    let (status, printed) = lab.quit();
    assert!(status.success());
    assert!(printed.contains("+switch-master"), "{printed}");
}

/// The deployment of [`SCENARIO`] as real processes from port 26700, its
/// page at 26790: the page shows the failover a click on "kill" causes,
/// from what the processes say, and the lab stops every process it
/// started when it quits.
#[test]
#[ignore = "needs redis-server, redis-sentinel and chromium"]
fn the_live_page_of_real_processes_kills_the_master_and_shows_the_failover() {
    let mut lab = LiveLab::start_with(
        SCENARIO,
        "1",
        26700,
        &["--real", "--http", "127.0.0.1:26790"],
    );
    lab.wait_for("The live dashboard: http://127.0.0.1:26790/", 1);
    lab.wait_for_sentinels("127.0.0.1:26702");
    let mut browser = crate::browser::Browser::start();
    let page = browser.open("http://127.0.0.1:26790/");
    let text = |id: &str| format!("((document.getElementById('{id}') || {{}}).textContent || '')");
    browser.wait_until(
        &page,
        &format!("{} === 'live'", text("playback-state")),
        300,
    );
    // The state comes from INFO: the master has both replicas online.
    browser.wait_until(
        &page,
        "D.samples[0].some(s => s[1].connected_slaves === '2')",
        300,
    );
    open_master_panel(&mut browser, &page);
    // Real processes on loopback: no crash (no power loss here) and no
    // partition (no namespaces).
    let offered = browser.eval(
        &page,
        "[...document.querySelectorAll('#node-detail button[data-action]')].map(b => b.dataset.action).join(',')",
    );
    assert_eq!(offered.as_str(), Some("kill master,pause master"));
    click_kill_master(&mut browser, &page, &mut lab);
    browser.wait_until(
        &page,
        &format!("{}.includes('+switch-master')", text("log")),
        600,
    );
    // replica-2 has the lower replica-priority; the page finds it by its
    // real address in +switch-master.
    browser.wait_until(&page, &format!("{} === 'replica-2'", text("promoted")), 100);
    // Its INFO says it is a master now.
    browser.wait_until(&page, "D.samples[2].some(s => s[1].role === 'master')", 100);
    if let Ok(path) = std::env::var("REDSIM_SCREENSHOT") {
        std::fs::write(path, browser.screenshot(&page)).unwrap();
    }
    drop(browser);
    let (status, printed) = lab.quit();
    assert!(status.success(), "{printed}");
    assert!(
        printed.contains("+switch-master mymaster 127.0.0.1 26700 127.0.0.1 26702"),
        "{printed}"
    );
    assert!(printed.contains("promoted: replica-2"), "{printed}");
    // Every process was stopped: their ports are free again.
    for port in 26700..26706 {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is still taken after the lab quit"
        );
    }
}

/// A signal ends a real lab after it stopped every process it started.
#[test]
#[ignore = "needs redis-server and redis-sentinel"]
fn a_real_lab_stopped_by_a_signal_stops_its_processes() {
    let mut lab = LiveLab::start_with(SCENARIO, "1", 26800, &["--real", "--quiet"]);
    let table = lab.wait_for("Type faults here", 1).to_string();
    let pids = pids_in(&table);
    assert_eq!(pids.len(), 6, "{table}");
    lab.type_line("pause replica-1");
    lab.type_line("kill master");
    lab.type_line("partition master | replica-1");
    lab.wait_for("partitions of real processes need network namespaces", 1);
    let pid = lab.child.id() as i32;
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = lab.child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    for p in pids {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat"));
        assert!(
            stat.map_or(true, |s| s.contains(") Z ")),
            "process {p} outlived the lab"
        );
    }
    for port in 26800..26806 {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port}"
        );
    }
    // SIGKILL leaves redsim no time to clean up: the kernel kills what it
    // started (PR_SET_PDEATHSIG).
    let mut lab = LiveLab::start_with(SCENARIO, "1", 26810, &["--real", "--quiet"]);
    let table = lab.wait_for("Type faults here", 1).to_string();
    let pids = pids_in(&table);
    assert_eq!(pids.len(), 6, "{table}");
    lab.child.kill().unwrap();
    lab.child.wait().unwrap();
    // A bound on a test that would hang, not a timing check.
    let gone = |p: &i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| s.contains(") Z "))
    };
    for _ in 0..200 {
        if pids.iter().all(gone) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        pids.iter().all(gone),
        "processes outlived a killed lab: {pids:?}"
    );
}

/// The PIDs the real lab's node table names (`(pid 1234)`).
fn pids_in(table: &str) -> Vec<i32> {
    (table.lines())
        .filter_map(|l| l.split("(pid ").nth(1)?.split(')').next()?.parse().ok())
        .collect()
}

/// Clicks the master (node 0) on the live page and waits for its panel's
/// "kill" button.
fn open_master_panel(browser: &mut crate::browser::Browser, page: &str) {
    browser.eval(
        page,
        "document.querySelector('#topology [data-node=\"0\"]')\
         .dispatchEvent(new MouseEvent('click', { bubbles: true })); true",
    );
    browser.wait_until(
        page,
        "!!document.querySelector('#node-detail button[data-action=\"kill master\"]')",
        100,
    );
}

/// Clicks "kill" in the master's panel; the lab says it got it.
fn click_kill_master(browser: &mut crate::browser::Browser, page: &str, lab: &mut LiveLab) {
    browser.eval(
        page,
        "document.querySelector('#node-detail button[data-action=\"kill master\"]').click(); true",
    );
    lab.wait_for("lab: from the page: kill master", 1);
}

/// `--real` runs at the wall clock's pace and `--netns` only goes with it:
/// each is refused with why, before anything starts (so no Redis is needed).
#[test]
fn real_lab_flags_are_checked_before_anything_starts() {
    redsim(&["lab", SCENARIO, "--real", "--speed", "2"])
        .exits(2)
        .stderr_has("--speed 2: real processes run at the wall clock's pace; --speed is for the simulated lab");
    redsim(&["lab", SCENARIO, "--netns"])
        .exits(2)
        .stderr_has("--real");
    redsim(&["lab", SCENARIO, "--real", "--duration", "0s"])
        .exits(2)
        .stderr_has("--duration `0s`: a time up to 24h");
}
