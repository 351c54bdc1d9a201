//! `redsim lab`: a scenario's deployment run in real time, that real
//! clients and redis-cli talk to. Every Redis server and Sentinel listens
//! on 127.0.0.1; each outside connection enters the simulation as an
//! outside session of the operator's host, its commands arriving at the
//! simulated instant that matches the wall clock; faults come from a
//! prompt. Everything from outside enters as a step at an instant, so the
//! session, saved, is a scenario that replays to the same trace.
//!
//! The simulation stays free of I/O: this module is a driver around it,
//! as `conform` is.

mod http;
mod pace;
mod page;
pub mod prompt;
mod real;
pub mod record;
mod wire;

use std::io::Read as _;
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::client::operator::Tapped;
use crate::dashboard::live::Live;
use crate::exit::{BAD_INPUT, ENVIRONMENT, OK, SIMULATION_ERROR};
use crate::history::CommandLine;
use crate::proto::resp::join_args;
use crate::report::{Format, Roles, render_trace};
use crate::scenario::Plan;
use crate::scenario::connection::Connection;
use crate::scenario::{Publish, SENTINEL_OFFSET};
use crate::sim::SimError;
use crate::time::{Micros, Secs, format_duration, parse_time};
use crate::world::{RunOutcome, Step, World};
use http::Http;
use pace::Pace;
use page::{FULL_UPDATE_EVERY, UPDATE_EVERY, a_while_ago};
use prompt::Action;
use record::Deployment;
use wire::{Client, Input, Listener};

#[derive(Args, Debug)]
pub struct LabArgs {
    /// The scenario whose deployment runs (its faults, command lines and
    /// expectations are left out: the session is its own script).
    pub scenario: PathBuf,
    /// Simulated seconds per wall-clock second.
    #[arg(long, default_value = "1")]
    pub speed: f64,
    /// Redis servers listen on 127.0.0.1 from this port up, Sentinels
    /// from this port + 100.
    #[arg(long, default_value = "7000")]
    pub port_base: u16,
    /// Seed for every random stream (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The longest the session can run, in simulated time.
    #[arg(long, default_value = "1h")]
    pub duration: String,
    /// Where the session is saved when it ends (and by a bare `save`);
    /// default lab-session.toml. With --real, only when given (or after
    /// `save`).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Do not print the trace as it happens.
    #[arg(long)]
    pub quiet: bool,
    /// Also write the session's whole trace to this file when it ends.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Serve the live dashboard, with buttons for faults, at this loopback
    /// address (`--http` alone: 127.0.0.1:8080).
    #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
    pub http: Option<String>,
    /// Run real redis-server and redis-sentinel processes instead of the
    /// simulation (as `conform` runs them): the same prompt and live page,
    /// acting on the real processes; each process listens on 127.0.0.1 at
    /// --port-base + its node index.
    #[arg(long)]
    pub real: bool,
    /// With --real: each process in a network namespace of its own (root
    /// and iproute2), so partitions can be caused.
    #[arg(long, requires = "real")]
    pub netns: bool,
}

/// Where a session is saved when no --save says otherwise.
const DEFAULT_SAVE: &str = "lab-session.toml";

/// Runs a lab session until `quit`, a signal, or the end of `--duration`.
pub fn run(args: LabArgs) -> u8 {
    if args.real {
        return real::run(&args);
    }
    crate::interrupt::install();
    let mut lab = match Lab::start(&args) {
        Ok(lab) => lab,
        Err((code, message)) => {
            crate::errln!("{message}");
            return code;
        }
    };
    let ended = lab.serve();
    let code = match ended {
        Ok(why) => {
            crate::outln!("lab: {why} at {}", Secs(lab.world.sim.now()));
            if crate::interrupt::requested() {
                crate::interrupt::exit_status()
            } else {
                OK
            }
        }
        Err(e) => {
            crate::errln!("lab: the simulation stopped: {e}");
            SIMULATION_ERROR
        }
    };
    let path = lab.save_to.clone();
    let code = match lab.save(&path) {
        Ok(outcome) => {
            // The session's summary, as `redsim run` prints it for the file.
            crate::out!("\n{}", crate::report::summary(&outcome));
            code
        }
        Err(e) => {
            crate::errln!("lab: {e}");
            BAD_INPUT
        }
    };
    if let Some(f) = &args.trace {
        let trace = render_trace(&lab.world, Format::Text, lab.seed);
        if let Err(e) = crate::out::write_atomic(f, trace.as_bytes()) {
            crate::errln!("lab: cannot write the trace to {}: {e}", f.display());
            return BAD_INPUT;
        }
    }
    code
}

/// The scenario a lab runs, as given: read and checked, with the seed
/// and the session's longest length.
struct Opened {
    file_name: String,
    text: String,
    original: Plan,
    seed: u64,
    horizon: Micros,
}

impl Opened {
    fn read(args: &LabArgs) -> Result<Self, (u8, String)> {
        let bad = |m: String| (BAD_INPUT, m);
        let horizon = parse_time(&args.duration)
            .ok()
            .filter(|&d| d > 0 && d <= crate::scenario::limits::MAX_RUN)
            .ok_or_else(|| {
                bad(format!(
                    "--duration `{}`: a time up to 24h, e.g. 1h or 90m",
                    args.duration
                ))
            })?;
        let file_name = args.scenario.display().to_string();
        let text = crate::scenario::read_text(&args.scenario).map_err(|e| bad(e.to_string()))?;
        // The file as written is checked first, so its errors point at it.
        let original = crate::scenario::parse(&file_name, &text).map_err(|e| bad(e.to_string()))?;
        let seed = args.seed.unwrap_or(original.seed);
        Ok(Self {
            file_name,
            text,
            original,
            seed,
            horizon,
        })
    }
}

struct Lab {
    world: World,
    deployment: Deployment,
    file_name: String,
    seed: u64,
    horizon: Micros,
    pace: Pace,
    started: Instant,
    /// No two steps share an instant, and none shares one with another
    /// event: the replay then orders them as the session did.
    last_step: Micros,
    /// The faults typed at the prompt, as their `[[fault]]` tables.
    fault_tables: Vec<toml::Table>,
    listeners: Vec<Listener>,
    clients: Vec<Client>,
    sessions_opened: usize,
    stdin_open: bool,
    stdin_buf: Vec<u8>,
    printed: usize,
    roles: Roles,
    quiet: bool,
    save_to: PathBuf,
    /// The live page, its server and when it last got an update.
    http: Option<Http>,
    live: Option<Live>,
    last_update: Instant,
    last_full: Instant,
}

impl Lab {
    fn start(args: &LabArgs) -> Result<Self, (u8, String)> {
        let bad = |m: String| (BAD_INPUT, m);
        if !(0.1..=1000.0).contains(&args.speed) {
            return Err(bad(format!(
                "--speed {}: from 0.1 to 1000 times the wall clock",
                args.speed
            )));
        }
        let Opened {
            file_name,
            text,
            original,
            seed,
            horizon,
        } = Opened::read(args)?;
        let servers = original.nodes.len() as u32;
        if u32::from(args.port_base) + u32::from(SENTINEL_OFFSET) + servers > 65535 {
            return Err(bad(format!(
                "--port-base {}: the ports run past 65535",
                args.port_base
            )));
        }
        let deployment = Deployment::from_scenario(&text, seed, horizon, Some(args.port_base))
            .map_err(|e| bad(format!("{file_name}: {e}")))?;
        let mut plan = crate::scenario::parse(&file_name, &deployment.text()).map_err(|e| {
            bad(format!(
                "{file_name}: its deployment alone does not parse: {e}"
            ))
        })?;
        plan.with_operator();
        let publish = plan.publish.clone().unwrap_or(Publish {
            host: "127.0.0.1".into(),
            port_base: args.port_base,
        });
        let mut listeners = Vec::new();
        for (i, address) in publish.addresses(&plan.nodes).into_iter().enumerate() {
            let Some((_, port)) = address else {
                continue;
            };
            let l = Listener::bind(i, port).map_err(|e| {
                (
                    ENVIRONMENT,
                    format!(
                        "lab: cannot listen on 127.0.0.1:{port} for {}: {e} (choose another --port-base)",
                        plan.nodes[i].name
                    ),
                )
            })?;
            listeners.push(l);
        }
        let mut world = World::new(&plan, seed);
        world.tap_outside();
        let (http, live) = match &args.http {
            Some(addr) => {
                let http = Http::bind(addr).map_err(|e| (ENVIRONMENT, format!("lab: {e}")))?;
                // 100 ms samples of every node, as `redsim dashboard` takes.
                (Some(http), Some(Live::attach(&mut world, seed, 100_000)))
            }
            None => (None, None),
        };
        let roles = Roles::new(&world);
        let lab = Self {
            world,
            deployment,
            file_name,
            seed,
            horizon,
            pace: Pace::new(args.speed),
            started: Instant::now(),
            last_step: 0,
            fault_tables: Vec::new(),
            listeners,
            clients: Vec::new(),
            sessions_opened: 0,
            stdin_open: true,
            stdin_buf: Vec::new(),
            printed: 0,
            roles,
            quiet: args.quiet,
            save_to: args.save.clone().unwrap_or_else(|| DEFAULT_SAVE.into()),
            http,
            live,
            last_update: Instant::now(),
            // The first update is a full one.
            last_full: a_while_ago(FULL_UPDATE_EVERY),
        };
        lab.banner(&plan, &original);
        Ok(lab)
    }

    fn banner(&self, plan: &Plan, original: &Plan) {
        crate::outln!(
            "redsim lab: {} (seed {}), at {} times the wall clock, for up to {}",
            plan.name,
            self.seed,
            self.pace.speed(),
            format_duration(self.horizon)
        );
        self.print_nodes();
        if let Some(h) = &self.http {
            crate::outln!("The live dashboard: http://{}/", h.addr);
        }
        let count = |n: usize, what: &str| match n {
            0 => None,
            1 => Some(format!("1 {what}")),
            n => Some(format!("{n} {what}s")),
        };
        // The end of a debug-sleep or a host fault is the parser's.
        let faults = (original.faults.iter())
            .filter(|(_, f)| !f.added_by_parser())
            .count();
        let left_out: Vec<String> = [
            count(faults, "scripted fault"),
            count(original.commands.len(), "command line"),
            count(original.expects.len(), "expectation"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if left_out.is_empty() {
            crate::outln!("Type faults here (`help` lists them).");
        } else {
            crate::outln!(
                "Left out of the scenario, as this session is its own script: {}. Type faults here (`help` lists them).",
                left_out.join(", ")
            );
        }
    }

    fn print_nodes(&self) {
        for line in self.node_lines() {
            crate::outln!("{line}");
        }
    }

    /// Where each process listens, outside and inside the deployment.
    fn node_lines(&self) -> Vec<String> {
        (self.listeners.iter())
            .map(|l| {
                format!(
                    "  {:<12} {:<16} (inside the deployment: {})",
                    self.world.names[l.node],
                    l.addr,
                    self.world.dir.addr(l.node as u32)
                )
            })
            .collect()
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Serves until the session ends; says why it ended.
    fn serve(&mut self) -> Result<&'static str, SimError> {
        loop {
            if crate::interrupt::requested() {
                return Ok("stopped by a signal");
            }
            let now = self.pace.sim_at(self.elapsed()).min(self.horizon);
            self.advance(now)?;
            self.update_pages();
            if now >= self.horizon {
                return Ok("reached the end of --duration");
            }
            let mut wait = match self.world.next_event() {
                Some(t) => self
                    .pace
                    .wall_at(t.min(self.horizon))
                    .saturating_sub(self.elapsed()),
                None => Duration::from_secs(1),
            }
            .min(Duration::from_millis(500));
            if self.http.as_ref().is_some_and(Http::has_followers) {
                // The page's clock moves on even when nothing happens.
                wait = wait.min(UPDATE_EVERY);
            }
            if self.wait_and_handle(wait)? {
                return Ok("quit");
            }
        }
    }

    /// Runs the world to `t`, then hands what it produced to the sockets
    /// and the terminal.
    fn advance(&mut self, t: Micros) -> Result<(), SimError> {
        if t > self.world.sim.now() {
            self.world.run_until(t)?;
        }
        self.drain();
        Ok(())
    }

    /// The instant for the next step from outside: the wall clock's, but
    /// after every earlier step and on an instant no other event holds.
    fn claim(&mut self) -> Result<Micros, SimError> {
        let wanted = self.pace.sim_at(self.elapsed()).min(self.horizon);
        let t = self.world.free_instant(wanted.max(self.last_step + 1))?;
        self.drain();
        self.last_step = t;
        Ok(t)
    }

    /// Frames and closes for the outside clients, and the trace so far.
    fn drain(&mut self) {
        for t in self.world.take_tapped() {
            match t {
                Tapped::Frame { session, frame } => {
                    if let Some(c) = self.clients.iter_mut().find(|c| c.session == session) {
                        c.queue(&frame.encode());
                    }
                }
                Tapped::Closed { session } => {
                    if let Some(c) = self.clients.iter_mut().find(|c| c.session == session) {
                        c.closing = true;
                    }
                }
            }
        }
        for c in &mut self.clients {
            c.flush();
        }
        self.clients.retain(|c| !c.done);
        let events = &self.world.trace().events;
        if !self.quiet {
            for e in &events[self.printed..] {
                let role = self.roles.step(e);
                crate::outln!("{}", crate::trace::event_text(e, &self.world.names, role));
            }
        }
        self.printed = events.len();
    }

    /// Waits up to `wait` for input and handles it; true when the prompt
    /// said `quit`.
    fn wait_and_handle(&mut self, wait: Duration) -> Result<bool, SimError> {
        let stdin = std::io::stdin();
        let (ready_stdin, ready_listeners, ready_clients, ready_http) = {
            let mut fds: Vec<PollFd<'_>> = Vec::new();
            if self.stdin_open {
                fds.push(PollFd::from_borrowed_fd(stdin.as_fd(), PollFlags::IN));
            }
            for l in &self.listeners {
                fds.push(PollFd::new(&l.socket, PollFlags::IN));
            }
            for c in &self.clients {
                let mut flags = PollFlags::IN;
                if c.wants_write() {
                    flags |= PollFlags::OUT;
                }
                fds.push(PollFd::new(&c.stream, flags));
            }
            let http_at = fds.len();
            if let Some(h) = &self.http {
                h.poll_fds(&mut fds);
            }
            let timeout = Timespec {
                tv_sec: wait.as_secs() as i64,
                tv_nsec: i64::from(wait.subsec_nanos()),
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(false),
                Err(e) => {
                    // Nothing can be read any more: end the session (it
                    // is still saved).
                    crate::errln!("lab: cannot wait for input: {e}");
                    return Ok(true);
                }
            }
            let ready = |f: &PollFd<'_>| !f.revents().is_empty();
            let mut i = 0;
            let s = self.stdin_open && ready(&fds[0]);
            if self.stdin_open {
                i = 1;
            }
            let ls: Vec<usize> = (0..self.listeners.len())
                .filter(|&j| ready(&fds[i + j]))
                .collect();
            i += self.listeners.len();
            let cs: Vec<usize> = (0..self.clients.len())
                .filter(|&j| ready(&fds[i + j]))
                .collect();
            // The listener first, then each connection.
            let hs: Vec<usize> = (http_at..fds.len())
                .filter(|&j| ready(&fds[j]))
                .map(|j| j - http_at)
                .collect();
            (s, ls, cs, hs)
        };
        // By session: serving one client (or accepting another) may drop
        // clients whose connection ended, which moves the others.
        let ready: Vec<String> = (ready_clients.iter())
            .filter_map(|&j| self.clients.get(j).map(|c| c.session.clone()))
            .collect();
        for j in ready_listeners {
            while let Ok(Some(stream)) = self.listeners[j].accept() {
                let node = self.listeners[j].node;
                self.open(node, stream)?;
            }
        }
        for session in ready {
            if let Some(j) = self.clients.iter().position(|c| c.session == session) {
                self.serve_client(j)?;
            }
        }
        for c in &mut self.clients {
            c.flush();
        }
        let http_conns = (self.http.as_mut()).map_or(Vec::new(), |h| h.ready(&ready_http));
        for id in http_conns {
            let i = self
                .http
                .as_ref()
                .and_then(|h| h.conns.iter().position(|c| c.id == id));
            if let Some(i) = i
                && self.serve_http(i)?
            {
                return Ok(true);
            }
        }
        if let Some(h) = self.http.as_mut() {
            h.flush();
        }
        if ready_stdin {
            return self.read_prompt();
        }
        Ok(false)
    }

    fn open(&mut self, node: usize, stream: std::net::TcpStream) -> Result<(), SimError> {
        self.sessions_opened += 1;
        let session = format!("lab-{}", self.sessions_opened);
        let open = self.claim()?;
        self.world.inject(
            open,
            Step::Open(Connection {
                session: session.clone(),
                node,
                open,
                close: None,
            }),
        );
        self.clients.push(Client::new(session, node, stream));
        Ok(())
    }

    fn serve_client(&mut self, j: usize) -> Result<(), SimError> {
        let inputs = self.clients[j].read();
        let session = self.clients[j].session.clone();
        let node = self.clients[j].node;
        for input in inputs {
            let at = self.claim()?;
            // The simulated server may have closed the connection by now.
            let Some(c) = self.clients.iter_mut().find(|c| c.session == session) else {
                return Ok(());
            };
            if c.closing || c.done {
                return Ok(());
            }
            match input {
                Input::Command(argv) => {
                    let line = join_args(&argv);
                    self.world.inject(
                        at,
                        Step::Command(CommandLine {
                            name: None,
                            session: session.clone(),
                            node: node as u32,
                            line,
                            argv,
                        }),
                    );
                }
                Input::ProtocolError(e) => {
                    c.queue(format!("-ERR {e}\r\n").as_bytes());
                    c.closing = true;
                    self.world.inject(at, Step::Close(session.clone()));
                    return Ok(());
                }
                Input::Hangup => {
                    c.done = true;
                    self.world.inject(at, Step::Close(session.clone()));
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Reads typed lines and acts on each; true on `quit`.
    fn read_prompt(&mut self) -> Result<bool, SimError> {
        let mut buf = [0u8; 4096];
        match std::io::stdin().read(&mut buf) {
            Ok(0) | Err(_) => {
                // No more typing (a closed or redirected terminal): the
                // lab goes on until quit by a signal or --duration.
                self.stdin_open = false;
            }
            Ok(n) => self.stdin_buf.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = self.stdin_buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.stdin_buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim().to_string();
            let mut said = Vec::new();
            let quit = self.act(&line, &mut said)?;
            for l in said {
                crate::outln!("{l}");
            }
            if quit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Does what a prompt line asks, saying what it did in `out`; true on
    /// `quit`.
    fn act(&mut self, line: &str, out: &mut Vec<String>) -> Result<bool, SimError> {
        let names: Vec<String> = self
            .world
            .plan
            .nodes
            .iter()
            .map(|n| n.name.clone())
            .collect();
        match prompt::parse(line, &names) {
            Err(e) => out.push(format!("lab: {e}")),
            Ok(Action::Nothing) => {}
            Ok(Action::Help) => out.push(prompt::HELP.to_string()),
            Ok(Action::Nodes) => out.extend(self.node_lines()),
            Ok(Action::Clients) => {
                let lines = record::clients(&self.world.plan);
                if lines.is_empty() {
                    out.push("lab: no outside client has connected yet".into());
                }
                out.extend(lines.into_iter().map(|l| format!("  {l}")));
            }
            Ok(Action::Quit) => return Ok(true),
            Ok(Action::Speed(x)) => {
                self.pace.set_speed(self.elapsed(), x);
                out.push(format!("lab: running at {x} times the wall clock"));
            }
            Ok(Action::Save(file)) => {
                let path = file.unwrap_or_else(|| self.save_to.clone());
                let now = self.pace.sim_at(self.elapsed()).min(self.horizon);
                self.advance(now)?;
                match self.save(&path) {
                    Ok(_) => self.save_to = path,
                    Err(e) => out.push(format!("lab: {e}")),
                }
            }
            Ok(Action::Fault(table)) => self.fault(table, out)?,
        }
        Ok(false)
    }

    /// Checks a typed fault as the scenario parser would check it in the
    /// saved file, then applies it now.
    fn fault(&mut self, mut table: toml::Table, out: &mut Vec<String>) -> Result<(), SimError> {
        let at = self.claim()?;
        table.insert("at".into(), format_duration(at).into());
        let mut tables = self.fault_tables.clone();
        tables.push(table.clone());
        let text = self.session_text_with(at, &tables);
        let plan = match crate::scenario::parse("lab", &text) {
            Ok(p) => p,
            Err(e) => {
                out.push(format!("lab: {}", e.message));
                if let Some(h) = e.hint {
                    out.push(format!("  hint: {h}"));
                }
                return Ok(());
            }
        };
        let known = self.world.plan.faults.len();
        for (t, f) in plan.faults[known..].iter().cloned() {
            self.world.inject(t, Step::Fault(f));
        }
        self.fault_tables = tables;
        self.advance(at)
    }

    /// The session as a scenario, stopped at `stop`, with these faults.
    fn session_text_with(&self, stop: Micros, faults: &[toml::Table]) -> String {
        record::session_file(&self.deployment, &self.world.plan, stop, faults)
    }

    /// Writes the session so far to `path`, then replays it and says
    /// whether the replay's trace is the session's, byte for byte.
    fn save(&mut self, path: &Path) -> Result<RunOutcome, String> {
        let stop = self.world.sim.now().max(1);
        let text = self.session_text_with(stop, &self.fault_tables);
        crate::out::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("cannot save the session to {}: {e}", path.display()))?;
        let live = render_trace(&self.world, Format::Text, self.seed);
        let outcome = crate::scenario::parse(&path.display().to_string(), &text)
            .map_err(|e| format!("saved {}, but it does not parse: {e}", path.display()))
            .and_then(|plan| {
                crate::world::run(&plan, plan.seed)
                    .map_err(|e| format!("saved {}, but its replay failed: {e}", path.display()))
            })?;
        let replayed = render_trace(&outcome.world, Format::Text, self.seed);
        if replayed != live {
            let line = (live.lines().zip(replayed.lines()))
                .position(|(a, b)| a != b)
                .unwrap_or(live.lines().count().min(replayed.lines().count()));
            return Err(format!(
                "saved {}, but its replay differs from the session at trace line {} (please report this: {})",
                path.display(),
                line + 1,
                self.file_name
            ));
        }
        crate::outln!(
            "lab: saved {} ({} events to {}); `redsim run {}` replays it to the same trace",
            path.display(),
            self.world.trace().events.len(),
            Secs(stop),
            path.display()
        );
        Ok(outcome)
    }
}
