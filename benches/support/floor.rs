//! The floor the service's CPU per downloaded MB is compared with: what the machine spends just to move the same
//! bytes through a local TCP connection (tokio listener and stream, 64 KiB reads) and to base64-encode them (the
//! `base64` crate's STANDARD engine into a reused buffer) — the two things pipeline mode cannot avoid.

use std::time::Instant;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHUNK: usize = 64 * 1024;

/// CPU seconds (this process, both ends of the connection) and wall seconds of each part.
#[derive(Debug, Clone, Copy, Default)]
pub struct Floor {
    pub bytes: u64,
    pub tcp_cpu: f64,
    pub base64_cpu: f64,
    pub wall: f64,
}

impl Floor {
    pub fn cpu(&self) -> f64 {
        self.tcp_cpu + self.base64_cpu
    }

    /// CPU ms per MB (10^6 bytes).
    pub fn cpu_ms_per_mb(&self) -> f64 {
        if self.bytes == 0 {
            return 0.0;
        }
        self.cpu() * 1000.0 / (self.bytes as f64 / 1e6)
    }
}

/// At least this many bytes are measured: process CPU time moves in 10 ms ticks, so a few MB would read as 0.
const MIN_MEASURED: u64 = 256 * 1024 * 1024;

/// Copies `bytes` through a local TCP connection, then base64-encodes as many, timing the CPU of each. Fewer than
/// `MIN_MEASURED` bytes are measured as `MIN_MEASURED` and scaled down.
pub async fn measure(bytes: u64) -> Floor {
    let measured = bytes.max(MIN_MEASURED);
    let scale = bytes as f64 / measured as f64;
    let started = Instant::now();
    let cpu0 = super::cpu_seconds();
    tcp_copy(measured).await;
    let cpu1 = super::cpu_seconds();
    encode(measured);
    let cpu2 = super::cpu_seconds();
    Floor {
        bytes,
        tcp_cpu: (cpu1 - cpu0) * scale,
        base64_cpu: (cpu2 - cpu1) * scale,
        wall: started.elapsed().as_secs_f64() * scale,
    }
}

async fn tcp_copy(bytes: u64) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let addr = listener.local_addr().expect("local address");
    let sender = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let block = pattern(CHUNK);
        let mut left = bytes;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            socket.write_all(&block[..n]).await.expect("write");
            left -= n as u64;
        }
        socket.shutdown().await.expect("shutdown");
    });
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut buffer = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = stream.read(&mut buffer).await.expect("read");
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    sender.await.expect("sender task");
    assert_eq!(received, bytes, "the copy lost bytes");
}

fn encode(bytes: u64) {
    let block = pattern(CHUNK * 16);
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut out = vec![0u8; base64::encoded_len(block.len(), true).expect("small")];
    let mut left = bytes;
    let mut written = 0usize;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        written += engine
            .encode_slice(&block[..n], &mut out)
            .expect("buffer large enough");
        left -= n as u64;
    }
    std::hint::black_box((written, &out));
}

/// Incompressible-looking bytes (the fixture's files are mostly random image data).
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
