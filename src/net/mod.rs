//! Outgoing connections: which certificate authorities TLS trusts and which proxy a request takes. Every HTTP
//! client of the service (Graph and sign-in, downloads, Elasticsearch, the extraction service) is built from an
//! [`Outbound`], so the same rules hold everywhere:
//! - trust: the roots bundled in the binary, plus the operating system's store, plus CA files named in config.yml
//!   (`elasticsearch.ca_certs`, `graph.ca_certs`) for the connections they concern;
//! - proxy: `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` as `config` read them. reqwest's own reading
//!   of those variables is switched off, so nothing else decides.

pub mod body;
pub mod probe;
mod proxy;
mod trust;

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::config::NetworkEnv;
pub use proxy::ProxyRules;
pub use trust::{read_ca_file, TrustError};

/// Trust roots (beyond the bundled ones) and proxy rules for outgoing connections. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    roots: Arc<[CertificateDer<'static>]>,
    proxy: Arc<ProxyRules>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("extra_roots", &self.roots.len())
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// The operating system's store and no proxy: what a process without proxy variables gets.
impl Default for Outbound {
    fn default() -> Self {
        Outbound::from_env(&NetworkEnv::default())
    }
}

impl Outbound {
    /// The OS store (loaded once per process) and the proxy variables.
    pub fn from_env(env: &NetworkEnv) -> Outbound {
        Outbound {
            roots: trust::os_roots(&env.cert_store),
            proxy: Arc::new(ProxyRules::new(&env.proxy)),
        }
    }

    /// The same, also trusting the CA certificates in `path` (named by config key `key` in errors).
    pub fn with_ca_file(&self, path: &Path, key: &'static str) -> Result<Outbound, TrustError> {
        let extra = read_ca_file(path, key)?;
        Ok(Outbound {
            roots: self.roots.iter().cloned().chain(extra).collect(),
            proxy: self.proxy.clone(),
        })
    }

    /// Roots to trust in addition to the bundled ones.
    pub fn roots(&self) -> &[CertificateDer<'static>] {
        &self.roots
    }

    /// The proxy for `url`, credentials included (never log it), or `None` to connect directly.
    pub fn proxy_for(&self, url: &url::Url) -> Option<&url::Url> {
        self.proxy.proxy_for(url)
    }

    /// A reqwest builder with these roots and proxy rules; callers add timeouts and the like.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        // `no_proxy` first: it drops reqwest's implicit reading of the proxy variables; the rules below are the
        // ones `config` read.
        let mut builder = reqwest::Client::builder().no_proxy();
        for der in self.roots.iter() {
            // Every root was checked to be usable (trust.rs), so conversion cannot fail; skip rather than panic.
            if let Ok(cert) = reqwest::Certificate::from_der(der) {
                builder = builder.add_root_certificate(cert);
            }
        }
        if !self.proxy.is_empty() {
            let rules = self.proxy.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |url| {
                rules.proxy_for(url).cloned()
            }));
        }
        builder
    }
}
