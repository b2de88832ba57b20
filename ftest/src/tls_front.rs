//! [`TlsFront`]: an in-process HTTPS front for tests. It terminates TLS with a given certificate and relays the
//! bytes to a plain HTTP server (the Graph fixture, the Elasticsearch stand-in), so a client's trust decisions
//! are tested against real servers: a client that does not trust the certificate's CA fails the handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// A running front on `127.0.0.1`. Dropping it stops it and every connection it relays.
#[derive(Debug)]
pub struct TlsFront {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// Serves `cert_pem` (chain) / `key_pem` and relays each connection to `backend` (`host:port`). Must run
    /// inside a Tokio runtime.
    pub async fn start(cert_pem: &[u8], key_pem: &[u8], backend: &str) -> anyhow::Result<TlsFront> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .context("server certificate PEM")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).context("server key PEM")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let backend = backend.to_string();
        let task = tokio::spawn(async move {
            // Owned here, so stopping the accept loop also ends every relayed connection.
            let mut connections = JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                connections.spawn(async move {
                    // A client that rejects the certificate ends the handshake: nothing to relay.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut upstream) = TcpStream::connect(&backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(TlsFront { addr, task })
    }

    /// `https://{host}:{port}`; `host` must be one the certificate names.
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
