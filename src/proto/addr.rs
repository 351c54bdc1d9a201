//! The address book every process shares: each node's name, host and
//! port, as the scenario assigned them, and the address the host
//! publishes it at, if any (`[publish]`, as `docker run -p` publishes a
//! container's port: whoever connects there reaches the node).

use crate::sim::net::NodeId;

/// Names and addresses of every process, shared by all of them.
#[derive(Debug, Default)]
pub struct Directory {
    pub names: Vec<String>,
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    /// Each node's published address, if the deployment publishes it
    /// (empty: none is).
    pub published: Vec<Option<(String, u16)>>,
}

impl Directory {
    pub fn addr(&self, node: NodeId) -> String {
        format!(
            "{}:{}",
            self.hosts[node as usize], self.ports[node as usize]
        )
    }

    /// The node reached at `host:port`, as a REPLICAOF names it: the one
    /// listening there, else the one published there.
    pub fn lookup(&self, host: &str, port: u16) -> Option<NodeId> {
        (0..self.hosts.len())
            .find(|&i| self.hosts[i] == host && self.ports[i] == port)
            .or_else(|| {
                (self.published.iter())
                    .position(|p| p.as_ref().is_some_and(|(h, p)| h == host && *p == port))
            })
            .map(|i| i as NodeId)
    }

    /// The address a node is known by in its deployment: where it is
    /// published, if it is (its servers announce that address), else
    /// where it listens.
    pub fn known_as(&self, node: NodeId) -> (&str, u16) {
        match self.published.get(node as usize) {
            Some(Some((h, p))) => (h.as_str(), *p),
            _ => (
                self.hosts[node as usize].as_str(),
                self.ports[node as usize],
            ),
        }
    }
}
