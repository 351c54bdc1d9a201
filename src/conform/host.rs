//! Host faults on real processes (`fork-fail`, `disk-full`): a server the
//! plan faults runs with a small preloaded library (`host_faults.c`, built
//! here with the system's C compiler, as the clock shim is) that fails
//! fork() with ENOMEM and writes to regular files with ENOSPC while the
//! harness has the matching bit set in a file of that process's own. The
//! server's log is spared, as a log on another disk would be.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::redis::host_faults::{HostFault, HostFaults, RdbDamage};
use crate::scenario::{Fault, Plan};

use super::preload::{Library, process, rewrite, targets};
use super::topology::RealNode;

const SHIM_SOURCE: &str = include_str!("host_faults.c");

/// The RDB file a server loads: `dbfilename`, which the harness leaves at
/// its default, in the server's `dir`.
const DBFILENAME: &str = "dump.rdb";

/// Why the plan's host fault `a` cannot be caused in real processes here.
pub fn unsupported(a: &Fault) -> Option<String> {
    if !matches!(a, Fault::Host { .. } | Fault::HostEnd { .. })
        || super::preload::compiler().is_some()
    {
        return None;
    }
    Some("fork and disk faults need a C compiler (cc) to build redsim's host shim".into())
}

/// The control file of each server the plan faults, and its open windows.
#[derive(Debug, Default)]
pub struct HostShims {
    files: BTreeMap<usize, (PathBuf, HostFaults)>,
}

impl HostShims {
    /// Builds the shim under `root` if the plan has host faults, and
    /// preloads it into every server they hit, with nothing failing yet.
    pub fn prepare(plan: &Plan, nodes: &mut [RealNode], root: &Path) -> Result<Self, String> {
        let mut files = BTreeMap::new();
        let mut shim = Library::new(root, "host_faults", SHIM_SOURCE);
        let faulted = targets(plan, |a| match *a {
            Fault::Host { node, .. } => Some(node),
            _ => None,
        });
        for node in faulted {
            let r = process(plan, nodes, node)?;
            let initial = control(HostFaults::default());
            let file = shim.attach(r, "host-faults", &initial, "REDSIM_HOST_FAULTS")?;
            let spare = canonical_path(&r.log)?;
            r.launch
                .env
                .push(("REDSIM_HOST_FAULTS_SPARE".into(), spare));
            let rdb = canonical_path(&r.dir.join(DBFILENAME))?;
            r.launch.env.push(("REDSIM_HOST_FAULTS_RDB".into(), rdb));
            files.insert(node, (file, HostFaults::default()));
        }
        Ok(Self { files })
    }

    /// A window of `fault` opens (`on`) or closes on `node`'s host.
    pub fn set(&mut self, node: usize, fault: HostFault, on: bool) -> Result<(), String> {
        let (file, faults) = self
            .files
            .get_mut(&node)
            .ok_or("host fault on a process started without the host shim")?;
        faults.set(fault, on);
        rewrite(file, &control(*faults))
    }
}

/// The shim's `struct control` for `faults`: its bits, 4 bytes unused,
/// the fsync time in µs, written together (a reader that sees the bit an
/// instant before the time stalls one fsync for no time).
fn control(faults: HostFaults) -> [u8; 16] {
    let bits = u32::from(faults.fork_fails())
        | u32::from(faults.disk_full()) << 1
        | u32::from(faults.fsync_time() > 0) << 2
        | u32::from(faults.rdb_damage() == Some(RdbDamage::Signature)) << 3
        | u32::from(faults.rdb_damage() == Some(RdbDamage::Checksum)) << 4
        | u32::from(faults.fsync_fails()) << 5;
    let mut c = [0u8; 16];
    c[..4].copy_from_slice(&bits.to_ne_bytes());
    c[8..].copy_from_slice(&faults.fsync_time().to_ne_bytes());
    c
}

/// A file's path as /proc/self/fd shows it once the server opened it: its
/// directory resolved (the file itself may not exist yet).
fn canonical_path(file: &Path) -> Result<String, String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    let name = file.file_name().ok_or("a file has a name")?;
    Ok(dir.join(name).display().to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;

    /// The shim and a probe program built from `probe` in a fresh directory
    /// `name`: (directory, shim library, probe), or `None` without a C
    /// compiler.
    fn shim_and_probe(name: &str, probe: &str) -> Option<(PathBuf, PathBuf, PathBuf)> {
        let Some(cc) = super::super::preload::compiler() else {
            crate::errln!("skipped: no C compiler");
            return None;
        };
        let root = std::env::temp_dir().join(format!("redsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("scratch directory");
        let lib = super::super::preload::build_library(&root, "host_faults", SHIM_SOURCE)
            .expect("the shim builds");
        let probe_src = root.join("probe.c");
        std::fs::write(&probe_src, probe).expect("probe source");
        let bin = root.join("probe");
        let built = Command::new(cc)
            .arg("-o")
            .arg(&bin)
            .arg(&probe_src)
            .status()
            .expect("cc runs");
        assert!(built.success());
        Some((root, lib, bin))
    }

    /// The shim, built and preloaded into a probe, fails fork() and writes
    /// to files by the bits of the control file, spares the named log, and
    /// leaves pipes alone.
    #[test]
    fn the_shim_fails_fork_and_file_writes_by_the_control_file() {
        // Prints: fork's errno (0 if it worked), then for a data file, the
        // spared log and a pipe: write(2)'s errno, then for the data file
        // through stdio: fwrite of 10 bytes and fflush's errno; then
        // fsync's errno on the data file and on the log; then whether an
        // fdatasync of the data file was slow.
        let Some((root, lib, probe)) = shim_and_probe(
            "host-shim",
            r#"#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <time.h>
static long ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000 + t.tv_nsec / 1000000; }
static int w(int fd) { errno = 0; return write(fd, "x", 1) < 0 ? errno : 0; }
int main(int argc, char **argv) {
    errno = 0; pid_t p = fork(); int fe = p < 0 ? errno : 0;
    if (p == 0) _exit(0); if (p > 0) waitpid(p, 0, 0);
    int data = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0600);
    int log = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0600);
    int fds[2]; pipe(fds);
    FILE *f = fopen(argv[1], "a"); errno = 0;
    size_t n = fwrite("0123456789", 1, 10, f); int fl = fflush(f) ? errno : 0;
    errno = 0; int sd = fsync(data) ? errno : 0;
    errno = 0; int sl = fsync(log) ? errno : 0;
    long t0 = ms(); fdatasync(data); long took = ms() - t0;
    printf("%d %d %d %d %zu %d %d %d %s\n", fe, w(data), w(log), w(fds[1]), n, fl, sd, sl,
           took >= 200 ? "slow" : "fast");
    return 0;
}
"#,
        ) else {
            return;
        };
        let control = root.join("control");
        let log = root.join("server.log");
        let spare = canonical_path(&log).expect("a canonical path");
        let run = |bits: u32| -> String {
            let mut c = [0u8; 16];
            c[..4].copy_from_slice(&bits.to_ne_bytes());
            c[8..].copy_from_slice(&200_000u64.to_ne_bytes());
            std::fs::write(&control, c).expect("control file");
            let out = Command::new(&probe)
                .arg(root.join("data"))
                .arg(&log)
                .env("LD_PRELOAD", &lib)
                .env("REDSIM_HOST_FAULTS", &control)
                .env("REDSIM_HOST_FAULTS_SPARE", &spare)
                .output()
                .expect("the probe runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        // Linux's numbers (asm-generic/errno-base.h).
        let (eio, enomem, enospc) = (5, 12, 28);
        // Only a stalled disk's fsync is slow: it sleeps at least its time
        // (no bound is put on a fast one).
        let fast = |s: String| s.rsplit_once(' ').map_or(s.clone(), |(a, _)| a.to_string());
        assert_eq!(fast(run(0)), "0 0 0 0 10 0 0 0");
        assert_eq!(fast(run(1)), format!("{enomem} 0 0 0 10 0 0 0"));
        // Ten bytes fit stdio's buffer; the flush is where ENOSPC comes.
        assert_eq!(fast(run(2)), format!("0 {enospc} 0 0 10 {enospc} 0 0"));
        assert_eq!(
            fast(run(3)),
            format!("{enomem} {enospc} 0 0 10 {enospc} 0 0")
        );
        assert_eq!(run(4), "0 0 0 0 10 0 0 0 slow");
        // A failing fsync fails at once, on the data file only (and the
        // fdatasync after it is not slowed either).
        assert_eq!(run(32 | 4), format!("0 0 0 0 10 0 {eio} 0 fast"));
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The shim damages what fread() returns from the named RDB file: the
    /// signature's first byte (bit 3) or the trailing 8 bytes (bit 4),
    /// whatever the read sizes, and leaves other files alone.
    #[test]
    fn the_shim_damages_what_the_named_rdb_file_reads_back() {
        // Reads the file named by argv[1] in reads of 9, 5 and the rest
        // (rdbLoadRio() reads the signature's 9 bytes first), and prints it.
        let Some((root, lib, probe)) = shim_and_probe(
            "rdb-shim",
            r#"#include <stdio.h>
int main(int argc, char **argv) {
    char b[64] = {0}; FILE *f = fopen(argv[1], "r");
    size_t n = fread(b, 9, 1, f) * 9; n += fread(b + n, 1, 5, f);
    n += fread(b + n, 1, sizeof b - 1 - n, f);
    fwrite(b, 1, n, stdout);
    return 0;
}
"#,
        ) else {
            return;
        };
        let control = root.join("control");
        let rdb = root.join("dump.rdb");
        let other = root.join("other.rdb");
        let content = b"REDIS0010body-of-the-file12345678";
        std::fs::write(&rdb, content).expect("rdb");
        std::fs::write(&other, content).expect("other");
        let named = canonical_path(&rdb).expect("a canonical path");
        let read = |bits: u32, file: &Path| -> Vec<u8> {
            let mut c = [0u8; 16];
            c[..4].copy_from_slice(&bits.to_ne_bytes());
            std::fs::write(&control, c).expect("control file");
            Command::new(&probe)
                .arg(file)
                .env("LD_PRELOAD", &lib)
                .env("REDSIM_HOST_FAULTS", &control)
                .env("REDSIM_HOST_FAULTS_RDB", &named)
                .output()
                .expect("the probe runs")
                .stdout
        };
        assert_eq!(read(0, &rdb), content);
        let mut signature = content.to_vec();
        signature[0] = b'X';
        assert_eq!(read(8, &rdb), signature);
        let mut checksum = content.to_vec();
        let len = checksum.len();
        checksum[len - 8..].iter_mut().for_each(|b| *b = !*b);
        assert_eq!(read(16, &rdb), checksum);
        assert_eq!(read(8 | 16, &other), content);
        let _ = std::fs::remove_dir_all(&root);
    }
}
