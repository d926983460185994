//! The connections pass of a crawl: thanks on learners' user pages and request markers on
//! helpers' talk pages (the rules are `exchange::connections`'s; this is only which pages
//! and revisions to ask the wiki for).
//!
//! - **Thanks** are read like profiles: every User page transcluding the thanks template,
//!   from the newest revision its owner saved (someone else's edit never adds or removes a
//!   thanks), with the thanker's registration date from one batched `list=users` pass.
//! - **Requests** are read from User talk pages transcluding the marker. A talk page is
//!   written by others, so the only thing taken from it is each marker and the author of
//!   the revision that added it: the history is walked back from the newest revision until
//!   every marker on the page now has the revision where it appeared.
//!
//! Both lists are taken with `generator=embeddedin` and revision ids only (no text), so
//! pages whose newest revision is the one the previous generation read are carried over
//! without another request; only changed pages are read again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use exchange::connections::{
    REQUEST_TEMPLATE, RequestRecord, SkillKey, THANKS_TEMPLATE, TemplateNames, ThanksRecord,
    parse_requests, parse_thanks, thanks_records,
};
use exchange::store::{ConnectionKind, Snapshot};
use exchange::taxonomy::Taxonomy;
use exchange::wikitext::title::{NS_TEMPLATE, NS_USER, NS_USER_TALK, Title, normalize_user_name};
use serde_json::Value;
use tracing::{info, warn};

use super::{Crawler, Fetched, Progress, merge_pages, parse_revision};
use exchange::harvest::Revision;
use exchange::profile::SkillRef;

/// How many revisions of one talk page are read, at most, to find who added its markers.
/// Markers older than that (on a page edited this often since) are not counted; the
/// crawler says so in its log.
pub const MAX_HISTORY_REVISIONS: usize = 1000;

/// What the pass found: every page read (or carried), and the records of each.
#[derive(Debug, Default)]
pub struct Connections {
    pub pages: Vec<(String, ConnectionKind, u64)>,
    pub thanks: Vec<ThanksRecord>,
    pub requests: Vec<RequestRecord>,
    /// Whether anything differs from the previous generation.
    pub changed: bool,
}

/// What the previous generation holds about connections, by page.
struct Previous {
    pages: HashMap<String, (ConnectionKind, u64)>,
    thanks: HashMap<String, Vec<ThanksRecord>>,
    requests: HashMap<String, Vec<RequestRecord>>,
}

impl Previous {
    fn read(snapshot: Option<&Snapshot>) -> Result<Previous> {
        let mut previous = Previous {
            pages: HashMap::new(),
            thanks: HashMap::new(),
            requests: HashMap::new(),
        };
        if let Some(snapshot) = snapshot {
            previous.pages = snapshot.connection_pages()?;
            for t in snapshot.thanks()? {
                previous.thanks.entry(t.page.clone()).or_default().push(t);
            }
            for r in snapshot.requests()? {
                previous.requests.entry(r.page.clone()).or_default().push(r);
            }
        }
        Ok(previous)
    }

    /// Whether `title` was read at exactly this revision for `kind`.
    fn unchanged(&self, title: &str, kind: ConnectionKind, revid: u64) -> bool {
        self.pages.get(title) == Some(&(kind, revid))
    }
}

/// Which kinds of pages to list again; the others are carried over as they were.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub thanks: bool,
    pub requests: bool,
}

fn title_of(template: &str) -> String {
    format!("Template:{template}")
}

impl Crawler<'_> {
    /// The connections pass. `previous` is the generation being replaced, if any.
    pub(super) async fn connections(
        &mut self,
        previous: Option<&Snapshot>,
        scope: Scope,
    ) -> Result<Connections> {
        let old = Previous::read(previous)?;
        let mut out = Connections::default();
        let carry_kind = |kind: ConnectionKind, out: &mut Connections| {
            for (title, &(k, revid)) in &old.pages {
                if k == kind {
                    carry(&old, title, kind, revid, out);
                }
            }
        };
        let (thanks_names, request_names) = self.connection_template_names().await?;
        if scope.thanks {
            let listed = self.list_embedding(THANKS_TEMPLATE, NS_USER).await?;
            self.read_thanks(&old, listed, &thanks_names, &mut out)
                .await?;
        } else {
            carry_kind(ConnectionKind::Thanks, &mut out);
        }
        if scope.requests {
            let listed = self.list_embedding(REQUEST_TEMPLATE, NS_USER_TALK).await?;
            self.read_requests(&old, listed, &request_names, &mut out)
                .await?;
        } else {
            carry_kind(ConnectionKind::Requests, &mut out);
        }
        let now: BTreeSet<(&str, ConnectionKind, u64)> = out
            .pages
            .iter()
            .map(|(t, k, r)| (t.as_str(), *k, *r))
            .collect();
        let before: BTreeSet<(&str, ConnectionKind, u64)> = old
            .pages
            .iter()
            .map(|(t, (k, r))| (t.as_str(), *k, *r))
            .collect();
        out.changed = now != before;
        info!(
            pages = out.pages.len(),
            thanks = out.thanks.len(),
            requests = out.requests.len(),
            changed = out.changed,
            "connections read"
        );
        Ok(out)
    }

    /// The names the thanks template and the request marker are called by (their
    /// redirects), in one request.
    async fn connection_template_names(&mut self) -> Result<(TemplateNames, TemplateNames)> {
        let params = vec![
            ("action", "query".to_string()),
            (
                "titles",
                format!(
                    "{}|{}",
                    title_of(THANKS_TEMPLATE),
                    title_of(REQUEST_TEMPLATE)
                ),
            ),
            ("prop", "redirects".to_string()),
            ("rdnamespace", NS_TEMPLATE.to_string()),
            ("rdlimit", "max".to_string()),
        ];
        let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
        self.wiki
            .query_continued(&params, |answer| {
                for page in answer
                    .pointer("/query/pages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(title) = page.get("title").and_then(Value::as_str) else {
                        continue;
                    };
                    let entry = aliases.entry(title.to_string()).or_default();
                    for redirect in page
                        .get("redirects")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(t) = redirect.get("title").and_then(Value::as_str) {
                            entry.push(t.to_string());
                        }
                    }
                }
                Ok(())
            })
            .await?;
        let names = |template: &str| {
            TemplateNames::with_aliases(
                template,
                aliases
                    .get(&title_of(template))
                    .cloned()
                    .unwrap_or_default(),
            )
        };
        Ok((names(THANKS_TEMPLATE), names(REQUEST_TEMPLATE)))
    }

    /// Pages of `namespace` transcluding `template`, with their newest revision's id and
    /// author (no text: most pages are unchanged since the previous run).
    async fn list_embedding(
        &mut self,
        template: &str,
        namespace: i32,
    ) -> Result<HashMap<String, Fetched>> {
        let params = vec![
            ("action", "query".to_string()),
            ("generator", "embeddedin".to_string()),
            ("geititle", title_of(template)),
            ("geinamespace", namespace.to_string()),
            ("geilimit", self.batch().to_string()),
            ("prop", "revisions".to_string()),
            ("rvprop", "ids|timestamp|user".to_string()),
        ];
        let mut pages = HashMap::new();
        self.wiki
            .query_continued(&params, |answer| {
                merge_pages(answer, &mut pages);
                Ok(())
            })
            .await?;
        pages.retain(|_, p: &mut Fetched| !p.missing && p.namespace == namespace);
        Ok(pages)
    }

    /// Thanks of changed pages from their owner's newest revision; the rest carried.
    async fn read_thanks(
        &mut self,
        old: &Previous,
        listed: HashMap<String, Fetched>,
        names: &TemplateNames,
        out: &mut Connections,
    ) -> Result<()> {
        let kind = ConnectionKind::Thanks;
        let mut by_owner_now: Vec<(String, u64)> = Vec::new();
        let mut need_owner: Vec<(String, String)> = Vec::new();
        let mut latest_revids: HashMap<String, u64> = HashMap::new();
        for (title, page) in &listed {
            let Some(latest) = &page.latest else { continue };
            latest_revids.insert(title.clone(), latest.revid);
            if old.unchanged(title, kind, latest.revid) {
                carry(old, title, kind, latest.revid, out);
                continue;
            }
            let Some(owner) = Title::parse(title, 0).and_then(|t| t.owner().map(str::to_string))
            else {
                continue;
            };
            if latest.user.as_deref() == Some(owner.as_str()) {
                by_owner_now.push((title.clone(), latest.revid));
            } else {
                need_owner.push((title.clone(), owner));
            }
        }
        let mut texts = self.revisions_by_id(&by_owner_now).await?;
        if !need_owner.is_empty() {
            texts.extend(self.owner_revisions(&need_owner).await?);
        }
        // Registration dates, asked once per thanker.
        let thankers: Vec<String> = texts
            .keys()
            .filter_map(|t| Title::parse(t, 0).and_then(|t| t.owner().map(str::to_string)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let registered = self.registrations(&thankers).await?;
        let mut titles: Vec<&String> = texts.keys().collect();
        titles.sort();
        for title in titles {
            let revision = &texts[title];
            let (Some(text), Some(timestamp)) = (revision.text.as_deref(), revision.timestamp)
            else {
                continue;
            };
            let Some(owner) = Title::parse(title, 0).and_then(|t| t.owner().map(str::to_string))
            else {
                continue;
            };
            let parsed = parse_thanks(text, names, Taxonomy::bundled());
            for warning in &parsed.warnings {
                warn!(page = %title, param = ?warning.param, "{}", warning.message);
            }
            let mut records = thanks_records(
                title,
                revision.revid,
                timestamp,
                &owner,
                registered.get(&owner).copied().flatten(),
                &parsed.thanks,
            );
            keep_first_seen(old.thanks.get(title).map(Vec::as_slice), &mut records);
            out.thanks.extend(records);
            if let Some(&latest) = latest_revids.get(title) {
                out.pages.push((title.clone(), kind, latest));
            }
        }
        self.pages_fetched += texts.len() as u64;
        Ok(())
    }

    /// Texts of given revisions (title, revid), in batches.
    async fn revisions_by_id(
        &mut self,
        wanted: &[(String, u64)],
    ) -> Result<HashMap<String, Revision>> {
        let mut found = HashMap::new();
        let revids: Vec<String> = wanted.iter().map(|(_, r)| r.to_string()).collect();
        for chunk in revids.chunks(self.batch().min(50)) {
            let params = vec![
                ("action", "query".to_string()),
                ("revids", chunk.join("|")),
                ("prop", "revisions".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
            ];
            let mut pages = HashMap::new();
            self.wiki
                .query_continued(&params, |answer| {
                    merge_pages(answer, &mut pages);
                    Ok(())
                })
                .await?;
            for (title, page) in pages {
                if let Some(rev) = page.latest.filter(|r| r.text.is_some()) {
                    found.insert(title, rev);
                }
            }
        }
        Ok(found)
    }

    /// When each account was created (`None` inside: the wiki does not know, as for
    /// accounts older than 2005). Unknown and invalid names are left out.
    async fn registrations(
        &mut self,
        names: &[String],
    ) -> Result<HashMap<String, Option<DateTime<Utc>>>> {
        let mut out = HashMap::new();
        for chunk in names.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("list", "users".to_string()),
                ("ususers", chunk.join("|")),
                ("usprop", "registration".to_string()),
            ];
            let answer = self.wiki.query(&params).await?;
            for user in answer
                .pointer("/query/users")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = user.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if user.get("missing").is_some() || user.get("invalid").is_some() {
                    continue;
                }
                let registration = user
                    .get("registration")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                out.insert(name.to_string(), registration);
            }
        }
        Ok(out)
    }

    /// Requests of changed talk pages, each attributed to the revision that added it.
    async fn read_requests(
        &mut self,
        old: &Previous,
        listed: HashMap<String, Fetched>,
        names: &TemplateNames,
        out: &mut Connections,
    ) -> Result<()> {
        let kind = ConnectionKind::Requests;
        let mut titles: Vec<(&String, u64)> = listed
            .iter()
            .filter_map(|(t, p)| p.latest.as_ref().map(|r| (t, r.revid)))
            .collect();
        titles.sort();
        let progress = Progress::new("reading talk page histories");
        let mut read = 0;
        for (title, latest) in titles {
            if old.unchanged(title, kind, latest) {
                carry(old, title, kind, latest, out);
                continue;
            }
            let requests = self.attribute_markers(title, names).await?;
            out.requests.extend(requests);
            out.pages.push((title.clone(), kind, latest));
            read += 1;
            progress.update(format!("{read} talk pages read"));
        }
        self.pages_fetched += read;
        Ok(())
    }

    /// Walks a talk page's history from the newest revision back until every marker on
    /// the page now is matched with the revision that added it.
    async fn attribute_markers(
        &mut self,
        title: &str,
        names: &TemplateNames,
    ) -> Result<Vec<RequestRecord>> {
        let taxonomy = Taxonomy::bundled();
        let markers = |rev: &HistoryRevision| -> Markers {
            let mut out = Markers::new();
            if let Some(text) = rev.revision.text.as_deref() {
                for r in parse_requests(text, names, taxonomy).requests {
                    let entry = out
                        .entry(SkillKey::of(r.skill.as_ref()))
                        .or_insert((0, r.skill));
                    entry.0 += 1;
                }
            }
            out
        };
        let mut records = Vec::new();
        // Markers on the page now still waiting for the revision that added them.
        let mut waiting: Option<Markers> = None;
        // The newer revision of the pair being compared.
        let mut newer: Option<(HistoryRevision, Markers)> = None;
        let mut seen = 0;
        let mut continuation: Option<String> = None;
        'walk: loop {
            let mut params = vec![
                ("action", "query".to_string()),
                ("titles", title.to_string()),
                ("prop", "revisions".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
                ("rvlimit", self.batch().min(50).to_string()),
            ];
            if let Some(c) = &continuation {
                params.push(("rvcontinue", c.clone()));
            }
            let answer = self.wiki.query(&params).await?;
            let revisions: Vec<HistoryRevision> = answer
                .pointer("/query/pages/0/revisions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some(HistoryRevision {
                        revision: parse_revision(r)?,
                        anonymous: r.get("anon").is_some() || r.get("temp").is_some(),
                    })
                })
                .collect();
            continuation = answer
                .pointer("/continue/rvcontinue")
                .and_then(Value::as_str)
                .map(str::to_string);
            for older in revisions {
                seen += 1;
                let older_markers = markers(&older);
                match newer.take() {
                    None => waiting = Some(older_markers.clone()),
                    Some((rev, rev_markers)) => {
                        attribute(
                            title,
                            &rev,
                            &rev_markers,
                            &older_markers,
                            &mut waiting,
                            &mut records,
                        );
                    }
                }
                newer = Some((older, older_markers));
                if waiting.as_ref().is_some_and(BTreeMap::is_empty) || seen >= MAX_HISTORY_REVISIONS
                {
                    break 'walk;
                }
            }
            if continuation.is_none() {
                // The page's first revision added whatever it holds.
                if let Some((rev, rev_markers)) = newer.take() {
                    attribute(
                        title,
                        &rev,
                        &rev_markers,
                        &BTreeMap::new(),
                        &mut waiting,
                        &mut records,
                    );
                }
                break;
            }
        }
        let left: usize = waiting.iter().flatten().map(|(_, (n, _))| n).sum();
        if left > 0 {
            warn!(
                page = %title,
                markers = left,
                "markers not counted: the revision that added them is beyond the {MAX_HISTORY_REVISIONS} newest, or hidden"
            );
        }
        Ok(records)
    }
}

/// The markers of one revision: how many per skill, and the skill as first written.
type Markers = BTreeMap<SkillKey, (usize, Option<SkillRef>)>;

/// A revision of a talk page's history.
struct HistoryRevision {
    revision: Revision,
    /// Saved by a logged-out person (an IP or a temporary account): no one to count.
    anonymous: bool,
}

/// Markers of `rev` that its parent did not have are the ones `rev`'s author added; those
/// still on the page now are recorded as their requests.
fn attribute(
    title: &str,
    rev: &HistoryRevision,
    rev_markers: &Markers,
    parent_markers: &Markers,
    waiting: &mut Option<Markers>,
    records: &mut Vec<RequestRecord>,
) {
    let Some(waiting) = waiting.as_mut() else {
        return;
    };
    for (key, (count, skill)) in rev_markers {
        let before = parent_markers.get(key).map_or(0, |(n, _)| *n);
        let added = count.saturating_sub(before);
        let Some((wanted, _)) = waiting.get_mut(key) else {
            continue;
        };
        let taken = added.min(*wanted);
        *wanted -= taken;
        if *wanted == 0 {
            waiting.remove(key);
        }
        let requester = rev
            .revision
            .user
            .as_deref()
            .filter(|_| !rev.anonymous)
            .and_then(normalize_user_name);
        let (Some(requester), Some(timestamp)) = (requester, rev.revision.timestamp) else {
            continue;
        };
        for _ in 0..taken {
            records.push(RequestRecord {
                page: title.to_string(),
                revid: rev.revision.revid,
                timestamp,
                requester: requester.clone(),
                skill: skill.clone(),
            });
        }
    }
}

/// Everything of the previous generation, as it was: for a run that changed no user or
/// talk page.
pub fn carried(previous: &Snapshot) -> Result<Connections> {
    let old = Previous::read(Some(previous))?;
    let mut out = Connections::default();
    let mut pages: Vec<(&String, &(ConnectionKind, u64))> = old.pages.iter().collect();
    pages.sort();
    for (title, &(kind, revid)) in pages {
        carry(&old, title, kind, revid, &mut out);
    }
    Ok(out)
}

/// A thanks already on the page at the previous run keeps the revision it was first read
/// from: saving the page again later (for any reason) must not make a thanks look newer
/// than it is, or the "account created that day" rule could be dodged by waiting a day
/// and making another edit. The thanks is the same when it names the same person and skill.
fn keep_first_seen(previous: Option<&[ThanksRecord]>, records: &mut [ThanksRecord]) {
    let Some(previous) = previous else { return };
    let key = |t: &ThanksRecord| {
        (
            normalize_user_name(&t.thanked),
            SkillKey::of(t.skill.as_ref()),
        )
    };
    let mut first: HashMap<_, (u64, DateTime<Utc>)> = HashMap::new();
    for t in previous {
        let seen = first.entry(key(t)).or_insert((t.revid, t.timestamp));
        if t.timestamp < seen.1 {
            *seen = (t.revid, t.timestamp);
        }
    }
    for t in records {
        if let Some(&(revid, timestamp)) = first.get(&key(t))
            && timestamp < t.timestamp
        {
            t.revid = revid;
            t.timestamp = timestamp;
        }
    }
}

/// Copies a page's records from the previous generation.
fn carry(old: &Previous, title: &str, kind: ConnectionKind, revid: u64, out: &mut Connections) {
    out.pages.push((title.to_string(), kind, revid));
    match kind {
        ConnectionKind::Thanks => {
            out.thanks
                .extend(old.thanks.get(title).into_iter().flatten().cloned());
        }
        ConnectionKind::Requests => {
            out.requests
                .extend(old.requests.get(title).into_iter().flatten().cloned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone};

    fn thanks(thanked: &str, skill: Option<&str>, revid: u64, day: u32) -> ThanksRecord {
        ThanksRecord {
            page: "User:Learner".into(),
            revid,
            timestamp: Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap(),
            thanker: "Learner".into(),
            thanker_registered: Some(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()),
            thanked: thanked.into(),
            skill: skill.map(|text| SkillRef::Free { text: text.into() }),
            date: None,
            note: None,
        }
    }

    #[test]
    fn a_thanks_seen_before_keeps_its_first_revision() {
        // Written the day the account was made (does not count), saved again a day later.
        let before = [thanks("Ana", Some("Baking"), 10, 1)];
        let mut now = vec![
            thanks("ana", Some("baking"), 20, 2),
            thanks("Ana", Some("Knitting"), 20, 2),
        ];
        keep_first_seen(Some(&before), &mut now);
        assert_eq!((now[0].revid, now[0].timestamp.day()), (10, 1));
        assert_eq!((now[1].revid, now[1].timestamp.day()), (20, 2));
        let counts = exchange::connections::count(&now, &[]);
        assert_eq!(counts.thanks.len(), 1, "only the knitting thanks counts");
    }
}
