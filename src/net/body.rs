//! Reading an HTTP reply body with a byte cap: chunk by chunk with a running total, so a reply over the cap
//! costs at most the cap plus one chunk, whatever its `Content-Length` says or when it has none.

/// Why a capped body read failed.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("reply larger than {limit} bytes; refused")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

/// The body of `response`, or [`BodyError::TooLarge`] as soon as it is known to exceed `limit` bytes (from the
/// declared length before reading, or from the running total while reading).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = response.content_length().unwrap_or(0);
    if usize::try_from(declared).map_or(true, |size| size > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    // Reserve what was declared (already checked against the cap), never more.
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A plain-TCP HTTP server for tests that answers every request with the same raw reply.
#[cfg(test)]
pub(crate) mod test_server {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves `head` (status line and headers, no blank line) then `body`, as written, to every connection;
    /// returns `http://addr`.
    pub(crate) async fn serve(head: &'static str, body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = std::sync::Arc::new(body);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(b"\r\n\r\n").await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://{addr}")
    }

    /// `body` as one chunk of a chunked transfer encoding, then the last chunk.
    pub(crate) fn chunked(body: &[u8]) -> Vec<u8> {
        let mut out = format!("{:x}\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::test_server::{chunked, serve};
    use super::*;

    async fn get(host: &str) -> reqwest::Response {
        reqwest::Client::new().get(host).send().await.unwrap()
    }

    #[tokio::test]
    async fn bodies_up_to_the_cap_are_read_and_longer_ones_refused() {
        let host = serve(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked",
            chunked(&[b'a'; 100]),
        )
        .await;
        assert_eq!(read_capped(get(&host).await, 100).await.unwrap().len(), 100);
        // No declared length: the running total stops it.
        let e = read_capped(get(&host).await, 99).await.unwrap_err();
        assert!(matches!(e, BodyError::TooLarge { limit: 99 }), "{e}");
        // A declared length over the cap is refused before reading.
        let host = serve("HTTP/1.1 200 OK\r\ncontent-length: 1000000", Vec::new()).await;
        let e = read_capped(get(&host).await, 1000).await.unwrap_err();
        assert!(matches!(e, BodyError::TooLarge { limit: 1000 }), "{e}");
    }
}
