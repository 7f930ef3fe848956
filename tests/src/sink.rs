//! A plain HTTP/1.1 upload sink on 127.0.0.1, the other end of the benchmarks' curl baseline
//! (`benches/street_day.rs`): each request's body (by `Content-Length`) is written to a file
//! of its own in a folder, without checking or hashing it, and answered `201` on the same
//! connection; a durable sink also syncs each file (`fsync`) before answering. What sending
//! the files costs with nothing but the transport and a write.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A running sink; it serves until the process ends.
pub struct Sink {
    addr: SocketAddr,
}

impl Sink {
    /// Starts a sink writing bodies into `folder`, each synced to disk first when `durable`.
    pub fn start(folder: &Path, durable: bool) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        let addr = listener.local_addr().expect("sink address");
        let folder = folder.to_path_buf();
        let next = Arc::new(AtomicU64::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (folder, next) = (folder.clone(), next.clone());
                std::thread::spawn(move || serve(stream, &folder, &next, durable));
            }
        });
        Sink { addr }
    }

    /// Its address (to put a counting proxy in front of it, as the server has).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves one connection until the client closes it.
fn serve(stream: TcpStream, folder: &Path, next: &AtomicU64, durable: bool) {
    let mut out = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" && !first {
                break;
            }
            first = false;
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path: PathBuf = folder.join(next.fetch_add(1, Ordering::Relaxed).to_string());
        let mut file = std::fs::File::create(&path).expect("create the file");
        file.write_all(&body).expect("write the body");
        if durable {
            file.sync_all().expect("sync the body");
        }
        if out
            .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}
