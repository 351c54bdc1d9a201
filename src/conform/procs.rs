//! The real processes a conformance run started, and only those: each is
//! tracked by its PID, signalled by PID, and killed and reaped when the
//! registry is dropped, so a failing step never leaves a server behind.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// How to start one real process again and again (restarts reuse it).
#[derive(Clone, Debug)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Environment added to the harness's (libfaketime's, for a process
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

impl Procs {
    /// Starts the process of node `n`. Redis writes its log in UTC so its
    /// timestamps line up with the harness's clock.
    pub fn spawn(&mut self, n: usize, l: &Launch) -> Result<u32, String> {
        let child = Command::new(&l.program)
            .args(&l.args)
            .env("TZ", "UTC")
            .envs(l.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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

    /// Sends `signal` (KILL, TERM, STOP, CONT) to node `n`'s process.
    pub fn signal(&mut self, n: usize, signal: &str) -> Result<(), String> {
        let pid = self
            .pid(n)
            .ok_or_else(|| format!("node {n} is not running"))?;
        let ok = Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .status()
            .map_err(|e| format!("kill -s {signal} {pid}: {e}"))?
            .success();
        if !ok {
            return Err(format!("kill -s {signal} {pid} failed"));
        }
        Ok(())
    }

    /// Waits (up to `timeout`) for node `n`'s process to exit, then forgets
    /// it; SIGKILLs it if it is still there.
    pub fn reap(&mut self, n: usize, timeout: std::time::Duration) {
        let Some(i) = self.children.iter().position(|(i, _)| *i == n) else {
            return;
        };
        let (_, mut child) = self.children.remove(i);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                _ => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// SIGKILLs every process still running (a stopped one included) and
    /// reaps it.
    pub fn stop_all(&mut self) {
        self.held.clear();
        for (_, mut c) in self.children.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        self.stop_all();
    }
}
