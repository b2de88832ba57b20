//! [`ForwardProxy`]: an in-process HTTP proxy for tests that records what it was asked. It forwards plain
//! `http://` requests (absolute-form request line) and tunnels `CONNECT host:port` (how clients reach `https://`
//! URLs through a proxy), so tests can show which requests went through a proxy and which went directly.
//!
//! Only the first request of each client connection is read and recorded; the rest of the connection is relayed
//! as bytes. Clients keep a proxied connection for one destination, so every destination a client used shows up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A request head must fit in this; larger ones are refused.
const MAX_HEAD: usize = 64 * 1024;

/// One proxied connection's first request.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// `GET`, `POST`, `CONNECT`, ...
    pub method: String,
    /// The destination `host:port`.
    pub target: String,
    /// The `Proxy-Authorization` header, if the client sent one.
    pub authorization: Option<String>,
}

/// A running proxy on `127.0.0.1`. Dropping it stops it and every connection it relays.
#[derive(Debug)]
pub struct ForwardProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ForwardProxy {
    /// Must run inside a Tokio runtime.
    pub async fn start() -> std::io::Result<ForwardProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = seen.clone();
        let task = tokio::spawn(async move {
            // Owned here, so stopping the accept loop also ends every relayed connection.
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(relay(client, record.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(ForwardProxy { addr, seen, task })
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it was asked so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut client: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match client.read(&mut chunk).await {
            Ok(n) if n > 0 && head.len() + n <= MAX_HEAD => head.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    };
    let Some(request) = parse_head(&head[..end]) else {
        let _ = client
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    seen.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(request.clone());
    let Ok(mut upstream) = TcpStream::connect(&request.target).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    let forwarded = if request.method == "CONNECT" {
        // The tunnel starts after the head; anything the client sent past it is already tunnel data.
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .and(upstream.write_all(&head[end..]).await)
    } else {
        match origin_form(&head) {
            Some(head) => upstream.write_all(&head).await,
            None => return,
        }
    };
    if forwarded.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// The head with its absolute-form request line (`GET http://host:port/p?q HTTP/1.1`) in origin form
/// (`GET /p?q HTTP/1.1`), as a proxy sends it on.
fn origin_form(head: &[u8]) -> Option<Vec<u8>> {
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.splitn(3, ' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let url = url::Url::parse(target).ok()?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut out = format!("{method} {path} {version}").into_bytes();
    out.extend_from_slice(&head[line_end..]);
    Some(out)
}

/// `CONNECT host:port HTTP/1.1` or `GET http://host:port/path HTTP/1.1`, and the headers.
fn parse_head(head: &[u8]) -> Option<Seen> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?;
    let target = if method == "CONNECT" {
        target.to_string()
    } else {
        let url = url::Url::parse(target).ok()?;
        format!("{}:{}", url.host_str()?, url.port_or_known_default()?)
    };
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_string());
    Some(Seen {
        method,
        target,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads() {
        let get = parse_head(
            b"GET http://127.0.0.1:9200/ HTTP/1.1\r\nhost: 127.0.0.1:9200\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
        )
        .unwrap();
        assert_eq!(get.target, "127.0.0.1:9200");
        assert_eq!(get.authorization.as_deref(), Some("Basic dTpw"));
        let connect = parse_head(b"CONNECT graph.example:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            (connect.method.as_str(), connect.target.as_str()),
            ("CONNECT", "graph.example:443")
        );
        assert_eq!(parse_head(b"GET /relative HTTP/1.1\r\n\r\n"), None);
        assert_eq!(
            origin_form(b"GET http://h:1/a/b?c=d HTTP/1.1\r\nhost: h:1\r\n\r\n").unwrap(),
            b"GET /a/b?c=d HTTP/1.1\r\nhost: h:1\r\n\r\n"
        );
    }
}
