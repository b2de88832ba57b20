//! A reachability probe for services the service only checks, never uses for data (the extraction service's
//! `/ping/`): one GET through the [`Outbound`] rules, with a timeout, answering the status or why there was none.

use std::time::Duration;

use super::Outbound;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The server answered with this status.
    Answered(u16),
    /// No answer: the client could not be built or the request failed (message without the URL's credentials).
    Unreachable(String),
}

/// `GET url` once, within `timeout`.
pub async fn get(outbound: &Outbound, url: &str, timeout: Duration) -> Probe {
    let client = match outbound.client_builder().timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => return Probe::Unreachable(format!("cannot build an HTTP client: {e}")),
    };
    match client.get(url).send().await {
        Ok(r) => Probe::Answered(r.status().as_u16()),
        Err(e) => Probe::Unreachable(e.without_url().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_a_server_answers_its_status() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let out = Outbound::default();
        let url = format!("http://{addr}/ping/");
        assert_eq!(
            get(&out, &url, Duration::from_secs(5)).await,
            Probe::Answered(503)
        );
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let probe = get(
            &out,
            &format!("http://{closed}/ping/"),
            Duration::from_secs(5),
        )
        .await;
        assert!(matches!(probe, Probe::Unreachable(_)), "{probe:?}");
    }
}
