//! The lab's live page over HTTP, on a loopback address only: `GET /`
//! serves the dashboard of the session so far, `GET /events` streams its
//! updates as Server-Sent Events, and `POST /action` takes a prompt line
//! (`kill master`, `heal`, `speed 10`) from the page's buttons. Every other
//! request gets one response and the connection closes; the event stream
//! stays open. std's sockets in non-blocking mode, polled with the rest of
//! the lab's input: a page and a few requests a second need no more.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};

use rustix::event::{PollFd, PollFlags};

/// The longest request head and body the page sends.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 4 * 1024;

/// A request the lab answers.
#[derive(Debug, PartialEq)]
pub enum Request {
    Page,
    Events,
    /// A prompt line from the page.
    Action(String),
}

pub struct Http {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub conns: Vec<Conn>,
    next_id: u64,
}

pub struct Conn {
    pub id: u64,
    pub stream: TcpStream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// Reading the request, answered (closes once written), or an open
    /// event stream.
    state: State,
    done: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Reading,
    Answered,
    Events,
}

impl Http {
    /// Listens on `addr`, which must be a loopback address: the page can
    /// kill processes, so it is never offered to the network.
    pub fn bind(addr: &str) -> Result<Http, String> {
        let parsed: SocketAddr = addr.parse().map_err(|_| {
            format!("--http `{addr}`: expected an address and port, e.g. 127.0.0.1:8080")
        })?;
        if !parsed.ip().is_loopback() {
            return Err(format!(
                "--http `{addr}`: the lab's page can kill and partition the deployment, so it listens only on a loopback address (127.0.0.1, ::1)"
            ));
        }
        let listener = TcpListener::bind(parsed)
            .map_err(|e| format!("--http: cannot listen on {parsed}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("--http: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("--http: {e}"))?;
        Ok(Http {
            listener,
            addr,
            conns: Vec::new(),
            next_id: 0,
        })
    }

    /// Takes every waiting connection.
    pub fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            self.next_id += 1;
            self.conns.push(Conn {
                id: self.next_id,
                stream,
                inbuf: Vec::new(),
                out: Vec::new(),
                state: State::Reading,
                done: false,
            });
        }
    }

    /// Reads what connection `i` sent; the request, once whole.
    pub fn read(&mut self, i: usize) -> Option<(u64, Request)> {
        let c = &mut self.conns[i];
        let mut buf = [0u8; 4096];
        loop {
            match c.stream.read(&mut buf) {
                Ok(0) => {
                    c.done = true;
                    return None;
                }
                Ok(n) => c.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    c.done = true;
                    return None;
                }
            }
        }
        if c.state != State::Reading {
            c.inbuf.clear();
            return None;
        }
        match parse(&c.inbuf) {
            Parsed::Partial => None,
            Parsed::Bad(status, why) => {
                let id = c.id;
                self.respond(id, status, "text/plain; charset=utf-8", why.as_bytes());
                None
            }
            Parsed::Request(r) => Some((c.id, r)),
        }
    }

    fn conn(&mut self, id: u64) -> Option<&mut Conn> {
        self.conns.iter_mut().find(|c| c.id == id)
    }

    /// Answers a request; the connection closes once the answer is out.
    pub fn respond(&mut self, id: u64, status: &str, content_type: &str, body: &[u8]) {
        if let Some(c) = self.conn(id) {
            c.out.extend_from_slice(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            c.out.extend_from_slice(body);
            c.state = State::Answered;
        }
    }

    /// Turns a request for `/events` into an open event stream.
    pub fn start_events(&mut self, id: u64) {
        if let Some(c) = self.conn(id) {
            c.out.extend_from_slice(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n",
            );
            c.state = State::Events;
        }
    }

    /// Sends `data` (one line of JSON) on every open event stream.
    pub fn broadcast(&mut self, data: &str) {
        for c in self.conns.iter_mut().filter(|c| c.state == State::Events) {
            c.out.extend_from_slice(b"data: ");
            c.out.extend_from_slice(data.as_bytes());
            c.out.extend_from_slice(b"\n\n");
        }
    }

    /// Adds what to wait for: a connection on the listener, and input (or
    /// room for output) on each connection, in that order.
    pub fn poll_fds<'a>(&'a self, fds: &mut Vec<PollFd<'a>>) {
        fds.push(PollFd::new(&self.listener, PollFlags::IN));
        for c in &self.conns {
            let mut flags = PollFlags::IN;
            if c.wants_write() {
                flags |= PollFlags::OUT;
            }
            fds.push(PollFd::new(&c.stream, flags));
        }
    }

    /// Given which of [`Http::poll_fds`]'s entries are ready, takes the
    /// waiting connections and returns the ready ones' ids (by id: answering
    /// one may drop another).
    pub fn ready(&mut self, ready: &[usize]) -> Vec<u64> {
        if ready.first() == Some(&0) {
            self.accept();
        }
        (ready.iter().filter(|&&j| j > 0))
            .filter_map(|&j| self.conns.get(j - 1).map(|c| c.id))
            .collect()
    }

    /// Whether some page is following the run.
    pub fn has_followers(&self) -> bool {
        self.conns.iter().any(|c| c.state == State::Events)
    }

    /// Writes what it can without blocking; drops finished connections.
    pub fn flush(&mut self) {
        for c in &mut self.conns {
            while !c.out.is_empty() && !c.done {
                match c.stream.write(&c.out) {
                    Ok(0) => c.done = true,
                    Ok(n) => {
                        c.out.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => c.done = true,
                }
            }
            if c.out.is_empty() && c.state == State::Answered {
                c.done = true;
            }
        }
        self.conns.retain(|c| !c.done);
    }
}

impl Conn {
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }
}

enum Parsed {
    Partial,
    Bad(&'static str, String),
    Request(Request),
}

/// Reads an HTTP/1.1 request: its line, its headers (only Content-Length
/// matters) and, for a POST, its body.
fn parse(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Parsed::Bad(
                "431 Request Header Fields Too Large",
                format!("a request head is at most {MAX_HEAD} bytes\n"),
            )
        } else {
            Parsed::Partial
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let header = |name: &str| {
        (headers.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let length = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Parsed::Bad(
            "413 Content Too Large",
            format!("an action is at most {MAX_BODY} bytes\n"),
        );
    }
    let body = &buf[end + 4..];
    if body.len() < length {
        return Parsed::Partial;
    }
    let path = path.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/") => Parsed::Request(Request::Page),
        ("GET", "/events") => Parsed::Request(Request::Events),
        // Another site's page may post here too (the browser sends its
        // Origin): only the lab's own page may act.
        ("POST", "/action") if header("origin").is_some_and(|o| !is_loopback_origin(o)) => {
            Parsed::Bad(
                "403 Forbidden",
                "actions come only from the lab's own page\n".into(),
            )
        }
        ("POST", "/action") => Parsed::Request(Request::Action(
            String::from_utf8_lossy(&body[..length]).trim().to_string(),
        )),
        ("GET" | "POST", _) => Parsed::Bad("404 Not Found", format!("no page at {path}\n")),
        _ => Parsed::Bad(
            "405 Method Not Allowed",
            format!("{method} is not served here\n"),
        ),
    }
}

/// Whether an Origin header names a page served from a loopback address
/// (`http://127.0.0.1:8080`, `http://localhost:8080`, `http://[::1]:8080`).
fn is_loopback_origin(origin: &str) -> bool {
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Option<Request> {
        match parse(text.as_bytes()) {
            Parsed::Request(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn requests_are_read_once_whole() {
        assert_eq!(
            request("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Request::Page)
        );
        assert_eq!(
            request("GET /events?x=1 HTTP/1.1\r\n\r\n"),
            Some(Request::Events)
        );
        assert_eq!(
            request("GET / HTTP/1.1\r\nHost: x\r\n"),
            None,
            "head not ended"
        );
        let post = "POST /action HTTP/1.1\r\nContent-Length: 11\r\n\r\nkill master";
        assert_eq!(request(post), Some(Request::Action("kill master".into())));
        assert_eq!(request(&post[..post.len() - 1]), None, "body not whole");
        assert!(matches!(
            parse(b"GET /x HTTP/1.1\r\n\r\n"),
            Parsed::Bad("404 Not Found", _)
        ));
        assert!(matches!(
            parse(b"PUT / HTTP/1.1\r\n\r\n"),
            Parsed::Bad("405 Method Not Allowed", _)
        ));
        let foreign =
            "POST /action HTTP/1.1\r\nOrigin: http://example.com\r\nContent-Length: 4\r\n\r\nheal";
        assert!(matches!(
            parse(foreign.as_bytes()),
            Parsed::Bad("403 Forbidden", _)
        ));
        let own = "POST /action HTTP/1.1\r\nOrigin: http://127.0.0.1:8080\r\nContent-Length: 4\r\n\r\nheal";
        assert_eq!(request(own), Some(Request::Action("heal".into())));
        assert!(
            is_loopback_origin("http://[::1]:8080") && is_loopback_origin("http://localhost:1")
        );
        assert!(!is_loopback_origin("http://127.0.0.1.example.com") && !is_loopback_origin("null"));
        let big = "POST /action HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
        assert!(matches!(
            parse(big.as_bytes()),
            Parsed::Bad("413 Content Too Large", _)
        ));
    }

    #[test]
    fn only_loopback_addresses_are_served() {
        let err = Http::bind("0.0.0.0:0").err().unwrap();
        assert!(err.contains("only on a loopback address"), "{err}");
        assert!(
            Http::bind("nonsense")
                .err()
                .unwrap()
                .contains("expected an address")
        );
        let h = Http::bind("127.0.0.1:0").unwrap();
        assert!(h.addr.ip().is_loopback());
    }
}
