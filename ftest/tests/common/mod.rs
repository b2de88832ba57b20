//! Shared by the stand-in's integration tests: start a stand-in built by this very `cargo test`, and build
//! requests as `elastic` or as an API key.
#![allow(dead_code)] // each test file uses a different subset

pub mod connectors;

use ftest::{ApiKey, StandIn, StandInOptions};
use reqwest::{Method, RequestBuilder};

pub struct Es {
    pub standin: StandIn,
    pub http: reqwest::Client,
}

impl Es {
    pub fn start() -> Es {
        Es::start_with(StandInOptions::default())
    }

    pub fn start_with(mut options: StandInOptions) -> Es {
        options.binary = Some(env!("CARGO_BIN_EXE_es-standin").into());
        let standin = StandIn::start(options).expect("stand-in starts");
        Es {
            standin,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.standin.url, path)
    }

    /// A request without credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    pub fn elastic(&self, method: Method, path: &str) -> RequestBuilder {
        let (user, password) = self.standin.basic_auth();
        self.anonymous(method, path)
            .basic_auth(user, Some(password))
    }

    pub fn with_key(&self, key: &ApiKey, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path)
            .header("Authorization", key.authorization_header())
    }
}

/// Sends and returns (status, JSON body); a body that is not JSON becomes `Null`.
pub async fn send(request: RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("request reaches the stand-in");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}
