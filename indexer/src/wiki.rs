//! A polite MediaWiki API client on top of mwapi.
//!
//! Wikimedia's API etiquette, enforced in one place: a User-Agent naming the tool and a
//! contact, `maxlag=5`, one request at a time, `Retry-After` honoured, exponential back-off
//! on HTTP 5xx, timeouts, `ratelimited` and truncated answers, and a clear error after a
//! bounded number of attempts, never a hang. mwapi's own retry loop is switched off
//! (`retry_limit(0)`) so that every HTTP request goes through [`Wiki::query`] (or
//! [`Wiki::post`], for the report's edits), which is what makes the request count of
//! `--summary-json` exact.

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
        Wiki::connect_asserting(api_url, credentials, politeness, None).await
    }

    /// Connects like [`Wiki::connect`], but every request asserts that the session is a
    /// bot's (`assert=bot`): an edit meant as a bot edit fails, rather than being saved,
    /// when the login was lost or the account (or its bot password) lacks the bot right.
    pub async fn connect_bot(
        api_url: &str,
        credentials: &Credentials,
        politeness: Politeness,
    ) -> Result<Wiki> {
        Wiki::connect_asserting(api_url, credentials, politeness, Some(mwapi::Assert::Bot)).await
    }

    async fn connect_asserting(
        api_url: &str,
        credentials: &Credentials,
        politeness: Politeness,
        assert: Option<mwapi::Assert>,
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
        if let Some(assert) = assert {
            builder = builder.set_assert(assert);
        }
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
        self.request(false, params).await
    }

    /// One API POST request (an edit: `params` hold the token), retried politely like a
    /// query. Trying an edit again is safe: the same text saved twice is a null edit.
    pub async fn post(&self, params: &[(&str, String)]) -> Result<Value> {
        self.request(true, params).await
    }

    /// A CSRF token for [`Wiki::post`].
    pub async fn csrf_token(&self) -> Result<String> {
        let answer = self
            .query(&[
                ("action", "query".to_string()),
                ("meta", "tokens".to_string()),
                ("type", "csrf".to_string()),
            ])
            .await?;
        answer["query"]["tokens"]["csrftoken"]
            .as_str()
            .filter(|t| t.len() > 2)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the wiki at {} gave no edit token", self.api_url))
    }

    async fn request(&self, post: bool, params: &[(&str, String)]) -> Result<Value> {
        let mut backoff = self.politeness.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = if post {
                self.client.post_value(params.to_vec()).await
            } else {
                self.client.get_value(params.to_vec()).await
            };
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

    /// Saves `edit.text` on `edit.title` (`action=edit`), with a fresh CSRF token, through
    /// [`Wiki::post`]. The base in `edit.base` is what keeps an edit from overwriting
    /// someone else's: a page created, changed or deleted since it was read makes the edit
    /// fail with a message that says so, and nothing is saved. A token that expired between
    /// fetching and using it is fetched once more.
    pub async fn edit(&self, edit: &Edit<'_>) -> Result<Saved> {
        let mut params: Vec<(&str, String)> = vec![
            ("action", "edit".to_string()),
            ("title", edit.title.to_string()),
            ("text", edit.text.to_string()),
            ("summary", edit.summary.to_string()),
            ("watchlist", "nochange".to_string()),
        ];
        if edit.bot {
            params.push(("bot", "1".to_string()));
        }
        if edit.minor {
            params.push(("minor", "1".to_string()));
        }
        match &edit.base {
            EditBase::Any => {}
            EditBase::Missing => params.push(("createonly", "1".to_string())),
            EditBase::Revision { revid, timestamp } => {
                params.push(("nocreate", "1".to_string()));
                params.push(("baserevid", revid.to_string()));
                if let Some(timestamp) = timestamp {
                    params.push(("basetimestamp", timestamp.clone()));
                }
            }
        }
        if let Some(read_at) = &edit.read_at {
            params.push(("starttimestamp", read_at.clone()));
        }
        let title = edit.title;
        let mut answer = None;
        for attempt in 0..2 {
            let mut with_token = params.clone();
            with_token.push(("token", self.csrf_token().await?));
            match self.post(&with_token).await {
                Ok(value) => {
                    answer = Some(value);
                    break;
                }
                Err(e) if attempt == 0 && is_api_error(&e, "badtoken") => continue,
                Err(e) => return Err(explain_edit_error(e, title)),
            }
        }
        let answer =
            answer.ok_or_else(|| anyhow!("saving {title}: the edit token kept failing"))?;
        let result = &answer["edit"];
        if result["result"].as_str() != Some("Success") {
            // An extension (AbuseFilter, a CAPTCHA, SpamBlacklist…) stopped it.
            bail!("saving {title} was refused: {result}");
        }
        if result.get("nochange").is_some() {
            return Ok(Saved::Unchanged);
        }
        let revid = result["newrevid"].as_u64().ok_or_else(|| {
            anyhow!("saving {title}: the wiki gave no new revision id ({result})")
        })?;
        Ok(if result.get("new").is_some() {
            Saved::Created(revid)
        } else {
            Saved::Updated(revid)
        })
    }
}

/// Which state of a page an edit builds on ([`Wiki::edit`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EditBase {
    /// Whatever the page holds when the edit arrives; no check.
    #[default]
    Any,
    /// The page did not exist when it was read (`createonly`): if someone has created it
    /// since, the edit fails instead of replacing their page.
    Missing,
    /// The page was read at this revision (`nocreate`, `baserevid`, `basetimestamp`): a
    /// later edit by someone else is merged by MediaWiki when it touches other lines and is
    /// an edit conflict otherwise; a deletion since is an error.
    Revision {
        revid: u64,
        /// The revision's timestamp as the API gave it, when known.
        timestamp: Option<String>,
    },
}

/// One page edit for [`Wiki::edit`].
#[derive(Debug, Clone)]
pub struct Edit<'a> {
    pub title: &'a str,
    /// The page's whole new text.
    pub text: &'a str,
    pub summary: &'a str,
    /// Mark the edit as a bot's (`bot=1`; MediaWiki ignores it without the bot right).
    /// Pair it with [`Wiki::connect_bot`] to refuse to edit at all without that right.
    pub bot: bool,
    pub minor: bool,
    pub base: EditBase,
    /// The wiki's clock when the page was read (`curtimestamp` of that query): a deletion
    /// after it is reported instead of the page being made again.
    pub read_at: Option<String>,
}

impl<'a> Edit<'a> {
    /// An edit of `title` with no conflict check, not a bot's, not minor.
    pub fn new(title: &'a str, text: &'a str, summary: &'a str) -> Edit<'a> {
        Edit {
            title,
            text,
            summary,
            bot: false,
            minor: false,
            base: EditBase::Any,
            read_at: None,
        }
    }
}

/// What [`Wiki::edit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new page, at this revision.
    Created(u64),
    /// A new revision of an existing page.
    Updated(u64),
    /// The page already held this text (a null edit: no revision made).
    Unchanged,
}

/// Whether the wiki answered with the API error `code`.
fn is_api_error(error: &anyhow::Error, code: &str) -> bool {
    error
        .chain()
        .any(|cause| match cause.downcast_ref::<mwapi::Error>() {
            Some(mwapi::Error::BadToken) => code == "badtoken",
            Some(mwapi::Error::ApiError(api)) => api.code == code,
            _ => false,
        })
}

/// The refusals an edit with a base can meet, said plainly.
fn explain_edit_error(error: anyhow::Error, title: &str) -> anyhow::Error {
    let why = [
        ("editconflict", "someone else edited it since it was read"),
        ("articleexists", "someone created it since it was read"),
        ("missingtitle", "it was deleted since it was read"),
        ("pagedeleted", "it was deleted since it was read"),
        ("protectedpage", "it is protected"),
        ("permissiondenied", "this account may not edit it"),
    ]
    .into_iter()
    .find(|(code, _)| is_api_error(&error, code));
    match why {
        Some((_, why)) => error.context(format!(
            "not saving {title}: {why}; nothing was overwritten"
        )),
        None => error.context(format!("saving {title}")),
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;

    fn api_error(code: &str) -> anyhow::Error {
        let error = mwapi::Error::from(mwapi::ApiError {
            code: code.to_string(),
            text: "text from the wiki".to_string(),
            data: None,
        });
        // As `Wiki::request` returns it.
        anyhow!(error).context("the wiki at http://wiki/api.php refused a request")
    }

    #[test]
    fn edit_refusals_are_said_plainly() {
        let conflict = explain_edit_error(api_error("editconflict"), "Template:T");
        let message = format!("{conflict:#}");
        assert!(
            message.contains("not saving Template:T: someone else edited it since it was read"),
            "{message}"
        );
        assert!(message.contains("text from the wiki"), "{message}");
        let other = format!(
            "{:#}",
            explain_edit_error(api_error("abusefilter-disallowed"), "Template:T")
        );
        assert!(other.starts_with("saving Template:T: "), "{other}");
        assert!(is_api_error(&api_error("badtoken"), "badtoken"));
        assert!(!is_api_error(&api_error("editconflict"), "badtoken"));
    }
}
