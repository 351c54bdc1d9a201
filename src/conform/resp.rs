//! A minimal synchronous RESP client over `std::net::TcpStream`: enough to
//! send commands to real Redis and Sentinel processes and read replies and
//! pub/sub pushes, as the model's own reply type ([`Frame`], decoded by
//! [`read_frame`]). A few dozen lines keep the harness free of an async
//! runtime and of a client crate whose reconnect logic would hide what the
//! workload is meant to observe.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::endpoint::Endpoint;
pub use crate::proto::resp::{Frame, read_frame};

/// A reply's text as the harness reads it: a status, a bulk string or an
/// integer (not an error, nor a nil).
pub fn text(f: &Frame) -> Option<String> {
    match f {
        Frame::Simple(s) | Frame::Bulk(Some(s)) | Frame::Verbatim { text: s, .. } => {
            Some(s.clone())
        }
        Frame::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// One connection. Every read and write has the timeout it was opened with.
pub struct Conn {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Conn {
    pub fn connect(to: &Endpoint, timeout: Duration) -> std::io::Result<Conn> {
        let stream = to.connect(timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            stream,
        })
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.stream.set_read_timeout(t)
    }

    /// Sends one command without waiting for its reply (pipelining).
    pub fn send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        self.stream.write_all(&encode(args))
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> std::io::Result<Frame> {
        let raw: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&raw)?;
        self.read()
    }

    /// Reads one reply (or one pub/sub push).
    pub fn read(&mut self) -> std::io::Result<Frame> {
        read_frame(&mut self.reader)
    }

    /// The stream to write commands to and the reader of the replies, for
    /// a reader of its own on another thread.
    pub fn into_parts(self) -> (TcpStream, BufReader<TcpStream>) {
        (self.stream, self.reader)
    }

    /// Closes both directions now, so the server sees the disconnect.
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_and_reads_text() {
        assert_eq!(encode(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(text(&Frame::Simple("OK".into())).as_deref(), Some("OK"));
        assert_eq!(text(&Frame::bulk("abc")).as_deref(), Some("abc"));
        assert_eq!(text(&Frame::Int(12)).as_deref(), Some("12"));
        assert_eq!(text(&Frame::Error("NOAUTH x".into())), None);
        assert_eq!(text(&Frame::Bulk(None)), None);
    }
}
