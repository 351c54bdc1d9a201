//! Where the harness reaches a real server: an address, and the network
//! namespace to connect from when the server runs in one.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How the harness or a client reaches one server.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
    /// Connect from inside this network namespace (its `/run/netns` path).
    pub netns: Option<Arc<Path>>,
}

impl Endpoint {
    pub fn loopback(port: u16) -> Self {
        Self {
            ip: Ipv4Addr::LOCALHOST,
            port,
            netns: None,
        }
    }

    /// Opens a TCP connection, from inside the endpoint's namespace if it
    /// has one (a short-lived thread enters it; the socket stays there).
    pub fn connect(&self, timeout: Duration) -> std::io::Result<TcpStream> {
        let addr = SocketAddr::from((self.ip, self.port));
        match &self.netns {
            None => TcpStream::connect_timeout(&addr, timeout),
            Some(ns) => std::thread::scope(|s| {
                s.spawn(|| {
                    enter_path(ns)?;
                    TcpStream::connect_timeout(&addr, timeout)
                })
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("connect thread panicked")))
            }),
        }
    }
}

/// Moves the calling thread into the network namespace at `path`; sockets
/// it opens from then on live there, and so do threads it spawns.
pub fn enter_path(path: &Path) -> std::io::Result<()> {
    let f = std::fs::File::open(path)?;
    rustix::thread::move_into_link_name_space(
        std::os::fd::AsFd::as_fd(&f),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .map_err(std::io::Error::from)
}
