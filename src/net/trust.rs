//! Which certificate authorities TLS connections trust beyond the roots bundled in the binary (webpki-roots, which
//! reqwest always adds): the operating system's store, and CA files named in config.yml. A company proxy that
//! inspects TLS re-signs every site with its own CA; hosts that work behind one have that CA in their store, so
//! trusting the store makes the service work where other programs on the host do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::config::CertStoreEnv;
use crate::lock::lock;

/// A CA file named in config.yml that cannot be used. `key` is the config key that named it.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{key}: cannot read {}: {source}", path.display())]
    Read {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{key}: {} is not a PEM file: {reason}", path.display())]
    NotPem {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{key}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { key: &'static str, path: PathBuf },
    #[error("{key}: certificate {index} in {} cannot be trusted as a CA: {reason}", path.display())]
    Unusable {
        key: &'static str,
        path: PathBuf,
        index: usize,
        reason: String,
    },
}

/// The CA certificates of a PEM file (other PEM sections, e.g. a private key, are skipped).
pub fn read_ca_file(
    path: &Path,
    key: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let pem = std::fs::read(path).map_err(|source| TrustError::Read {
        key,
        path: path.into(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrustError::NotPem {
            key,
            path: path.into(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TrustError::NoCertificate {
            key,
            path: path.into(),
        });
    }
    for (i, cert) in certs.iter().enumerate() {
        // Checked here so a bad file is named at start; reqwest would only say "builder error" later.
        if let Err(e) = usable_as_root(cert) {
            return Err(TrustError::Unusable {
                key,
                path: path.into(),
                index: i + 1,
                reason: e.to_string(),
            });
        }
    }
    Ok(certs)
}

/// Whether rustls accepts the certificate as a trust anchor. Stores often hold ancient roots it rejects; handing
/// one to reqwest would fail the whole client, so such certificates are filtered out first.
fn usable_as_root(cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
    rustls::RootCertStore::empty().add(cert.clone())
}

/// The usable certificates of the operating system's store (or of `SSL_CERT_FILE` / `SSL_CERT_DIR` when set).
/// Loaded once per location and process: the store is a file of a few hundred KiB that does not change while
/// the service runs, and every HTTP client needs it. Never fails: an empty or unreadable store leaves the bundled
/// roots and configured CA files, with a warning when something could not be read.
pub fn os_roots(store: &CertStoreEnv) -> Arc<[CertificateDer<'static>]> {
    type Cache = Mutex<HashMap<CertStoreEnv, Arc<[CertificateDer<'static>]>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut cache = lock(CACHE.get_or_init(Cache::default));
    cache
        .entry(store.clone())
        .or_insert_with(|| load_os_roots(store))
        .clone()
}

fn load_os_roots(store: &CertStoreEnv) -> Arc<[CertificateDer<'static>]> {
    let (source, loaded) = if store.file.is_none() && store.dirs.is_empty() {
        (
            "the operating system's certificate store",
            rustls_native_certs::load_native_certs(),
        )
    } else {
        let mut loaded = rustls_native_certs::load_certs_from_paths(store.file.as_deref(), None);
        for dir in &store.dirs {
            let more = rustls_native_certs::load_certs_from_paths(None, Some(dir));
            loaded.certs.extend(more.certs);
            loaded.errors.extend(more.errors);
        }
        ("SSL_CERT_FILE / SSL_CERT_DIR", loaded)
    };
    for e in &loaded.errors {
        tracing::warn!(
            "Cannot read part of {source}: {e}; TLS trusts the bundled roots and the configured CA files"
        );
    }
    let total = loaded.certs.len();
    let usable: Vec<_> = loaded
        .certs
        .into_iter()
        .filter(|c| usable_as_root(c).is_ok())
        .collect();
    tracing::debug!(
        trusted = usable.len(),
        skipped = total - usable.len(),
        "TLS trusts {} certificates from {source} in addition to the bundled roots",
        usable.len()
    );
    usable.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../../tests/fixtures/tls/ca.pem");
    const SERVER_KEY: &str = include_str!("../../tests/fixtures/tls/server-key.pem");

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn ca_file_errors_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (dir.path().join("missing.pem"), "cannot read"),
            (
                file(&dir, "text", "not a certificate"),
                "holds no PEM certificate",
            ),
            (file(&dir, "key", SERVER_KEY), "holds no PEM certificate"),
            (
                file(
                    &dir,
                    "garbage",
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                ),
                "cannot be trusted as a CA",
            ),
        ];
        for (path, problem) in cases {
            let e = read_ca_file(&path, "graph.ca_certs")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("graph.ca_certs: ") && e.contains(problem),
                "{e}"
            );
            assert!(e.contains(&path.display().to_string()), "{e}");
        }
    }

    #[test]
    fn ca_file_with_a_key_beside_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "both", &format!("{SERVER_KEY}{CA}"));
        assert_eq!(read_ca_file(&path, "k").unwrap().len(), 1);
    }

    #[test]
    fn a_missing_store_is_a_warning_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let store = CertStoreEnv {
            file: Some(dir.path().join("nowhere.pem")),
            dirs: vec![dir.path().join("nodir")],
        };
        assert!(os_roots(&store).is_empty());
        let store = CertStoreEnv {
            file: Some(file(&dir, "ca", CA)),
            dirs: Vec::new(),
        };
        assert_eq!(os_roots(&store).len(), 1);
    }
}
