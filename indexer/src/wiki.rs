//! A polite MediaWiki API client on top of mwapi.
//!
//! Wikimedia's API etiquette, enforced in one place: a User-Agent naming the tool and a
//! contact, `maxlag=5`, one request at a time, `Retry-After` honoured, exponential back-off
//! on HTTP 5xx, timeouts, `ratelimited` and truncated answers, and a clear error after a
//! bounded number of attempts, never a hang. mwapi's own retry loop is switched off
//! (`retry_limit(0)`) so that every HTTP request goes through [`Wiki::query`], which is what
//! makes the request count of `--summary-json` exact.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use tracing::{info, warn};

/// Identifies the tool to wiki operators, as the Wikimedia User-Agent policy asks.
pub const USER_AGENT: &str = concat!(
    "CapacityExchange/",
    env!("CARGO_PKG_VERSION"),
    " (https://capacity-exchange.toolforge.org; tools.capacity-exchange@toolforge.org) mwapi-rs"
);

/// How to log in, if at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    /// A bot password: login name `Name@app` and its password.
    BotPassword {
        user: String,
        password: String,
    },
    /// An OAuth 2 owner-only access token.
    OAuth2 {
        token: String,
    },
}

impl Credentials {
    /// From `CAPX_WIKI_USER` + `CAPX_WIKI_PASSWORD`, or `CAPX_WIKI_OAUTH2_TOKEN`.
    pub fn from_env() -> Credentials {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        match (
            var("CAPX_WIKI_USER"),
            var("CAPX_WIKI_PASSWORD"),
            var("CAPX_WIKI_OAUTH2_TOKEN"),
        ) {
            (_, _, Some(token)) => Credentials::OAuth2 { token },
            (Some(user), Some(password), None) => Credentials::BotPassword { user, password },
            _ => Credentials::Anonymous,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        *self == Credentials::Anonymous
    }
}

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct Politeness {
    /// Longest a single HTTP request may take.
    pub timeout: Duration,
    /// Attempts per request before giving up.
    pub max_attempts: u32,
    /// First back-off delay; doubled after each failure.
    pub backoff: Duration,
    /// Longest single wait, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness {
            timeout: Duration::from_secs(60),
            max_attempts: 6,
            backoff: Duration::from_secs(2),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// A connection to one wiki's API.
pub struct Wiki {
    api_url: String,
    client: mwapi::Client,
    politeness: Politeness,
    requests: AtomicU64,
    logged_in: bool,
}

/// What went wrong with one attempt, and whether trying again may help.
enum Failure {
    Retry {
        wait: Option<Duration>,
        reason: String,
    },
    Fatal(anyhow::Error),
}

fn classify(error: mwapi::Error) -> Failure {
    use mwapi::Error as E;
    let retry_after = error.retry_after().map(Duration::from_secs);
    match error {
        E::Maxlag { info, .. } => Failure::Retry {
            wait: retry_after,
            reason: format!("the wiki is lagged ({info})"),
        },
        E::Readonly { info, .. } => Failure::Retry {
            wait: retry_after,
            reason: format!("the wiki is read-only ({info})"),
        },
        E::TooManyRequests { .. } => Failure::Retry {
            wait: retry_after,
            reason: "HTTP 429 Too Many Requests".into(),
        },
        E::ApiError(api) if api.code == "ratelimited" => Failure::Retry {
            wait: None,
            reason: "rate limited by the wiki".into(),
        },
        E::InternalException(api) => Failure::Retry {
            wait: None,
            reason: format!("internal error on the wiki: {api}"),
        },
        E::InvalidJson(e) => Failure::Retry {
            wait: None,
            reason: format!("the answer was not complete JSON: {e}"),
        },
        E::HttpError(e) => {
            let server_side = e.status().is_some_and(|s| s.is_server_error());
            if server_side
                || e.is_timeout()
                || e.is_connect()
                || e.is_body()
                || e.is_decode()
                || e.is_request()
            {
                Failure::Retry {
                    wait: None,
                    reason: format!("HTTP error: {e}"),
                }
            } else {
                Failure::Fatal(anyhow!("HTTP error: {e}"))
            }
        }
        other => Failure::Fatal(anyhow!(other)),
    }
}

impl Wiki {
    /// Connects to `api_url`, logging in when a bot password is given.
    pub async fn connect(
        api_url: &str,
        credentials: &Credentials,
        politeness: Politeness,
    ) -> Result<Wiki> {
        let timeout = politeness.timeout;
        let mut builder = mwapi::Client::builder(api_url)
            .set_user_agent(USER_AGENT)
            .set_maxlag(5)
            .set_retry_limit(0)
            .set_concurrency(1)
            .set_http_client(move || {
                reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout.min(Duration::from_secs(30)))
            });
        let mut login_requests = 0;
        match credentials {
            Credentials::Anonymous => {}
            Credentials::BotPassword { user, password } => {
                builder = builder.set_botpassword(user, password);
                // mwapi logs in with two requests: a login token, then action=login.
                login_requests = 2;
            }
            Credentials::OAuth2 { token } => builder = builder.set_oauth2_token(token),
        }
        let client = builder
            .build()
            .await
            .with_context(|| format!("connecting to {api_url}"))?;
        if login_requests > 0 {
            info!("logged in to {api_url}");
        }
        Ok(Wiki {
            api_url: api_url.to_string(),
            client,
            politeness,
            requests: AtomicU64::new(login_requests),
            logged_in: !credentials.is_anonymous(),
        })
    }

    /// Every HTTP request made so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Counts requests made by another connection of the same run.
    pub fn add_requests(&self, n: u64) {
        self.requests.fetch_add(n, Ordering::Relaxed);
    }

    pub fn is_logged_in(&self) -> bool {
        self.logged_in
    }

    /// One API GET request, retried politely. `params` need not include format or maxlag.
    pub async fn query(&self, params: &[(&str, String)]) -> Result<Value> {
        let mut backoff = self.politeness.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.client.get_value(params.to_vec()).await;
            let failure = match result {
                Ok(value) => return Ok(value),
                Err(e) => classify(e),
            };
            match failure {
                Failure::Fatal(e) => {
                    return Err(
                        e.context(format!("the wiki at {} refused a request", self.api_url))
                    );
                }
                Failure::Retry { wait, reason } => {
                    if attempt >= self.politeness.max_attempts {
                        bail!(
                            "the wiki at {} kept failing ({reason}); gave up after {attempt} attempts",
                            self.api_url
                        );
                    }
                    let wait = wait
                        .unwrap_or(backoff)
                        .max(backoff)
                        .min(self.politeness.max_wait);
                    warn!(
                        "{reason}; trying again in {:.1} s (attempt {attempt})",
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.politeness.max_wait);
                }
            }
        }
    }

    /// A query followed through all its `continue` batches; `each` sees every answer.
    pub async fn query_continued(
        &self,
        params: &[(&str, String)],
        mut each: impl FnMut(&Value) -> Result<()>,
    ) -> Result<()> {
        let mut continuation: Vec<(String, String)> = Vec::new();
        loop {
            let mut full: Vec<(&str, String)> = params.to_vec();
            for (k, v) in &continuation {
                full.push((k.as_str(), v.clone()));
            }
            let answer = self.query(&full).await?;
            each(&answer)?;
            match answer.get("continue").and_then(Value::as_object) {
                Some(next) => {
                    continuation = next
                        .iter()
                        .map(|(k, v)| {
                            let value = match v {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            (k.clone(), value)
                        })
                        .collect();
                }
                None => return Ok(()),
            }
        }
    }
}
