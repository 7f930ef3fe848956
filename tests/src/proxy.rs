//! A TCP proxy on 127.0.0.1 that counts the bytes crossing it and, when asked, cuts
//! connections at random points of requests and responses, and closes connections that sat
//! idle (as a carrier's NAT or proxy does), so that a device's kept-alive connections are
//! opened again, and cut again, through a long test.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// What crossed the proxy.
#[derive(Debug, Default)]
pub struct Stats {
    /// Bytes from clients to the server.
    pub up: AtomicU64,
    /// Bytes from the server to clients.
    pub down: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut on purpose.
    pub cuts: AtomicU64,
}

/// A running proxy.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Counters.
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Forwards to `target`, cutting a connection with probability `cut` (0.0 to 1.0) after a
    /// random number of bytes (below `max_cut_at`) in a random direction. `seed` makes a run
    /// repeatable.
    pub fn start(target: SocketAddr, cut: f64, max_cut_at: u64, seed: u64) -> Proxy {
        Proxy::start_with_idle(target, cut, max_cut_at, seed, None)
    }

    /// [`Proxy::start`], and a connection that carried nothing either way for `idle` is
    /// closed both ways.
    pub fn start_with_idle(
        target: SocketAddr,
        cut: f64,
        max_cut_at: u64,
        seed: u64,
        idle: Option<Duration>,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (stats.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut rng = seed | 1;
            while !sp.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        st.connections.fetch_add(1, Ordering::Relaxed);
                        let roll = next(&mut rng) % 10_000;
                        let cut_at = ((roll as f64) < cut * 10_000.0).then(|| {
                            let at = next(&mut rng) % max_cut_at.max(1);
                            let up = next(&mut rng).is_multiple_of(2);
                            (at, up)
                        });
                        let st = st.clone();
                        std::thread::spawn(move || relay(client, target, cut_at, idle, st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Proxy {
            addr,
            stats,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL for devices.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn next(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn relay(
    client: TcpStream,
    target: SocketAddr,
    cut_at: Option<(u64, bool)>,
    idle: Option<Duration>,
    stats: Arc<Stats>,
) {
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up_budget = cut_at.filter(|(_, up)| *up).map(|(n, _)| n);
    let down_budget = cut_at.filter(|(_, up)| !*up).map(|(n, _)| n);
    let st = stats.clone();
    let cut_any = cut_at.is_some();
    let quiet = Arc::new(Quiet::new(idle));
    let q = quiet.clone();
    let up = std::thread::spawn(move || pump(client, server, up_budget, &st, true, &q));
    pump(s2, c2, down_budget, &stats, false, &quiet);
    let _ = up.join();
    if cut_any {
        stats.cuts.fetch_add(1, Ordering::Relaxed);
    }
}

/// When a connection last carried bytes, and which way, to close it after `idle` of silence
/// that follows an answer (a request the server is still working on is never closed).
struct Quiet {
    idle: Option<Duration>,
    start: std::time::Instant,
    last_ms: AtomicU64,
    last_up: AtomicBool,
}

impl Quiet {
    fn new(idle: Option<Duration>) -> Quiet {
        Quiet {
            idle,
            start: std::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            last_up: AtomicBool::new(true),
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn touch(&self, up: bool) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
        self.last_up.store(up, Ordering::Relaxed);
    }

    fn too_long(&self) -> bool {
        self.idle.is_some_and(|idle| {
            !self.last_up.load(Ordering::Relaxed)
                && self.now_ms() - self.last_ms.load(Ordering::Relaxed) >= idle.as_millis() as u64
        })
    }
}

/// Copies `from` to `to` until EOF, or until `budget` bytes, then cuts both ways; or until the
/// connection was quiet both ways for the idle time, then closes both ways.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    budget: Option<u64>,
    stats: &Stats,
    up: bool,
    quiet: &Quiet,
) {
    let mut buf = [0u8; 16 * 1024];
    let mut left = budget.unwrap_or(u64::MAX);
    if quiet.idle.is_some() {
        let _ = from.set_read_timeout(Some(Duration::from_millis(10)));
    }
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if quiet.too_long() {
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                    return;
                }
                continue;
            }
            Err(_) => break,
        };
        quiet.touch(up);
        let take = (n as u64).min(left) as usize;
        if to.write_all(&buf[..take]).is_err() {
            break;
        }
        let counter = if up { &stats.up } else { &stats.down };
        counter.fetch_add(take as u64, Ordering::Relaxed);
        left -= take as u64;
        if left == 0 {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
