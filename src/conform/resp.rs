//! A minimal synchronous RESP2 client over `std::net::TcpStream`: enough to
//! send commands to real Redis and Sentinel processes and read replies and
//! pub/sub pushes. A few dozen lines keep the harness free of an async
//! runtime and of a client crate whose reconnect logic would hide what the
//! workload is meant to observe.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::endpoint::Endpoint;

/// A decoded RESP2 reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text: status, bulk string or integer.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(s) => Some(s.clone()),
            Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            Reply::Int(i) => Some(i.to_string()),
            _ => None,
        }
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
    pub fn call(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        let raw: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&raw)?;
        self.read()
    }

    /// Reads one reply (or one pub/sub push).
    pub fn read(&mut self) -> std::io::Result<Reply> {
        read_reply(&mut self.reader)
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

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut s = String::new();
    if r.read_line(&mut s)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !s.ends_with("\r\n") {
        return Err(bad("reply line without CRLF"));
    }
    s.truncate(s.len() - 2);
    Ok(s)
}

fn int(s: &str) -> std::io::Result<i64> {
    s.parse().map_err(|_| bad(format!("bad integer `{s}`")))
}

/// Reads one RESP2 reply from `r`.
pub fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let l = line(r)?;
    let (tag, rest) = l.split_at(l.len().min(1));
    match tag {
        "+" => Ok(Reply::Status(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        ":" => Ok(Reply::Int(int(rest)?)),
        "$" => {
            let n = int(rest)?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            let mut buf = vec![0u8; n as usize + 2];
            r.read_exact(&mut buf)?;
            buf.truncate(n as usize);
            Ok(Reply::Bulk(Some(buf)))
        }
        "*" => {
            let n = int(rest)?;
            if n < 0 {
                return Ok(Reply::Array(None));
            }
            let mut items = Vec::with_capacity(n as usize);
            for _ in 0..n {
                items.push(read_reply(r)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(bad(format!("unexpected reply `{l}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        assert_eq!(encode(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        let mut r: &[u8] = b"*3\r\n+OK\r\n-READONLY x\r\n$-1\r\n:12\r\n$3\r\nabc\r\n";
        assert_eq!(
            read_reply(&mut r).unwrap(),
            Reply::Array(Some(vec![
                Reply::Status("OK".into()),
                Reply::Error("READONLY x".into()),
                Reply::Bulk(None)
            ]))
        );
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Int(12));
        assert_eq!(read_reply(&mut r).unwrap().text().as_deref(), Some("abc"));
        assert!(read_reply(&mut r).is_err());
        let mut bad: &[u8] = b"?x\r\n";
        assert!(read_reply(&mut bad).is_err());
    }
}
