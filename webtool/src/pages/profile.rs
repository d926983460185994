//! One person's profile page.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};

use super::*;
use crate::state::AppState;
use exchange::wikitext::title::normalize_user_name;

/// `GET /profile/{user}`: everything the person published and ways to connect.
pub async fn profile(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    let Some(snapshot) = state.snapshot() else {
        return no_snapshot(lang);
    };
    let Some(name) = normalize_user_name(&user) else {
        return not_found_page(lang);
    };
    let lookup_name = name.clone();
    let found = tokio::task::spawn_blocking(move || {
        let profile = snapshot.profile(&lookup_name)?;
        let email = snapshot.accepts_email(&lookup_name)?;
        Ok::<_, exchange::store::StoreError>((profile, email))
    })
    .await;
    let (profile, email) = match found {
        Ok(Ok((Some(profile), email))) => (profile, email),
        Ok(Ok((None, _))) => {
            return not_found_page(lang);
        }
        _ => {
            return server_error(lang);
        }
    };
    let subject = i18n::Catalog::global().message(lang, "capx-talk-subject", &[]);
    let talk_url = format!(
        "{WIKI}/w/index.php?title={}&action=edit&section=new&preloadtitle={}",
        urlencode(&format!("User_talk:{}", name.replace(' ', "_"))),
        urlencode(&subject)
    );
    let extra = context! {
        p => Value::from(minijinja::value::Serde(&profile)),
        talk_url => talk_url,
        email_url => email.then(|| wiki_url(&format!("Special:EmailUser/{name}"))),
        page_url => wiki_url(&profile.page),
        edit_url => format!("{}?action=edit", wiki_url(&profile.page)),
    };
    render(lang, "profile.html", extra, StatusCode::OK)
}
