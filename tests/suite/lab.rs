//! `redsim lab`: outside connections enter a running world as steps at
//! instants, and the saved session replays to the same trace; real sockets
//! speak RESP to the simulated servers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use redsim::client::operator::Tapped;
use redsim::history::CommandLine;
use redsim::lab::record::{Deployment, session_file};
use redsim::proto::resp::{Frame, join_args, split_args};
use redsim::report::{Format, render_trace};
use redsim::scenario::Fault;
use redsim::scenario::connection::Connection;
use redsim::world::{Process, Step, World};

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

fn open(session: &str, node: usize, at: u64) -> Step {
    Step::Open(Connection {
        session: session.into(),
        node,
        open: at,
        close: None,
    })
}

/// A session driven as the lab drives one (each step on a free instant),
/// then saved and replayed: the replay's trace is the session's, byte for
/// byte, and the outside clients read what the servers answered.
#[test]
fn a_lab_session_replays_to_the_same_trace() {
    let text = std::fs::read_to_string(root().join(SCENARIO)).unwrap();
    let deployment = Deployment::from_scenario(&text, 3, 3_600_000_000).unwrap();
    let mut plan = redsim::scenario::parse("lab", &deployment.text()).unwrap();
    plan.with_operator();
    let (master, sentinel) = (0u32, 3u32);
    assert_eq!(plan.nodes[sentinel as usize].name, "sentinel-1");
    let mut world = World::new(&plan, 3);
    let op = world.plan.node_index("redis-cli").unwrap();
    if let Process::Resharder(r) = &mut world.sim.nodes[op] {
        r.sessions.tap = Some(Vec::new());
    }
    let step = |world: &mut World, wanted: u64, s: Step| {
        let at = world.free_instant(wanted).unwrap();
        world.inject(at, s);
        at
    };
    // Whole milliseconds: instants timers also hold, so some are moved on.
    step(&mut world, 2_000_000, open("lab-1", master as usize, 0));
    step(&mut world, 2_500_000, line("lab-1", master, "SET k v"));
    step(&mut world, 2_500_000, line("lab-1", master, "GET k"));
    let kill_at = step(&mut world, 5_000_000, Step::Fault(Fault::Kill(0)));
    step(&mut world, 20_000_000, open("lab-2", sentinel as usize, 0));
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

    let tapped = match &mut world.sim.nodes[op] {
        Process::Resharder(r) => r.sessions.tap.take().unwrap(),
        _ => unreachable!(),
    };
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

/// A running `redsim lab`, stopped by PID if the test fails first.
struct Lab(Child);

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

/// Clients that speak RESP over TCP (inline and multibulk, pipelined)
/// reach the simulated servers; a fault typed at the prompt fails the
/// master over; the saved session replays to the trace the lab wrote.
#[test]
fn resp_clients_and_the_prompt_drive_a_live_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.toml");
    let live_trace = dir.path().join("live.txt");
    let mut child = redsim_command()
        .args(["lab", SCENARIO, "--speed", "20", "--port-base", "27300"])
        .args(["--duration", "30m"])
        .arg("--save")
        .arg(&saved)
        .arg("--trace")
        .arg(&live_trace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The lab prints its trace as it goes: a thread reads it, so the pipe
    // never fills.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, printed) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut lab = Lab(child);
    let mut seen = String::new();
    // Waits (a bound, not a timing check) for a printed line with `text`.
    let mut wait_for = |text: &str, times: usize| {
        while seen.matches(text).count() < times {
            let line = printed
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("never printed {times} × {text}:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
        }
        seen.clone()
    };
    let banner = wait_for("sentinel-3 ", 1);
    assert!(banner.contains("master       127.0.0.1:27300"), "{banner}");
    assert!(banner.contains("sentinel-1   127.0.0.1:27400"), "{banner}");
    // The Sentinels know both replicas and each other before the kill.
    wait_for("+slave slave 10.0.0.3:6379", 3);
    wait_for("+sentinel sentinel", 6);

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

    writeln!(stdin, "kill master").unwrap();
    let mut s = connect(27400);
    let ask = b"*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n";
    let promoted = "*2\r\n$8\r\n10.0.0.3\r\n$4\r\n6379\r\n";
    let mut answer = String::new();
    for _ in 0..600 {
        s.write_all(ask).unwrap();
        answer = read_exactly(&mut s, promoted.len());
        if answer == promoted {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        answer, promoted,
        "Sentinel never named the promoted replica"
    );

    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let status = lab.0.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = printed.try_iter().collect();
    let rest = rest.join("\n");
    assert!(status.success(), "{rest}");
    assert!(rest.contains("replays it to the same trace"), "{rest}");

    let replayed = dir.path().join("replayed.txt");
    let out = redsim(&[
        "run",
        saved.to_str().unwrap(),
        "--trace",
        replayed.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let live = std::fs::read_to_string(&live_trace).unwrap();
    assert_eq!(std::fs::read_to_string(&replayed).unwrap(), live);
    assert!(live.contains("lab-1@master> GET k: \"v1\""), "{live}");
    assert!(live.contains("+switch-master mymaster 10.0.0.1 6379 10.0.0.3 6379"));
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
    let dir = tempfile::tempdir().unwrap();
    let mut child = redsim_command()
        .args(["lab", SCENARIO, "--speed", "10", "--port-base", "27500"])
        .args(["--duration", "30m"])
        .arg("--save")
        .arg(dir.path().join("s.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, printed) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lab = Lab(child);
    let mut seen = String::new();
    while seen.matches("+sentinel sentinel").count() < 6
        || seen.matches("+slave slave 10.0.0.3:6379").count() < 3
    {
        let line = printed
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the Sentinels never settled:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
    }
    assert_eq!(redis_cli(27500, &["SET", "greeting", "hello"]), "OK\n");
    let mut read = String::new();
    for _ in 0..50 {
        read = redis_cli(27501, &["GET", "greeting"]);
        if read == "hello\n" {
            break;
        }
    }
    assert_eq!(read, "hello\n");
    let info = redis_cli(27501, &["INFO", "replication"]);
    assert!(info.contains("role:slave\r\n"), "{info}");
    assert!(info.contains("master_link_status:up\r\n"), "{info}");
    let ask = ["SENTINEL", "get-master-addr-by-name", "mymaster"];
    assert_eq!(redis_cli(27600, &ask), "10.0.0.1\n6379\n");
    writeln!(stdin, "kill master").unwrap();
    let mut answer = String::new();
    for _ in 0..600 {
        answer = redis_cli(27600, &ask);
        if answer == "10.0.0.3\n6379\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(answer, "10.0.0.3\n6379\n");
    writeln!(stdin, "quit").unwrap();
    assert!(lab.0.wait().unwrap().success());
}
