//! Requests as a server reads them off a client's socket (networking.c
//! processInputBuffer()): multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what
//! client libraries and redis-cli send) or inline (`GET k\r\n`, what a
//! person types into telnet), with Redis's protocol errors. A real client
//! talking to a simulated node goes through this, so a malformed request
//! gets the reply, and the closed connection, that Redis gives it.

use super::resp::split_args;
use super::util::string2ll;

/// PROTO_INLINE_MAX_SIZE: the longest inline request, or count line.
pub const INLINE_MAX: usize = 64 * 1024;

/// `proto-max-bulk-len`'s default: the longest argument.
pub const MAX_BULK_LEN: i64 = 512 * 1024 * 1024;

/// What the buffer yields next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A command's arguments.
    Command(Vec<Vec<u8>>),
    /// A protocol error: the client gets `-ERR <text>` and the connection
    /// closes after that reply (setProtocolError()); nothing after it is
    /// read.
    Error(String),
}

/// One client's query buffer and the multibulk request it is in the
/// middle of (`multibulklen`, `bulklen`).
#[derive(Clone, Debug, Default)]
pub struct QueryBuffer {
    buf: Vec<u8>,
    pos: usize,
    /// Arguments still to read and those read, inside a multibulk request.
    multibulk: Option<(i64, Vec<Vec<u8>>)>,
    /// The length of the bulk argument being read, once its `$` line is.
    bulklen: Option<usize>,
    broken: bool,
}

fn find(hay: &[u8], b: u8) -> Option<usize> {
    hay.iter().position(|&c| c == b)
}

impl QueryBuffer {
    /// Bytes read off the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet consumed (`qbuf` in CLIENT LIST).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete request, if the buffer holds one. `auth_required`
    /// is authRequired(): a password is set and the client has not
    /// authenticated, which limits how many arguments, and how long, a
    /// request may announce.
    pub fn next(&mut self, auth_required: bool) -> Option<Request> {
        while !self.broken && self.pos < self.buf.len() {
            let outcome = if self.multibulk.is_some() || self.buf[self.pos] == b'*' {
                self.multibulk_step(auth_required)
            } else {
                self.inline_step()
            };
            match outcome {
                Step::Wait => return None,
                Step::Empty => continue,
                Step::Done(argv) => return Some(Request::Command(argv)),
                Step::Fail(e) => {
                    self.broken = true;
                    return Some(Request::Error(e));
                }
            }
        }
        None
    }

    /// processInlineBuffer().
    fn inline_step(&mut self) -> Step {
        let rest = &self.buf[self.pos..];
        let Some(mut newline) = find(rest, b'\n') else {
            if rest.len() > INLINE_MAX {
                return Step::Fail("Protocol error: too big inline request".into());
            }
            return Step::Wait;
        };
        let mut linefeed = 1;
        if newline > 0 && rest[newline - 1] == b'\r' {
            newline -= 1;
            linefeed += 1;
        }
        let line = String::from_utf8_lossy(&rest[..newline]).into_owned();
        let Some(argv) = split_args(&line) else {
            return Step::Fail("Protocol error: unbalanced quotes in request".into());
        };
        self.pos += newline + linefeed;
        if argv.is_empty() {
            return Step::Empty;
        }
        Step::Done(argv.into_iter().map(String::into_bytes).collect())
    }

    /// The `\r`-terminated count line at the read position: its number,
    /// or `None` while it is not whole.
    fn count_line(&self) -> Option<(usize, &[u8])> {
        let rest = &self.buf[self.pos..];
        let cr = find(rest, b'\r')?;
        // The `\n` must be there too.
        (cr + 2 <= rest.len()).then(|| (cr, &rest[1..cr]))
    }

    /// processMultibulkBuffer().
    fn multibulk_step(&mut self, auth_required: bool) -> Step {
        if self.multibulk.is_none() {
            let Some((cr, digits)) = self.count_line() else {
                if self.pending() > INLINE_MAX && find(&self.buf[self.pos..], b'\r').is_none() {
                    return Step::Fail("Protocol error: too big mbulk count string".into());
                }
                return Step::Wait;
            };
            let n = std::str::from_utf8(digits).ok().and_then(string2ll);
            let n = match n {
                Some(n) if n <= i64::from(i32::MAX) => n,
                _ => return Step::Fail("Protocol error: invalid multibulk length".into()),
            };
            if n > 10 && auth_required {
                return Step::Fail("Protocol error: unauthenticated multibulk length".into());
            }
            self.pos += cr + 2;
            if n <= 0 {
                return Step::Empty;
            }
            self.multibulk = Some((n, Vec::new()));
        }
        loop {
            let Some((left, _)) = &self.multibulk else {
                unreachable!("set above")
            };
            if *left == 0 {
                let (_, argv) = self.multibulk.take().expect("in a request");
                return Step::Done(argv);
            }
            if self.bulklen.is_none() {
                let Some((cr, digits)) = self.count_line() else {
                    if self.pending() > INLINE_MAX && find(&self.buf[self.pos..], b'\r').is_none() {
                        return Step::Fail("Protocol error: too big bulk count string".into());
                    }
                    return Step::Wait;
                };
                let first = self.buf[self.pos];
                if first != b'$' {
                    return Step::Fail(format!(
                        "Protocol error: expected '$', got '{}'",
                        char::from(first)
                    ));
                }
                let len = match std::str::from_utf8(digits).ok().and_then(string2ll) {
                    Some(l) if (0..=MAX_BULK_LEN).contains(&l) => l,
                    _ => return Step::Fail("Protocol error: invalid bulk length".into()),
                };
                if len > 16384 && auth_required {
                    return Step::Fail("Protocol error: unauthenticated bulk length".into());
                }
                self.pos += cr + 2;
                self.bulklen = Some(len as usize);
            }
            let len = self.bulklen.expect("read above");
            if self.pending() < len + 2 {
                return Step::Wait;
            }
            let arg = self.buf[self.pos..self.pos + len].to_vec();
            self.pos += len + 2;
            self.bulklen = None;
            let (left, argv) = self.multibulk.as_mut().expect("in a request");
            argv.push(arg);
            *left -= 1;
        }
    }
}

enum Step {
    Wait,
    Empty,
    Done(Vec<Vec<u8>>),
    Fail(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Request {
        Request::Command(words.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    fn all(bytes: &[u8]) -> Vec<Request> {
        let mut q = QueryBuffer::default();
        q.feed(bytes);
        std::iter::from_fn(|| q.next(false)).collect()
    }

    #[test]
    fn multibulk_and_inline_requests_read_whole_or_wait() {
        assert_eq!(
            all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a \"b c\"\r\nPING\n"),
            [
                argv(&["GET", "k"]),
                argv(&["SET", "a", "b c"]),
                argv(&["PING"])
            ]
        );
        // Byte by byte: nothing until the last byte of each request.
        let mut q = QueryBuffer::default();
        let req = b"*1\r\n$4\r\nPING\r\n";
        for (i, b) in req.iter().enumerate() {
            q.feed(&[*b]);
            let got = q.next(false);
            assert_eq!(got.is_some(), i == req.len() - 1, "at byte {i}");
        }
        // Empty lines and `*0` are skipped; a bulk may hold a CRLF.
        assert_eq!(
            all(b"\r\n*0\r\n*-1\r\n*1\r\n$4\r\na\r\nb\r\n"),
            [argv(&["a\r\nb"])]
        );
    }

    // The texts of networking.c, as a real 7.0.15 replies them before it
    // closes the connection.
    #[test]
    fn protocol_errors_end_the_connection() {
        let first = |b: &[u8]| all(b).into_iter().next().expect("a request");
        let e = |s: &str| Request::Error(s.into());
        assert_eq!(
            first(b"*x\r\n"),
            e("Protocol error: invalid multibulk length")
        );
        assert_eq!(
            first(b"*3000000000\r\n"),
            e("Protocol error: invalid multibulk length")
        );
        assert_eq!(
            first(b"*1\r\nGET\r\n"),
            e("Protocol error: expected '$', got 'G'")
        );
        assert_eq!(
            first(b"*1\r\n$-1\r\n"),
            e("Protocol error: invalid bulk length")
        );
        assert_eq!(
            first(b"SET a \"b\r\n"),
            e("Protocol error: unbalanced quotes in request")
        );
        assert_eq!(
            first(&vec![b'a'; INLINE_MAX + 1]),
            e("Protocol error: too big inline request")
        );
        // Nothing after an error is read.
        assert_eq!(all(b"*x\r\nPING\r\n").len(), 1);
        // authRequired(): at most 10 arguments and 16 KiB each.
        let mut q = QueryBuffer::default();
        q.feed(b"*11\r\n");
        assert_eq!(
            q.next(true),
            Some(e("Protocol error: unauthenticated multibulk length"))
        );
        let mut q = QueryBuffer::default();
        q.feed(b"*1\r\n$16385\r\n");
        assert_eq!(
            q.next(true),
            Some(e("Protocol error: unauthenticated bulk length"))
        );
    }
}
