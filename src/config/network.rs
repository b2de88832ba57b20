//! The environment variables that shape outgoing connections, read once here (the only module that reads the
//! environment) in the conventions curl and OpenSSL use, so a host's existing proxy and certificate-store
//! settings apply without new configuration:
//! - `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (upper case first, then lower case) and `NO_PROXY`;
//! - `SSL_CERT_FILE` / `SSL_CERT_DIR`, which move the operating system's certificate store.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::secret::Secret;

/// Outgoing-connection settings from the process environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkEnv {
    pub proxy: ProxyEnv,
    pub cert_store: CertStoreEnv,
}

/// The proxy variables, validated. Proxy URLs may carry credentials (`http://user:pass@proxy:3128`), so they are
/// [`Secret`]s: they never appear in logs, messages or debug output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyEnv {
    /// For `https://` URLs: `HTTPS_PROXY` / `https_proxy`.
    pub https: Option<Secret>,
    /// For `http://` URLs: `HTTP_PROXY` / `http_proxy`.
    pub http: Option<Secret>,
    /// For either scheme when the specific variable is unset: `ALL_PROXY` / `all_proxy`.
    pub all: Option<Secret>,
    /// `NO_PROXY` / `no_proxy`: comma-separated hosts, domains, IP addresses or CIDR ranges reached directly.
    pub no_proxy: String,
}

/// Where the operating system's certificate store is, when the environment moves it (OpenSSL's variables);
/// both unset means the platform's own store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CertStoreEnv {
    /// `SSL_CERT_FILE`: a PEM bundle.
    pub file: Option<PathBuf>,
    /// `SSL_CERT_DIR`: directories of PEM files, `:`-separated.
    pub dirs: Vec<PathBuf>,
}

/// A proxy variable that is set but unusable. The value is never repeated: it may hold a password.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ProxyVarError {
    pub name: &'static str,
    pub problem: &'static str,
}

pub fn read(vars: &HashMap<String, String>) -> Result<NetworkEnv, ProxyVarError> {
    let proxy = ProxyEnv {
        https: proxy_var(vars, ["HTTPS_PROXY", "https_proxy"])?,
        http: proxy_var(vars, ["HTTP_PROXY", "http_proxy"])?,
        all: proxy_var(vars, ["ALL_PROXY", "all_proxy"])?,
        no_proxy: first(vars, ["NO_PROXY", "no_proxy"])
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default(),
    };
    let cert_store = CertStoreEnv {
        file: first(vars, ["SSL_CERT_FILE"]).map(|(_, v)| PathBuf::from(v)),
        dirs: first(vars, ["SSL_CERT_DIR"])
            .map(|(_, v)| {
                std::env::split_paths(v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok(NetworkEnv { proxy, cert_store })
}

/// The first of `names` that is set and not blank (an empty `HTTPS_PROXY=` means "no proxy", as in curl).
fn first<'a, const N: usize>(
    vars: &'a HashMap<String, String>,
    names: [&'static str; N],
) -> Option<(&'static str, &'a str)> {
    names.into_iter().find_map(|name| {
        vars.get(name)
            .map(|v| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name, v))
    })
}

/// A proxy URL as curl reads it: `host:port` means `http://host:port`; only http(s) proxies are supported.
fn proxy_var(
    vars: &HashMap<String, String>,
    names: [&'static str; 2],
) -> Result<Option<Secret>, ProxyVarError> {
    let Some((name, value)) = first(vars, names) else {
        return Ok(None);
    };
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| ProxyVarError {
        name,
        problem: "not a proxy URL (expected http://host:port)",
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProxyVarError {
            name,
            problem: "only http:// and https:// proxies are supported",
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ProxyVarError {
            name,
            problem: "the proxy URL has no host",
        });
    }
    Ok(Some(Secret::new(with_scheme)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn proxy_variables_upper_case_first_and_scheme_defaults_to_http() {
        let n = read(&env(&[
            ("HTTPS_PROXY", "proxy.corp:3128"),
            ("https_proxy", "http://ignored:1"),
            ("http_proxy", "http://lower:8080"),
            ("no_proxy", " localhost,.internal "),
        ]))
        .unwrap();
        assert_eq!(
            n.proxy.https.as_ref().map(Secret::expose),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(
            n.proxy.http.as_ref().map(Secret::expose),
            Some("http://lower:8080")
        );
        assert_eq!(n.proxy.all, None);
        assert_eq!(n.proxy.no_proxy, "localhost,.internal");
    }

    #[test]
    fn blank_variables_mean_unset() {
        let n = read(&env(&[("HTTPS_PROXY", " "), ("https_proxy", "http://p:1")])).unwrap();
        assert_eq!(
            n.proxy.https.as_ref().map(Secret::expose),
            Some("http://p:1")
        );
        assert_eq!(read(&env(&[])).unwrap(), NetworkEnv::default());
    }

    #[test]
    fn bad_proxy_values_name_the_variable_but_never_the_value() {
        for (value, problem) in [
            ("socks5://user:hunter2@p:1080", "only http"),
            ("http://user:hunter2@:1", "not a proxy URL"),
        ] {
            let e = read(&env(&[("ALL_PROXY", value)])).unwrap_err().to_string();
            assert!(e.contains("ALL_PROXY") && e.contains(problem), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn proxy_credentials_stay_out_of_debug_output() {
        let n = read(&env(&[("HTTPS_PROXY", "http://user:hunter2@proxy:3128")])).unwrap();
        assert!(!format!("{n:?}").contains("hunter2"));
    }

    #[test]
    fn certificate_store_location() {
        let n = read(&env(&[
            ("SSL_CERT_FILE", "/etc/corp/ca.pem"),
            ("SSL_CERT_DIR", "/a::/b"),
        ]))
        .unwrap();
        assert_eq!(n.cert_store.file, Some(PathBuf::from("/etc/corp/ca.pem")));
        assert_eq!(
            n.cert_store.dirs,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
    }
}
