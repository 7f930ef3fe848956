//! A slow network link for benchmarks: a TCP forwarder on 127.0.0.1 in front of a server that
//! delays every byte by a one-way latency and lets each direction carry at most a given rate,
//! shared by all the connections through it (one phone's radio link). A phone on poor 3G is
//! about 150 ms each way and 1–2 Mbit/s up.
//!
//! Bytes are read from one end as fast as it writes them and released to the other end once
//! the link would have carried them: the time the direction's earlier bytes still need, plus
//! their own length at the rate, plus the latency. The sender's writes therefore finish early
//! (the link holds what is in flight, as a modem's buffer does); what the far end sees, and
//! when, is the link's.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the link behaves.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Delay each way.
    pub latency: Duration,
    /// Bytes a second each direction carries.
    pub bytes_per_second: u64,
}

/// One direction of the link: when it is free to carry the next byte.
struct Direction {
    free_at: Mutex<Instant>,
}

impl Direction {
    /// When `len` bytes read now reach the far end.
    fn release_at(&self, shape: Shape, len: usize) -> Instant {
        let mut free = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        let start = (*free).max(Instant::now());
        let on_wire = Duration::from_secs_f64(len as f64 / shape.bytes_per_second.max(1) as f64);
        *free = start + on_wire;
        *free + shape.latency
    }
}

/// A running slow link; dropping it stops accepting (open connections end with their ends).
pub struct SlowLink {
    /// Where clients connect.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SlowLink {
    /// A link of `shape` to `target`.
    pub fn start(target: SocketAddr, shape: Shape) -> SlowLink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind slow link");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let up = Arc::new(Direction {
            free_at: Mutex::new(Instant::now()),
        });
        let down = Arc::new(Direction {
            free_at: Mutex::new(Instant::now()),
        });
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(target) else {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (c2, s2) = (
                            client.try_clone().expect("clone"),
                            server.try_clone().expect("clone"),
                        );
                        carry(client, server, shape, up.clone());
                        carry(s2, c2, shape, down.clone());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        SlowLink {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL for devices.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Carries `from`'s bytes to `to` through `dir`: one thread reads and stamps, one writes each
/// piece once its time comes. The end of `from` ends `to`'s writing side.
fn carry(mut from: TcpStream, mut to: TcpStream, shape: Shape, dir: Arc<Direction>) {
    let (tx, rx) = channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let at = dir.release_at(shape, n);
                    if tx.send((at, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || deliver(rx, &mut to));
}

/// Writes each piece at its time; shuts the writing side once the reader is done.
fn deliver(rx: Receiver<(Instant, Vec<u8>)>, to: &mut TcpStream) {
    for (at, piece) in rx {
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        if to.write_all(&piece).is_err() {
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_whole_and_in_order_both_ways() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = echo.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = echo.accept().unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).unwrap();
            s.write_all(&all).unwrap();
        });
        let link = SlowLink::start(
            target,
            Shape {
                latency: Duration::from_millis(5),
                bytes_per_second: 4_000_000,
            },
        );
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut c = TcpStream::connect(link.addr).unwrap();
        c.write_all(&sent).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).unwrap();
        assert_eq!(back, sent);
    }
}
