//! The real processes a conformance run started, and only those: each is
//! tracked by its PID and runs in a process group of its own (so a
//! terminal's Ctrl-C reaches the harness, not the servers, and the harness
//! decides how they stop). Scripted faults signal the process by PID; when
//! the registry is dropped (on any return, error or panic) every process
//! still running gets SIGCONT and SIGKILL, to its whole group (a fork it
//! made for BGSAVE included), and is reaped, so no run leaves a server
//! behind, stopped or not.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// How to start one real process again and again (restarts reuse it).
#[derive(Clone, Debug)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Environment added to the harness's (the clock shim's, for a process
    /// whose clock the scenario jumps).
    pub env: Vec<(String, String)>,
}

/// Running children by node index, and connections kept open until the
/// end (a `DEBUG SLEEP` still waiting for its reply).
#[derive(Default)]
pub struct Procs {
    children: Vec<(usize, Child)>,
    held: Vec<super::resp::Conn>,
}

/// A signal a scripted fault sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sig {
    Kill,
    Term,
    Stop,
    Cont,
}

impl Sig {
    fn raw(self) -> Signal {
        match self {
            Sig::Kill => Signal::KILL,
            Sig::Term => Signal::TERM,
            Sig::Stop => Signal::STOP,
            Sig::Cont => Signal::CONT,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sig::Kill => "SIGKILL",
            Sig::Term => "SIGTERM",
            Sig::Stop => "SIGSTOP",
            Sig::Cont => "SIGCONT",
        }
    }
}

/// Marks every descriptor redsim inherited (beyond stdio) close-on-exec,
/// so the servers it starts begin with the descriptors a server started
/// from a shell has: their fds (CLIENT LIST's `fd`) then do not depend on
/// what the environment that started redsim left open. redsim's own
/// descriptors are close-on-exec already.
pub fn close_inherited_fds_on_exec() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: the descriptor is open (listed just now) and only its
        // flags change; a descriptor closed in between gives EBADF, ignored.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Ok(flags) = rustix::io::fcntl_getfd(fd) {
            let _ = rustix::io::fcntl_setfd(fd, flags | rustix::io::FdFlags::CLOEXEC);
        }
    }
}

impl Procs {
    /// Starts the process of node `n` in a process group of its own, its
    /// standard error appended to `stderr` if given. Redis writes its log in UTC so
    /// its timestamps line up with the harness's clock.
    pub fn spawn(
        &mut self,
        n: usize,
        l: &Launch,
        stderr: Option<&std::path::Path>,
    ) -> Result<u32, String> {
        let err = match stderr {
            Some(p) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map(Stdio::from)
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?,
            None => Stdio::null(),
        };
        let mut command = Command::new(&l.program);
        // SAFETY: between fork and exec the child only makes the prctl(2)
        // system call, which is async-signal-safe.
        unsafe {
            // If redsim itself dies by SIGKILL (nothing else escapes the
            // registry's Drop), the kernel kills what it started too.
            command.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
                    .map_err(std::io::Error::from)
            });
        }
        let child = command
            .args(&l.args)
            .env("TZ", "UTC")
            .envs(l.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", l.program.display()))?;
        let pid = child.id();
        self.children.push((n, child));
        Ok(pid)
    }

    /// Keeps a connection open until the processes are stopped.
    pub fn hold(&mut self, c: super::resp::Conn) {
        self.held.push(c);
    }

    pub fn pid(&self, n: usize) -> Option<u32> {
        self.children
            .iter()
            .find(|(i, _)| *i == n)
            .map(|(_, c)| c.id())
    }

    /// How node `n`'s process ended, if it has (it is then forgotten).
    pub fn exited(&mut self, n: usize) -> Option<std::process::ExitStatus> {
        let i = self.children.iter().position(|(i, _)| *i == n)?;
        let status = self.children[i].1.try_wait().ok()??;
        self.children.remove(i);
        Some(status)
    }

    /// Sends `sig` to node `n`'s process (by PID: only the server itself,
    /// as a fault on a real host would).
    pub fn signal(&mut self, n: usize, sig: Sig) -> Result<(), String> {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(i, _)| *i == n)
            .ok_or_else(|| format!("node {n} is not running"))?;
        // A child already reaped by the kernel but not by us is a zombie:
        // its PID is still ours, so the signal cannot reach anyone else.
        let pid = pid_of(child).ok_or_else(|| format!("node {n} has no PID"))?;
        rustix::process::kill_process(pid, sig.raw())
            .map_err(|e| format!("{} to {}: {e}", sig.name(), child.id()))
    }

    /// Waits (up to `timeout`, less if a stop is requested) for node `n`'s
    /// process to exit, then forgets it; kills it if it is still there.
    pub fn reap(&mut self, n: usize, timeout: Duration) {
        let Some(i) = self.children.iter().position(|(i, _)| *i == n) else {
            return;
        };
        let (_, mut child) = self.children.remove(i);
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline && !crate::interrupt::requested() => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => break,
            }
        }
        stop(&mut child);
    }

    /// Stops every process still running (a stopped one included): SIGCONT
    /// and SIGKILL to its process group, then reaps it.
    pub fn stop_all(&mut self) {
        self.held.clear();
        for (_, mut c) in self.children.drain(..) {
            stop(&mut c);
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn pid_of(child: &Child) -> Option<Pid> {
    Pid::from_raw(i32::try_from(child.id()).ok()?)
}

/// SIGCONT and SIGKILL to `child`'s process group (it leads one; it is
/// not reaped yet, so the group's ID is still its own), then reaps it.
fn stop(child: &mut Child) {
    if let Ok(None) = child.try_wait()
        && let Some(pid) = pid_of(child)
    {
        let _ = rustix::process::kill_process_group(pid, Signal::CONT);
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gone, or a zombie waiting for init: not running any more.
    fn gone(pid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next());
            if matches!(state, None | Some('Z')) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A panic unwinds through the registry: the process (stopped, in its
    /// own process group) and a child it forked are killed and reaped.
    #[test]
    fn a_panic_stops_every_process_and_its_forks() {
        let dir = super::super::scratch::TempRoot::create().unwrap();
        let child_pid = dir.path().join("child-pid");
        let script = format!("sleep 60 & echo $! > {}; wait", child_pid.display());
        let launch = Launch {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script],
            env: Vec::new(),
        };
        let mut procs = Procs::default();
        let pid = procs.spawn(0, &launch, None).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let forked: u32 = loop {
            if let Some(p) = std::fs::read_to_string(&child_pid)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break p;
            }
            assert!(Instant::now() < deadline, "the shell never forked");
            std::thread::sleep(Duration::from_millis(10));
        };
        let group = rustix::process::getpgid(Pid::from_raw(pid as i32)).unwrap();
        assert_eq!(
            group.as_raw_nonzero().get() as u32,
            pid,
            "not its own group"
        );
        procs.signal(0, Sig::Stop).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _procs = procs;
            panic!("a failing step");
        }));
        assert!(r.is_err());
        assert!(gone(pid), "{pid} still runs");
        assert!(gone(forked), "its fork {forked} still runs");
    }
}
