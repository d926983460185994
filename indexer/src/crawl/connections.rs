//! The connections pass of a crawl: thanks on learners' user pages and request markers on
//! helpers' talk pages (the rules are `exchange::connections`'s; this is only which pages
//! and revisions to ask the wiki for).
//!
//! - **Thanks** are read like profiles: every User page calling the thanks template, from
//!   the newest revision its owner saved (someone else's edit never adds or removes a
//!   thanks), with the thanker's registration date. Most thankers have a profile on the same
//!   page, so their text comes from the profile pass at no cost: a full crawl only lists the
//!   thanks pages (in the same request as the talk pages), and an incremental crawl learns
//!   which re-read pages call the template from the same request that re-read them.
//!   Registration dates come with the profile owners' `list=users` pass, or from the
//!   previous generation.
//! - **Requests** are read from User talk pages transcluding the marker. A talk page is
//!   written by others, so the only thing taken from it is each marker and the author of
//!   the revision that added it: the history is walked back from the newest revision until
//!   every marker on the page now has the revision where it appeared.
//!
//! Talk pages are listed with revision ids only (no text), so pages whose newest revision
//! is the one the previous generation read are carried over without another request.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Utc};
use exchange::connections::{
    REQUEST_TEMPLATE, RequestRecord, SkillKey, THANKS_TEMPLATE, TemplateNames, ThanksRecord,
    parse_requests, parse_thanks, thanks_records,
};
use exchange::store::{ConnectionKind, Snapshot};
use exchange::taxonomy::Taxonomy;
use exchange::wikitext::title::{NS_USER, NS_USER_TALK, normalize_user_name, owner_of};
use serde_json::Value;
use tracing::{info, warn};

use super::{Crawler, Fetched, Progress, merge_pages, parse_revision, template_page};
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
}

impl Connections {
    /// Whether the pages of `kind` read or carried so far (with their revisions) differ
    /// from the previous generation's.
    pub fn differs(&self, old: &Previous, kind: ConnectionKind) -> bool {
        let now: BTreeSet<(&str, u64)> = self
            .pages
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(t, _, r)| (t.as_str(), *r))
            .collect();
        let before: BTreeSet<(&str, u64)> = old
            .pages
            .iter()
            .filter(|(_, (k, _))| *k == kind)
            .map(|(t, (_, r))| (t.as_str(), *r))
            .collect();
        now != before
    }

    /// Says what the pass found, once both kinds are in.
    pub fn log(&self, old: &Previous) {
        let changed = self.differs(old, ConnectionKind::Thanks)
            || self.differs(old, ConnectionKind::Requests);
        info!(
            pages = self.pages.len(),
            thanks = self.thanks.len(),
            requests = self.requests.len(),
            changed,
            "connections read"
        );
    }
}

/// What the previous generation holds about connections, by page.
pub struct Previous {
    pages: HashMap<String, (ConnectionKind, u64)>,
    thanks: HashMap<String, Vec<ThanksRecord>>,
    requests: HashMap<String, Vec<RequestRecord>>,
}

impl Previous {
    pub fn read(snapshot: Option<&Snapshot>) -> Result<Previous> {
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

    /// Registration dates the previous generation already learnt. Only known dates: an
    /// unknown one (an import, or an account older than 2005) is asked again.
    pub fn registrations(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> {
        self.thanks
            .values()
            .flatten()
            .filter_map(|t| Some((t.thanker.as_str(), t.thanker_registered?)))
    }
}

/// The thanks pages a run looks at, and what it already knows of them.
#[derive(Debug, Default)]
pub struct ThanksPages {
    /// Pages calling the thanks template now, with their newest revision id where known.
    pub calling: HashMap<String, Option<u64>>,
    /// The pages whose state was asked: `None` for every page (a full crawl). A page of
    /// the previous generation outside it is carried over as it was.
    pub looked_at: Option<HashSet<String>>,
    /// Texts already read (by the profile pass): the owner's newest revision, and the
    /// page's newest revision id.
    pub texts: HashMap<String, (Revision, u64)>,
    /// Pages only others edited since the previous run: the owner's words, and so the
    /// thanks, are as they were.
    pub owner_unchanged: HashSet<String>,
}

impl ThanksPages {
    /// The thankers whose registration date is still to be learnt: the owners of calling
    /// pages not carried over, less those the previous generation knows.
    pub fn thankers(&self, old: &Previous) -> Vec<String> {
        let known: HashSet<&str> = old.registrations().map(|(name, _)| name).collect();
        self.calling
            .iter()
            .filter(|(title, latest)| {
                !self.owner_unchanged.contains(*title)
                    && !latest.is_some_and(|r| old.unchanged(title, ConnectionKind::Thanks, r))
            })
            .filter_map(|(title, _)| owner_of(title))
            .filter(|owner| !known.contains(owner.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The template names of the pass, from the aliases the crawl asked for.
pub fn names(thanks: &[String], request: &[String]) -> (TemplateNames, TemplateNames) {
    (
        TemplateNames::with_aliases(THANKS_TEMPLATE, thanks.to_vec()),
        TemplateNames::with_aliases(REQUEST_TEMPLATE, request.to_vec()),
    )
}

impl Crawler<'_> {
    /// The talk pages with the marker (`generator=embeddedin`, newest revision id and
    /// author, no text: most are unchanged since the previous run) and, `with_thanks`, in
    /// the same requests, the titles of the user pages calling the thanks template
    /// (`list=embeddedin`): every page of a full crawl's connections pass.
    pub(super) async fn list_connection_pages(
        &mut self,
        with_thanks: bool,
    ) -> Result<(HashSet<String>, HashMap<String, Fetched>)> {
        let mut params = vec![
            ("action", "query".to_string()),
            ("generator", "embeddedin".to_string()),
            ("geititle", template_page(REQUEST_TEMPLATE)),
            ("geinamespace", NS_USER_TALK.to_string()),
            ("geilimit", self.batch().to_string()),
            ("prop", "revisions".to_string()),
            ("rvprop", "ids|timestamp|user".to_string()),
        ];
        if with_thanks {
            params.extend([
                ("list", "embeddedin".to_string()),
                ("eititle", template_page(THANKS_TEMPLATE)),
                ("einamespace", NS_USER.to_string()),
                ("eilimit", "max".to_string()),
            ]);
        }
        let mut talk = HashMap::new();
        let mut thanks = HashSet::new();
        self.wiki
            .query_continued(&params, |answer| {
                merge_pages(answer, &mut talk);
                for page in answer
                    .pointer("/query/embeddedin")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if page.get("ns").and_then(Value::as_i64) == Some(i64::from(NS_USER))
                        && let Some(title) = page.get("title").and_then(Value::as_str)
                    {
                        thanks.insert(title.to_string());
                    }
                }
                Ok(())
            })
            .await?;
        talk.retain(|_, p: &mut Fetched| !p.missing && p.namespace == NS_USER_TALK);
        Ok((thanks, talk))
    }

    /// Thanks of the pages looked at, from their owner's newest revision; the rest carried.
    pub(super) async fn read_thanks(
        &mut self,
        old: &Previous,
        pages: ThanksPages,
        names: &TemplateNames,
        out: &mut Connections,
    ) -> Result<()> {
        let kind = ConnectionKind::Thanks;
        let ThanksPages {
            calling,
            looked_at,
            mut texts,
            owner_unchanged,
        } = pages;
        let mut previous: Vec<(&String, u64)> = old
            .pages
            .iter()
            .filter(|(title, (k, _))| {
                *k == kind && looked_at.as_ref().is_some_and(|l| !l.contains(*title))
            })
            .map(|(title, (_, revid))| (title, *revid))
            .collect();
        previous.sort();
        for (title, revid) in previous {
            carry(old, title, kind, revid, out);
        }
        let mut calling: Vec<(String, Option<u64>)> = calling.into_iter().collect();
        calling.sort();
        let mut read: Vec<(String, Revision, u64)> = Vec::new();
        let mut unread: Vec<String> = Vec::new();
        for (title, latest) in calling {
            let latest = latest.or_else(|| texts.get(&title).map(|(_, l)| *l));
            if let Some(latest) = latest
                && (old.unchanged(&title, kind, latest) || owner_unchanged.contains(&title))
            {
                carry(old, &title, kind, latest, out);
            } else if let Some((revision, latest)) = texts.remove(&title) {
                read.push((title, revision, latest));
            } else {
                unread.push(title);
            }
        }
        if !unread.is_empty() {
            read.extend(self.owners_newest(&unread).await?);
        }
        let thankers: Vec<String> = read
            .iter()
            .filter_map(|(t, _, _)| owner_of(t))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (name, registered) in old.registrations() {
            self.registered
                .entry(name.to_string())
                .or_insert(Some(registered));
        }
        let registered = self.registrations(&thankers).await?;
        read.sort_by(|a, b| a.0.cmp(&b.0));
        for (title, revision, latest) in read {
            let (Some(text), Some(timestamp)) = (revision.text.as_deref(), revision.timestamp)
            else {
                continue;
            };
            let Some(owner) = owner_of(&title) else {
                continue;
            };
            let parsed = parse_thanks(text, names, Taxonomy::bundled());
            for warning in &parsed.warnings {
                warn!(page = %title, param = ?warning.param, "{}", warning.message);
            }
            let mut records = thanks_records(
                &title,
                revision.revid,
                timestamp,
                &owner,
                registered.get(&owner).copied().flatten(),
                &parsed.thanks,
            );
            keep_first_seen(old.thanks.get(&title).map(Vec::as_slice), &mut records);
            out.thanks.extend(records);
            out.pages.push((title, kind, latest));
        }
        Ok(())
    }

    /// The owner's newest revision of pages not read yet (title, revision, newest revid):
    /// the newest revision where the owner saved it, else through `owner_revisions`. A
    /// batch is as many titles as the account may name (500 for a bot): the newest
    /// revisions of many pages come with their text in one answer, continued if too big.
    async fn owners_newest(&mut self, titles: &[String]) -> Result<Vec<(String, Revision, u64)>> {
        let mut pages = HashMap::new();
        for chunk in titles.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("titles", chunk.join("|")),
                ("prop", "revisions".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
            ];
            self.wiki
                .query_continued(&params, |answer| {
                    merge_pages(answer, &mut pages);
                    Ok(())
                })
                .await?;
        }
        let mut found = Vec::new();
        let mut need_owner = Vec::new();
        let mut latest_revids = HashMap::new();
        for (title, page) in pages {
            let (Some(latest), false) = (page.latest, page.missing) else {
                continue;
            };
            let Some(owner) = owner_of(&title) else {
                continue;
            };
            let revid = latest.revid;
            if latest.user.as_deref() == Some(owner.as_str()) && latest.text.is_some() {
                found.push((title, latest, revid));
            } else {
                latest_revids.insert(title.clone(), revid);
                need_owner.push((title, owner));
            }
        }
        self.pages_fetched += found.len() as u64;
        if !need_owner.is_empty() {
            for (title, revision) in self.owner_revisions(&need_owner).await? {
                if let Some(&latest) = latest_revids.get(&title) {
                    found.push((title, revision, latest));
                }
            }
        }
        Ok(found)
    }

    /// When each account was created (`None` inside: the wiki does not know, as for
    /// accounts older than 2005). Unknown and invalid names are left out. Dates learnt
    /// earlier in the run (the users pass) are not asked again.
    async fn registrations(
        &mut self,
        names: &[String],
    ) -> Result<HashMap<String, Option<DateTime<Utc>>>> {
        let unknown: Vec<String> = names
            .iter()
            .filter(|n| !self.registered.contains_key(*n))
            .cloned()
            .collect();
        for chunk in unknown.chunks(self.batch()) {
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
                if let Some((name, registered)) = registration(user) {
                    self.registered.insert(name, registered);
                }
            }
        }
        Ok(names
            .iter()
            .filter_map(|n| Some((n.clone(), *self.registered.get(n)?)))
            .collect())
    }

    /// Requests of changed talk pages, each attributed to the revision that added it;
    /// `listed: None` carries every talk page over as it was.
    pub(super) async fn read_requests(
        &mut self,
        old: &Previous,
        listed: Option<HashMap<String, Fetched>>,
        names: &TemplateNames,
        out: &mut Connections,
    ) -> Result<()> {
        let kind = ConnectionKind::Requests;
        let Some(listed) = listed else {
            let mut pages: Vec<(&String, u64)> = old
                .pages
                .iter()
                .filter(|(_, (k, _))| *k == kind)
                .map(|(t, (_, r))| (t, *r))
                .collect();
            pages.sort();
            for (title, revid) in pages {
                carry(old, title, kind, revid, out);
            }
            return Ok(());
        };
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

/// A `list=users` entry's name and account creation date (`None` inside when the wiki does
/// not know it); `None` for missing and invalid names.
pub(super) fn registration(user: &Value) -> Option<(String, Option<DateTime<Utc>>)> {
    let name = user.get("name").and_then(Value::as_str)?;
    if user.get("missing").is_some() || user.get("invalid").is_some() {
        return None;
    }
    let registered = user
        .get("registration")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Some((name.to_string(), registered))
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
