//! What the end-to-end tests against the local MediaWiki share: a person using the API
//! with their own cookies (`mod common;` in each test file; a test may add methods).

use serde_json::Value;

/// One logged-in (or anonymous) person using the API, with their own cookies.
pub struct Session {
    pub http: reqwest::Client,
    pub api: String,
}

impl Session {
    pub fn new(api: &str) -> Session {
        Session {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .user_agent("CapacityExchange-tests/0.1 (loopback test wiki)")
                .build()
                .unwrap(),
            api: api.to_string(),
        }
    }

    pub async fn get(&self, params: &[(&str, &str)]) -> Value {
        let mut all = vec![("format", "json"), ("formatversion", "2")];
        all.extend_from_slice(params);
        self.http
            .get(&self.api)
            .query(&all)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, params: &[(&str, &str)]) -> Value {
        let mut all = vec![("format", "json"), ("formatversion", "2")];
        all.extend_from_slice(params);
        let value: Value = self
            .http
            .post(&self.api)
            .form(&all)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(value.get("error").is_none(), "{params:?} → {value}");
        value
    }

    pub async fn token(&self, kind: &str) -> String {
        let answer = self
            .get(&[("action", "query"), ("meta", "tokens"), ("type", kind)])
            .await;
        answer["query"]["tokens"][format!("{kind}token")]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn create_account(api: &str, user: &str, password: &str) -> Session {
        let session = Session::new(api);
        let token = session.token("createaccount").await;
        let created = session
            .post(&[
                ("action", "createaccount"),
                ("username", user),
                ("password", password),
                ("retype", password),
                ("createreturnurl", "http://127.0.0.1/"),
                ("createtoken", &token),
            ])
            .await;
        assert_eq!(created["createaccount"]["status"], "PASS", "{created}");
        session.login(user, password).await;
        session
    }

    pub async fn login(&self, user: &str, password: &str) {
        let token = self.token("login").await;
        let answer = self
            .post(&[
                ("action", "clientlogin"),
                ("username", user),
                ("password", password),
                ("loginreturnurl", "http://127.0.0.1/"),
                ("logintoken", &token),
            ])
            .await;
        assert_eq!(answer["clientlogin"]["status"], "PASS", "{answer}");
    }

    pub async fn edit(&self, title: &str, text: &str) {
        let token = self.token("csrf").await;
        let answer = self
            .post(&[
                ("action", "edit"),
                ("title", title),
                ("text", text),
                ("summary", "test"),
                ("token", &token),
            ])
            .await;
        assert_eq!(answer["edit"]["result"], "Success", "{answer}");
    }
}
