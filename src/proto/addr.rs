//! The address book every process shares: each node's name, host and
//! port, as the scenario assigned them.

use crate::sim::net::NodeId;

/// Names and addresses of every process, shared by all of them.
#[derive(Debug, Default)]
pub struct Directory {
    pub names: Vec<String>,
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
}

impl Directory {
    pub fn addr(&self, node: NodeId) -> String {
        format!(
            "{}:{}",
            self.hosts[node as usize], self.ports[node as usize]
        )
    }

    /// The node listening at `host:port`, as a REPLICAOF names it.
    pub fn lookup(&self, host: &str, port: u16) -> Option<NodeId> {
        (0..self.hosts.len())
            .find(|&i| self.hosts[i] == host && self.ports[i] == port)
            .map(|i| i as NodeId)
    }
}
