//! A network link that a test can cut and restore: a TCP forwarder on 127.0.0.1 in front of a
//! server. While it is down, every open connection through it is closed and new ones are
//! closed as soon as they are accepted, as when a phone walks into a basement; once it is up
//! again, connections go through as before. While it is stalled, connections stay open and new
//! ones are accepted, but no byte crosses (a black-holed route: the far end never answers,
//! nothing is refused) until it is up again.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running link.
pub struct Link {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    stalled: AtomicBool,
    stop: AtomicBool,
    /// Connections refused while the link was down.
    refused: AtomicU64,
    /// Both ends of every open connection, to cut them.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
}

impl Link {
    /// A link to `target`, up.
    pub fn start(target: SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind link");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            while !sh.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) if sh.down.load(Ordering::SeqCst) => {
                        sh.refused.fetch_add(1, Ordering::SeqCst);
                        let _ = client.shutdown(Shutdown::Both);
                    }
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let sh = sh.clone();
                        std::thread::spawn(move || relay(client, target, sh));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Link {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// The base URL for devices.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts the link: open connections are closed, new ones refused.
    pub fn down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        let open = std::mem::take(&mut *self.shared.open.lock().unwrap_or_else(|e| e.into_inner()));
        for (a, b) in open {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
    }

    /// Restores the link (from down or stalled).
    pub fn up(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
        self.shared.stalled.store(false, Ordering::SeqCst);
    }

    /// Stalls the link: every byte is held, nothing is closed or refused.
    pub fn stall(&self) {
        self.shared.stalled.store(true, Ordering::SeqCst);
    }

    /// Connections refused while the link was down.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.down();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn relay(client: TcpStream, target: SocketAddr, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let ends = (client.try_clone(), server.try_clone());
    let (Ok(c2), Ok(s2)) = ends else {
        return;
    };
    if let (Ok(c3), Ok(s3)) = (client.try_clone(), server.try_clone()) {
        shared
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((c3, s3));
    }
    let sh = shared.clone();
    let up = std::thread::spawn(move || pump(client, server, &sh));
    pump(s2, c2, &shared);
    let _ = up.join();
}

/// Copies `from` to `to` until either end closes, holding bytes while the link is stalled.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                while shared.stalled.load(Ordering::SeqCst) && !shared.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
