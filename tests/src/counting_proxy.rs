//! A counting HTTP proxy on 127.0.0.1 for the benchmarks: it relays TCP to a target without
//! changing a byte and reads the HTTP/1.1 messages crossing it, counting connections, requests
//! (by path, and per second), responses by status, refusals (503 and 429) with and without
//! `Retry-After`, and bytes each way (HTTP bytes: heads and bodies as the sockets carry them,
//! without TCP/IP headers or TLS).
//!
//! The fault proxy ([`crate::proxy`]) spends two threads on each connection, which is fine for
//! a dozen devices and too much for thousands; this one runs on a tokio runtime of its own, so a
//! connection costs two tasks. The target may be down or change process (a server restart on
//! the same port): a connection that cannot reach it is closed and counted.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What crossed the proxy so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections accepted from clients.
    pub connections: u64,
    /// Connections closed at once because the target could not be reached.
    pub unreachable: u64,
    /// Requests (heads seen from clients).
    pub requests: u64,
    /// Requests by path (without the query).
    pub by_path: BTreeMap<String, u64>,
    /// Responses (heads seen from the target).
    pub responses: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Responses 503 or 429.
    pub refused: u64,
    /// Of those, the ones without a `Retry-After` header.
    pub refused_without_retry_after: u64,
    /// Bytes from clients to the target.
    pub bytes_up: u64,
    /// Bytes from the target to clients.
    pub bytes_down: u64,
    /// Bytes from clients by the path of the request they belong to (heads and bodies).
    pub bytes_up_by_path: BTreeMap<String, u64>,
    /// Bytes to clients by the path of the request their answer belongs to.
    pub bytes_down_by_path: BTreeMap<String, u64>,
}

impl Counts {
    /// What was counted after `earlier` (a snapshot of the same proxy).
    pub fn since(&self, earlier: &Counts) -> Counts {
        fn diff<K: Ord + Clone>(
            now: &BTreeMap<K, u64>,
            then: &BTreeMap<K, u64>,
        ) -> BTreeMap<K, u64> {
            now.iter()
                .map(|(k, v)| (k.clone(), v - then.get(k).copied().unwrap_or(0)))
                .filter(|(_, v)| *v > 0)
                .collect()
        }
        Counts {
            connections: self.connections - earlier.connections,
            unreachable: self.unreachable - earlier.unreachable,
            requests: self.requests - earlier.requests,
            by_path: diff(&self.by_path, &earlier.by_path),
            responses: self.responses - earlier.responses,
            statuses: diff(&self.statuses, &earlier.statuses),
            refused: self.refused - earlier.refused,
            refused_without_retry_after: self.refused_without_retry_after
                - earlier.refused_without_retry_after,
            bytes_up: self.bytes_up - earlier.bytes_up,
            bytes_down: self.bytes_down - earlier.bytes_down,
            bytes_up_by_path: diff(&self.bytes_up_by_path, &earlier.bytes_up_by_path),
            bytes_down_by_path: diff(&self.bytes_down_by_path, &earlier.bytes_down_by_path),
        }
    }
}

#[derive(Default)]
struct Tally {
    counts: Counts,
    /// Requests per second since the proxy started.
    per_second: Vec<u64>,
    /// Requests relayed whose answer has not come yet.
    unanswered: u64,
    /// The most of those at once since [`CountingProxy::take_most_in_flight`] was last called.
    most_unanswered: u64,
}

struct Shared {
    started: Instant,
    tally: Mutex<Tally>,
}

impl Shared {
    fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running counting proxy; dropping it stops it.
pub struct CountingProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CountingProxy {
    /// Relays every connection to `target`, counting as it goes.
    pub fn start(target: SocketAddr) -> CountingProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            started: Instant::now(),
            tally: Mutex::new(Tally::default()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("counting-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("proxy listener");
                    tokio::pin!(rx);
                    loop {
                        tokio::select! {
                            accepted = listener.accept() => {
                                let Ok((client, _)) = accepted else {
                                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                    continue;
                                };
                                sh.tally().counts.connections += 1;
                                tokio::spawn(relay(client, target, sh.clone()));
                            }
                            _ = &mut rx => break,
                        }
                    }
                });
                // Connections still open are dropped with the runtime.
                rt.shutdown_background();
            })
            .expect("proxy thread");
        CountingProxy {
            addr,
            shared,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// The base URL for devices.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What crossed so far.
    pub fn counts(&self) -> Counts {
        self.shared.tally().counts.clone()
    }

    /// When the proxy started (second 0 of [`CountingProxy::requests_per_second`]).
    pub fn started(&self) -> Instant {
        self.shared.started
    }

    /// Requests in each whole second since the proxy started.
    pub fn requests_per_second(&self) -> Vec<u64> {
        self.shared.tally().per_second.clone()
    }

    /// The most requests relayed and not answered yet at once (over all connections) since
    /// the last call, or since the proxy started; the next window starts now.
    pub fn take_most_in_flight(&self) -> u64 {
        let mut t = self.shared.tally();
        let most = t.most_unanswered;
        t.most_unanswered = t.unanswered;
        most
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn relay(client: TcpStream, target: SocketAddr, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(target).await else {
        shared.tally().counts.unreachable += 1;
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Whether each request still unanswered was a HEAD (its answer has no body).
    let heads = Arc::new(Mutex::new(VecDeque::new()));
    let up = pump(cr, sw, Parser::new(true, heads.clone()), shared.clone());
    let down = pump(sr, cw, Parser::new(false, heads), shared);
    tokio::join!(up, down);
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut parser: Parser,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let events = parser.feed(&buf[..n]);
        let mut t = shared.tally();
        let by_path = if parser.up {
            t.counts.bytes_up += n as u64;
            &mut t.counts.bytes_up_by_path
        } else {
            t.counts.bytes_down += n as u64;
            &mut t.counts.bytes_down_by_path
        };
        for (path, bytes) in parser.bytes.drain() {
            *by_path.entry(path).or_default() += bytes;
        }
        for e in events {
            match e {
                Event::Request { path } => {
                    t.counts.requests += 1;
                    *t.counts.by_path.entry(path).or_default() += 1;
                    let second = shared.started.elapsed().as_secs() as usize;
                    if t.per_second.len() <= second {
                        t.per_second.resize(second + 1, 0);
                    }
                    t.per_second[second] += 1;
                    t.unanswered += 1;
                    t.most_unanswered = t.most_unanswered.max(t.unanswered);
                }
                Event::Response {
                    status,
                    retry_after,
                } => {
                    t.counts.responses += 1;
                    t.unanswered = t.unanswered.saturating_sub(1);
                    *t.counts.statuses.entry(status).or_default() += 1;
                    if status == 503 || status == 429 {
                        t.counts.refused += 1;
                        if !retry_after {
                            t.counts.refused_without_retry_after += 1;
                        }
                    }
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// A message head seen.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Request { path: String },
    Response { status: u16, retry_after: bool },
}

/// Where the parser is within the stream of messages.
#[derive(Debug)]
enum State {
    /// Reading a head up to its blank line.
    Head,
    /// Skipping this many body bytes.
    Body(u64),
    /// Reading a chunk's size line.
    ChunkSize,
    /// Skipping a chunk's data and its CRLF.
    ChunkData(u64),
    /// Reading trailer lines up to the blank one.
    Trailer,
    /// A body that ends with the connection.
    UntilClose,
}

/// For each request not answered yet: its path, and whether it was a HEAD (its answer has no
/// body).
type Unanswered = Arc<Mutex<VecDeque<(String, bool)>>>;

/// Reads one direction of an HTTP/1.1 connection: heads, and bodies by length or chunks.
struct Parser {
    up: bool,
    state: State,
    line: Vec<u8>,
    heads: Unanswered,
    /// The path of the message being read (its request's, for an answer).
    path: String,
    /// Bytes of the head being read, counted once its path is known.
    head_bytes: u64,
    /// Bytes by path since the last drain.
    bytes: std::collections::HashMap<String, u64>,
}

impl Parser {
    fn new(up: bool, heads: Unanswered) -> Parser {
        Parser {
            up,
            state: State::Head,
            line: Vec::new(),
            heads,
            path: String::new(),
            head_bytes: 0,
            bytes: std::collections::HashMap::new(),
        }
    }

    fn count(&mut self, n: u64) {
        if n > 0 {
            *self.bytes.entry(self.path.clone()).or_default() += n;
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        while !bytes.is_empty() {
            match self.state {
                State::Body(n) | State::ChunkData(n) => {
                    let take = (bytes.len() as u64).min(n);
                    bytes = &bytes[take as usize..];
                    self.count(take);
                    let left = n - take;
                    self.state = match (&self.state, left) {
                        (State::Body(_), 0) => State::Head,
                        (State::Body(_), l) => State::Body(l),
                        (_, 0) => State::ChunkSize,
                        (_, l) => State::ChunkData(l),
                    };
                }
                State::UntilClose => {
                    self.count(bytes.len() as u64);
                    bytes = &[];
                }
                State::Head | State::ChunkSize | State::Trailer => {
                    if matches!(self.state, State::Head) {
                        self.head_bytes += 1;
                    } else {
                        self.count(1);
                    }
                    self.line.push(bytes[0]);
                    bytes = &bytes[1..];
                    self.after_byte(&mut events);
                }
            }
        }
        events
    }

    fn after_byte(&mut self, events: &mut Vec<Event>) {
        match self.state {
            State::Head => {
                if self.line == b"\r\n" {
                    // A blank line between messages.
                    self.line.clear();
                } else if self.line.ends_with(b"\r\n\r\n") {
                    let head = std::mem::take(&mut self.line);
                    self.head(&head, events);
                }
            }
            State::ChunkSize if self.line.ends_with(b"\r\n") => {
                let text = String::from_utf8_lossy(&self.line).to_string();
                self.line.clear();
                let size = text.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(size, 16).unwrap_or(0);
                self.state = if size == 0 {
                    State::Trailer
                } else {
                    State::ChunkData(size + 2)
                };
            }
            State::Trailer => {
                if self.line == b"\r\n" {
                    self.line.clear();
                    self.state = State::Head;
                } else if self.line.ends_with(b"\r\n") {
                    self.line.clear();
                }
            }
            _ => {}
        }
    }

    fn head(&mut self, head: &[u8], events: &mut Vec<Event>) {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or("");
        let mut length = None;
        let mut chunked = false;
        let mut retry_after = false;
        for l in lines {
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse::<u64>().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "retry-after" => retry_after = true,
                _ => {}
            }
        }
        let mut words = first.split(' ');
        let body = if self.up {
            let method = words.next().unwrap_or("");
            let target = words.next().unwrap_or("");
            let path = target.split('?').next().unwrap_or("").to_string();
            self.heads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back((path.clone(), method == "HEAD"));
            self.path = path.clone();
            let n = std::mem::take(&mut self.head_bytes);
            self.count(n);
            events.push(Event::Request { path });
            if chunked {
                Some(State::ChunkSize)
            } else {
                Some(State::Body(length.unwrap_or(0)))
            }
        } else {
            let status: u16 = words.nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            if (100..200).contains(&status) {
                // An interim answer: the final one follows.
                let n = std::mem::take(&mut self.head_bytes);
                self.count(n);
                return;
            }
            let (path, was_head) = self
                .heads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
                .unwrap_or_default();
            self.path = path;
            let n = std::mem::take(&mut self.head_bytes);
            self.count(n);
            events.push(Event::Response {
                status,
                retry_after,
            });
            if was_head || status == 204 || status == 304 {
                Some(State::Body(0))
            } else if chunked {
                Some(State::ChunkSize)
            } else {
                length.map(State::Body)
            }
        };
        self.state = match body {
            Some(State::Body(0)) => State::Head,
            Some(s) => s,
            None => State::UntilClose,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(up: bool, heads: &Unanswered) -> Parser {
        Parser::new(up, heads.clone())
    }

    #[test]
    fn requests_and_responses_are_counted_across_split_reads_and_bodies() {
        let heads = Arc::new(Mutex::new(VecDeque::new()));
        let mut up = parser(true, &heads);
        let mut down = parser(false, &heads);
        let reqs = b"POST /v1/sync HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /v1/wait?cursor=3 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /v1/photos/ab HTTP/1.1\r\n\r\n";
        let mut events = Vec::new();
        for b in reqs.chunks(7) {
            events.extend(up.feed(b));
        }
        let paths: Vec<_> = events
            .iter()
            .map(|e| match e {
                Event::Request { path } => path.as_str(),
                Event::Response { .. } => "?",
            })
            .collect();
        assert_eq!(paths, ["/v1/sync", "/v1/wait", "/v1/photos/ab"]);
        // Each byte is put down to its request's path, the body with its head.
        let sync_len = b"POST /v1/sync HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".len() as u64;
        assert_eq!(up.bytes.get("/v1/sync"), Some(&sync_len));
        assert_eq!(up.bytes.values().sum::<u64>(), reqs.len() as u64);
        let resps = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nretry-after: 2\r\ncontent-length: 4\r\n\r\nbusyHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 429 Too Many\r\ncontent-length: 0\r\n\r\n";
        let mut events = Vec::new();
        for b in resps.chunks(5) {
            events.extend(down.feed(b));
        }
        assert_eq!(down.bytes.values().sum::<u64>(), resps.len() as u64);
        assert_eq!(
            events,
            [
                Event::Response {
                    status: 200,
                    retry_after: false
                },
                Event::Response {
                    status: 503,
                    retry_after: true
                },
                // The answer to the HEAD: no body despite its length.
                Event::Response {
                    status: 200,
                    retry_after: false
                },
                Event::Response {
                    status: 429,
                    retry_after: false
                },
            ]
        );
    }

    #[test]
    fn counts_since_a_snapshot_are_the_difference() {
        let a = Counts {
            requests: 3,
            statuses: BTreeMap::from([(200, 2)]),
            ..Counts::default()
        };
        let mut b = a.clone();
        b.requests = 5;
        b.statuses.insert(200, 3);
        b.statuses.insert(204, 1);
        let d = b.since(&a);
        assert_eq!(d.requests, 2);
        assert_eq!(d.statuses, BTreeMap::from([(200, 1), (204, 1)]));
    }

    #[test]
    fn the_proxy_relays_and_counts_a_real_exchange() {
        use std::io::{Read, Write};
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = server.local_addr().unwrap();
        let answer = std::thread::spawn(move || {
            let (mut s, _) = server.accept().unwrap();
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            while !got.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        });
        let proxy = CountingProxy::start(target);
        let mut c = std::net::TcpStream::connect(proxy.addr).unwrap();
        c.write_all(b"GET /v1/wait?cursor=0 HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 64];
        let n = c.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 204"));
        answer.join().unwrap();
        drop(c);
        // The counts are taken after the bytes are relayed: wait for them.
        while proxy.counts().responses == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let counts = proxy.counts();
        assert_eq!(counts.requests, 1);
        assert_eq!(counts.by_path.get("/v1/wait"), Some(&1));
        assert_eq!(counts.statuses.get(&204), Some(&1));
        assert_eq!(counts.bytes_down, 27);
        assert_eq!(counts.bytes_down_by_path.get("/v1/wait"), Some(&27));
        assert_eq!(counts.bytes_up_by_path.get("/v1/wait"), Some(&34));
    }
}
