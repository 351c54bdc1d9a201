//! The lab's sockets: a listener on 127.0.0.1 for every server of the
//! deployment, and the outside clients connected to them. Bytes in are
//! read into a query buffer (as a Redis server reads them) and become
//! command lines; frames out are written back as the simulated server sent
//! them. Nothing here knows the simulation.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::proto::request::{QueryBuffer, Request};

/// A node's listening socket.
pub struct Listener {
    pub node: usize,
    pub addr: SocketAddr,
    pub socket: TcpListener,
}

impl Listener {
    /// Listens on 127.0.0.1:`port` for `node`.
    pub fn bind(node: usize, port: u16) -> std::io::Result<Self> {
        let socket = TcpListener::bind(("127.0.0.1", port))?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            node,
            addr: socket.local_addr()?,
            socket,
        })
    }

    /// A connection waiting to be accepted, if any.
    pub fn accept(&self) -> std::io::Result<Option<TcpStream>> {
        match self.socket.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true)?;
                stream.set_nodelay(true)?;
                Ok(Some(stream))
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One outside client: its socket, what it sent and has not been read as a
/// request yet, and what waits to be written to it.
pub struct Client {
    pub session: String,
    pub node: usize,
    pub stream: TcpStream,
    query: QueryBuffer,
    out: Vec<u8>,
    /// The simulated server closed the connection: write what is left,
    /// then close.
    pub closing: bool,
    /// The socket is finished with (closed by either side).
    pub done: bool,
}

/// What reading a client's socket gave.
#[derive(Debug, PartialEq)]
pub enum Input {
    /// A command's arguments (as text: arguments that are not UTF-8 are
    /// read lossily).
    Command(Vec<String>),
    /// A protocol error: the reply to send before closing.
    ProtocolError(String),
    /// The client hung up.
    Hangup,
}

/// Bytes read from a socket at once (Redis's PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;

impl Client {
    pub fn new(session: String, node: usize, stream: TcpStream) -> Self {
        Self {
            session,
            node,
            stream,
            query: QueryBuffer::default(),
            out: Vec::new(),
            closing: false,
            done: false,
        }
    }

    /// Reads what the socket has and returns every whole request in it.
    pub fn read(&mut self) -> Vec<Input> {
        let mut inputs = Vec::new();
        let mut buf = [0u8; READ_CHUNK];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    inputs.push(Input::Hangup);
                    break;
                }
                Ok(n) => self.query.feed(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    inputs.push(Input::Hangup);
                    break;
                }
            }
        }
        let mut requests = Vec::new();
        while let Some(r) = self.query.next(false) {
            requests.push(r);
        }
        let mut out: Vec<Input> = requests
            .into_iter()
            .map(|r| match r {
                Request::Command(args) => Input::Command(
                    args.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                ),
                Request::Error(e) => Input::ProtocolError(e),
            })
            .collect();
        out.extend(inputs);
        out
    }

    /// Queues bytes for the client.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }

    /// Writes what the socket takes now; closes it once a closing
    /// connection has nothing left to write.
    pub fn flush(&mut self) {
        while !self.out.is_empty() && !self.done {
            match self.stream.write(&self.out) {
                Ok(0) => self.done = true,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => self.done = true,
            }
        }
        if self.closing && self.out.is_empty() {
            let _ = self.stream.shutdown(std::net::Shutdown::Both);
            self.done = true;
        }
    }
}
