//! A mail server for tests: an SMTP listener on 127.0.0.1 that records every message it
//! receives (envelope and data). It speaks just enough SMTP for a client such as lettre:
//! EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT. `delay_ms` holds the answer to
//! the end of a message's data, so a test can kill the sender while it waits.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The data: headers and body, lines joined with `\n`.
    pub data: String,
}

impl Received {
    /// The value of a header (the first one of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self.data.lines().take_while(|l| !l.is_empty()).peekable();
        while let Some(l) = lines.next() {
            if let Some((n, v)) = l.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    let mut value = v.trim().to_string();
                    while let Some(next) = lines.peek() {
                        if next.starts_with(' ') || next.starts_with('\t') {
                            value.push(' ');
                            value.push_str(next.trim());
                            lines.next();
                        } else {
                            break;
                        }
                    }
                    return Some(value);
                }
            }
        }
        None
    }

    /// The body: what follows the blank line after the headers.
    pub fn body(&self) -> String {
        self.data
            .split_once("\n\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    pub delay_ms: Arc<AtomicU64>,
    /// Messages whose data has arrived (counted before the held answer).
    arrived: Arc<AtomicU64>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let arrived = Arc::new(AtomicU64::new(0));
        let (r, d, a) = (received.clone(), delay_ms.clone(), arrived.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, d, a) = (r.clone(), d.clone(), a.clone());
                std::thread::spawn(move || {
                    let _ = session(stream, &r, &d, &a);
                });
            }
        });
        SmtpSink {
            port,
            received,
            delay_ms,
            arrived,
        }
    }

    /// How many messages' data has arrived, answered or not yet.
    pub fn arrived(&self) -> u64 {
        self.arrived.load(Ordering::SeqCst)
    }

    /// `smtp://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn session(
    stream: TcpStream,
    received: &Mutex<Vec<Received>>,
    delay_ms: &AtomicU64,
    arrived: &AtomicU64,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") {
            out.write_all(b"250 sink.test\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&cmd[10..]);
            to.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&cmd[8..]));
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 go on\r\n")?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push(l.strip_prefix('.').unwrap_or(l).to_string());
            }
            arrived.fetch_add(1, Ordering::SeqCst);
            let delay = delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                std::thread::sleep(Duration::from_millis(delay));
            }
            received.lock().unwrap().push(Received {
                from: from.clone(),
                to: to.clone(),
                data: data.join("\n"),
            });
            out.write_all(b"250 OK queued\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            out.write_all(b"250 OK\r\n")?;
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// `<a@b>` (with parameters after it, maybe) → `a@b`.
fn address(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if b > a => s[a + 1..b].to_string(),
        _ => s.split_whitespace().next().unwrap_or("").to_string(),
    }
}
