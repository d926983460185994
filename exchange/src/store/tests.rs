//! Generations and publishing: what the web tool may rely on while the indexer writes.

use super::*;

use chrono::TimeZone;

use crate::geo::Region;
use crate::profile::{LanguageSkill, Level, Profile, SkillRef, Status};

fn profile(user: &str) -> Profile {
    let mut p = Profile::empty(user, &format!("User:{user}"));
    p.revid = 1234;
    p.updated = chrono::Utc.with_ymd_and_hms(2025, 5, 6, 7, 8, 9).single();
    p.offers = vec![
        SkillRef::Known {
            id: "lua-modules".into(),
            label: "Lua modules".into(),
        },
        SkillRef::Free {
            text: "Basket weaving".into(),
        },
    ];
    p.wants = vec![SkillRef::Known {
        id: "wikidata".into(),
        label: "Wikidata".into(),
    }];
    p.knows = vec![SkillRef::Free {
        text: "Zotero".into(),
    }];
    p.languages = vec![
        LanguageSkill {
            code: "pt".into(),
            level: Level::NATIVE,
        },
        LanguageSkill {
            code: "en".into(),
            level: Level::new(3).unwrap(),
        },
    ];
    p.country = Some("BR".into());
    p.region = Some(Region::LatinAmericaCaribbean);
    p.timezone = Some("America/Sao_Paulo".into());
    p.affiliations = vec!["Wiki Movimento Brasil".into()];
    p.projects = vec!["pt.wikipedia".into(), "wikidata".into()];
    p.formats = vec!["mentoring".into()];
    p.availability = Some("weekends".into());
    p.contact = vec!["talk".into()];
    p.bio = Some("Olá! I organise edit-a-thons.".into());
    p
}

fn record(p: &Profile) -> ProfileRecord<'_> {
    ProfileRecord {
        profile: p,
        page_id: Some(7),
        accepts_email: true,
    }
}

fn data_dir() -> (tempfile::TempDir, DataDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    (dir, data)
}

/// Publishes a generation holding the profiles of `users`.
fn publish(data: &DataDir, users: &[&str]) -> String {
    let mut builder = data.begin("test").unwrap();
    for user in users {
        builder.add_profile(record(&profile(user))).unwrap();
    }
    builder.publish().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn an_empty_data_dir_has_no_current_generation() {
    let (_tmp, data) = data_dir();
    assert_eq!(data.current().unwrap(), None);
    assert!(matches!(
        data.open_current(),
        Err(StoreError::NoGeneration { .. })
    ));
    assert!(data.published().unwrap().is_empty());
}

#[test]
fn publish_makes_the_generation_current_and_reads_back_what_was_written() {
    let (_tmp, data) = data_dir();
    let ana = profile("Ana");
    let mut bob = profile("Bob maria");
    bob.status = Status::Paused;
    bob.offers.clear();
    bob.country = None;
    bob.region = None;
    bob.updated = None;

    let mut builder = data.begin("test").unwrap();
    let id = builder.id().to_string();
    builder.add_profile(record(&ana)).unwrap();
    builder
        .add_profile(ProfileRecord {
            profile: &bob,
            page_id: None,
            accepts_email: false,
        })
        .unwrap();
    assert_eq!(builder.profile_count(), 2);
    assert_eq!(
        data.current().unwrap(),
        None,
        "nothing is served before publish"
    );
    let published = builder.publish().unwrap();
    assert_eq!(published, id);

    assert_eq!(data.current().unwrap().as_deref(), Some(id.as_str()));
    assert!(data.generation_dir(&id).join(SQLITE_FILE).is_file());
    let snapshot = data.open_current().unwrap();
    assert_eq!(snapshot.id(), id);
    assert_eq!(snapshot.dir(), data.generation_dir(&id));
    assert_eq!(snapshot.profile_count().unwrap(), 2);
    assert_eq!(snapshot.profile("Ana").unwrap(), Some(ana.clone()));
    assert_eq!(snapshot.profile("Bob maria").unwrap(), Some(bob.clone()));
    assert_eq!(snapshot.profile("Nobody").unwrap(), None);
    assert!(snapshot.accepts_email("Ana").unwrap());
    assert!(!snapshot.accepts_email("Bob maria").unwrap());
    assert_eq!(snapshot.meta("complete").unwrap().as_deref(), Some("1"));
    assert_eq!(
        snapshot.meta("schema_version").unwrap(),
        Some(SCHEMA_VERSION.to_string())
    );
    assert_eq!(snapshot.meta("profiles").unwrap().as_deref(), Some("2"));
    assert_eq!(snapshot.meta("generation").unwrap(), Some(id.clone()));

    let mut all = Vec::new();
    snapshot
        .for_each_profile(|p| {
            all.push(p);
            Ok(())
        })
        .unwrap();
    assert_eq!(all, vec![ana, bob], "every profile, in user order");

    assert_eq!(data.published().unwrap(), vec![id]);
    assert!(
        entries(&data.root().join("generations"))
            .iter()
            .all(|n| !n.ends_with(BUILDING_SUFFIX))
    );
    assert!(!data.root().join("current.tmp").exists());
}

#[test]
fn a_builder_dropped_without_publish_changes_nothing() {
    let (_tmp, data) = data_dir();
    let first = publish(&data, &["Ana"]);
    {
        let mut builder = data.begin("test").unwrap();
        builder.add_profile(record(&profile("Bob"))).unwrap();
        let building = data
            .root()
            .join("generations")
            .join(format!("{}{BUILDING_SUFFIX}", builder.id()));
        assert!(building.is_dir(), "it is being built in {building:?}");
        assert_eq!(data.current().unwrap().as_deref(), Some(first.as_str()));
    }
    assert_eq!(data.current().unwrap().as_deref(), Some(first.as_str()));
    assert_eq!(
        entries(&data.root().join("generations")),
        vec![first.clone()]
    );
    let snapshot = data.open_current().unwrap();
    assert_eq!(snapshot.id(), first);
    assert!(snapshot.profile("Bob").unwrap().is_none());
    assert!(snapshot.profile("Ana").unwrap().is_some());
    // And the lock was released.
    drop(data.begin("again").unwrap());
}

#[test]
fn a_second_builder_is_refused_while_one_is_alive() {
    let (_tmp, data) = data_dir();
    let builder = data.begin("first").unwrap();
    // Another handle on the same directory, as another process would have.
    let other = DataDir::new(data.root());
    assert!(matches!(other.begin("second"), Err(StoreError::Locked(_))));
    assert!(matches!(data.begin("third"), Err(StoreError::Locked(_))));
    builder.publish().unwrap();
    let next = other.begin("after publish").unwrap();
    drop(next);
    let last = data.begin("after drop").unwrap();
    drop(last);
}

#[test]
fn the_generation_a_reader_serves_outlives_newer_ones() {
    let (_tmp, data) = data_dir();
    let served = publish(&data, &["User 0"]);
    data.mark_serving(&served).unwrap();
    for i in 1..6 {
        publish(&data, &[&format!("User {i}")]);
    }
    let published = data.published().unwrap();
    assert!(published.contains(&served), "{published:?}");
    assert_eq!(published.len(), KEEP_GENERATIONS + 1, "{published:?}");
    // Once the reader moves on, the old one goes with the next pruning.
    data.mark_serving(&data.current().unwrap().unwrap())
        .unwrap();
    data.remove_old(KEEP_GENERATIONS).unwrap();
    assert!(!data.published().unwrap().contains(&served));
}

#[test]
fn old_generations_are_removed_keeping_the_current_one() {
    let (_tmp, data) = data_dir();
    let mut ids = Vec::new();
    for i in 0..5 {
        let user = format!("User {i}");
        ids.push(publish(&data, &[&user]));
    }
    let current = data.current().unwrap().unwrap();
    assert_eq!(&current, ids.last().unwrap());
    let mut published = data.published().unwrap();
    published.sort();
    assert_eq!(published.len(), KEEP_GENERATIONS, "{published:?}");
    assert!(published.contains(&current));
    assert_eq!(
        published,
        ids[ids.len() - KEEP_GENERATIONS..].to_vec(),
        "the newest ones are kept"
    );
    assert!(
        data.open_current()
            .unwrap()
            .profile("User 4")
            .unwrap()
            .is_some()
    );
}

#[test]
fn remove_old_never_removes_the_current_generation() {
    let (_tmp, data) = data_dir();
    let a = publish(&data, &["Ana"]);
    let b = publish(&data, &["Ana"]);
    // Serve the older one again (as an operator rolling back would).
    fs::write(data.root().join("current"), format!("{a}\n")).unwrap();
    data.remove_old(1).unwrap();
    let published = data.published().unwrap();
    assert!(published.contains(&a), "{published:?}");
    assert!(published.contains(&b), "{published:?}");
    assert_eq!(data.open_current().unwrap().id(), a);
}

#[test]
fn a_leftover_building_dir_is_removed_by_the_next_begin() {
    let (_tmp, data) = data_dir();
    let first = publish(&data, &["Ana"]);
    let leftover = data.root().join("generations").join("xyz.building");
    fs::create_dir_all(leftover.join("index")).unwrap();
    fs::write(leftover.join("exchange.sqlite"), b"half written").unwrap();
    assert!(
        !data
            .published()
            .unwrap()
            .contains(&"xyz.building".to_string())
    );
    let builder = data.begin("next").unwrap();
    assert!(!leftover.exists());
    drop(builder);
    assert_eq!(entries(&data.root().join("generations")), vec![first]);
}

/// Copies the current generation to a new id and edits its meta table.
fn doctored_copy(data: &DataDir, new_id: &str, sql: &str) -> PathBuf {
    let current = data.current().unwrap().unwrap();
    let copy = data.generation_dir(new_id);
    copy_tree(&data.generation_dir(&current), &copy);
    let conn = rusqlite::Connection::open(copy.join(SQLITE_FILE)).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    copy
}

#[test]
fn snapshot_open_refuses_incomplete_or_other_schema_generations() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana"]);

    let untouched = doctored_copy(&data, "copy-untouched", "SELECT 1");
    let snapshot = Snapshot::open(&untouched, "copy-untouched").expect("a faithful copy opens");
    assert!(snapshot.profile("Ana").unwrap().is_some());

    let incomplete = doctored_copy(
        &data,
        "copy-incomplete",
        "DELETE FROM meta WHERE key = 'complete'",
    );
    let err = Snapshot::open(&incomplete, "copy-incomplete").unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");

    let not_one = doctored_copy(
        &data,
        "copy-not-one",
        "UPDATE meta SET value = '0' WHERE key = 'complete'",
    );
    let err = Snapshot::open(&not_one, "copy-not-one").unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");

    let newer = doctored_copy(
        &data,
        "copy-newer",
        &format!(
            "UPDATE meta SET value = '{}' WHERE key = 'schema_version'",
            SCHEMA_VERSION + 1
        ),
    );
    let err = Snapshot::open(&newer, "copy-newer").unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("schema"), "{err}");

    let no_version = doctored_copy(
        &data,
        "copy-no-version",
        "DELETE FROM meta WHERE key = 'schema_version'",
    );
    let err = Snapshot::open(&no_version, "copy-no-version").unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");

    // The pointer moved onto a refused generation: the reader refuses it too.
    fs::write(data.root().join("current"), "copy-newer\n").unwrap();
    assert!(matches!(
        data.open_current(),
        Err(StoreError::Invalid { .. })
    ));
}

#[test]
fn a_generation_without_its_sqlite_file_is_invalid() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana"]);
    let empty = data.generation_dir("empty-generation");
    fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        Snapshot::open(&empty, "empty-generation"),
        Err(StoreError::Invalid { .. })
    ));
    fs::write(data.root().join("current"), "no-such-generation\n").unwrap();
    assert!(matches!(
        data.open_current(),
        Err(StoreError::Invalid { .. })
    ));
}

#[test]
fn a_corrupted_current_pointer_is_a_clear_error() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana"]);
    for garbage in [
        "!!! this is not an id !!!",
        "",
        "\n\n",
        "../../etc",
        "..",
        "abc.building",
        "a b",
        "\0\0\0\0",
    ] {
        fs::write(data.root().join("current"), garbage).unwrap();
        let err = data.current().unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid { .. }),
            "{garbage:?}: {err:?}"
        );
        assert!(err.to_string().contains("current"), "{err}");
        assert!(matches!(
            data.open_current(),
            Err(StoreError::Invalid { .. })
        ));
    }
}

#[test]
fn a_current_pointer_of_binary_garbage_is_invalid() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana"]);
    fs::write(data.root().join("current"), b"\xff\xfe\x00garbage\x80").unwrap();
    let err = data.current().unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
}

#[test]
fn a_second_profile_for_the_same_user_is_refused() {
    let (_tmp, data) = data_dir();
    let mut builder = data.begin("test").unwrap();
    builder.add_profile(record(&profile("Ana"))).unwrap();
    let mut again = profile("Ana");
    again.page = "User:Ana/Profile".into();
    let err = builder.add_profile(record(&again)).unwrap_err();
    match &err {
        StoreError::Profile { user, .. } => assert_eq!(user, "Ana"),
        other => panic!("{other:?}"),
    }
    assert_eq!(builder.profile_count(), 1);
    // The builder is still usable and publishes the first profile.
    builder.add_profile(record(&profile("Bob"))).unwrap();
    let id = builder.publish().unwrap();
    let snapshot = data.open_current().unwrap();
    assert_eq!(snapshot.id(), id);
    assert_eq!(snapshot.profile_count().unwrap(), 2);
    assert_eq!(snapshot.profile("Ana").unwrap().unwrap().page, "User:Ana");
}

#[test]
fn pages_and_warnings_are_stored() {
    let (_tmp, data) = data_dir();
    let mut builder = data.begin("test").unwrap();
    builder
        .add_page(&PageRecord {
            title: "User:Ana".into(),
            page_id: Some(1),
            owner: Some("Ana".into()),
            latest_revid: Some(99),
            profile_user: Some("Ana".into()),
        })
        .unwrap();
    builder
        .add_warning(
            "User:Ana",
            Some(99),
            &crate::profile::Warning::new(Some("country"), "unknown country"),
        )
        .unwrap();
    builder.set_meta("import_source", "test.xml").unwrap();
    let id = builder.publish().unwrap();
    let snapshot = data.open_current().unwrap();
    assert_eq!(
        snapshot.meta("import_source").unwrap().as_deref(),
        Some("test.xml")
    );
    let conn = rusqlite::Connection::open(data.generation_dir(&id).join(SQLITE_FILE)).unwrap();
    let (title, latest): (String, i64) = conn
        .query_row("SELECT title, latest_revid FROM pages", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((title.as_str(), latest), ("User:Ana", 99));
    let message: String = conn
        .query_row(
            "SELECT message FROM warnings WHERE page = 'User:Ana' AND param = 'country'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(message, "unknown country");
}

#[test]
fn an_open_snapshot_keeps_reading_while_newer_generations_are_published() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana"]);
    let old = data.open_current().unwrap();
    let newer = publish(&data, &["Bob"]);
    assert_eq!(data.open_current().unwrap().id(), newer);
    assert!(old.profile("Ana").unwrap().is_some());
    assert!(old.profile("Bob").unwrap().is_none());
}

#[test]
fn a_publish_that_cannot_replace_the_pointer_publishes_nothing_and_leaves_nothing() {
    let (_tmp, data) = data_dir();
    let first = publish(&data, &["Ana"]);
    // Something in the way of the new pointer (on a full disk, writing it fails the same way).
    let in_the_way = data.root().join("current.tmp");
    fs::create_dir(&in_the_way).unwrap();
    let mut builder = data.begin("test").unwrap();
    builder.add_profile(record(&profile("Bob"))).unwrap();
    let err = builder.publish().unwrap_err();
    assert!(err.to_string().contains("current.tmp"), "{err}");
    assert_eq!(data.current().unwrap().as_deref(), Some(first.as_str()));
    assert_eq!(
        entries(&data.root().join("generations")),
        vec![first.clone()],
        "the generation renamed into place is taken away again"
    );
    fs::remove_dir(&in_the_way).unwrap();
    let second = publish(&data, &["Bob"]);
    assert_eq!(data.open_current().unwrap().id(), second);
}

#[test]
fn generations_never_made_current_do_not_push_out_the_one_served_before() {
    let (_tmp, data) = data_dir();
    let a = publish(&data, &["Ana"]);
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = publish(&data, &["Bob"]);
    // Runs killed between renaming their generation into place and replacing `current`
    // leave complete generations that were never current, newer than `b`.
    for orphan in ["o1", "o2"] {
        copy_tree(
            &data.generation_dir(&b),
            &data.generation_dir(&format!("{b}-{orphan}")),
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(2));
    let c = publish(&data, &["Carla"]);
    let published = data.published().unwrap();
    assert_eq!(data.current().unwrap().as_deref(), Some(c.as_str()));
    assert!(
        published.contains(&b),
        "the generation served until now is kept for readers: {published:?}"
    );
    assert!(!published.contains(&a), "{published:?}");
    // The next publish makes room as usual.
    std::thread::sleep(std::time::Duration::from_millis(2));
    publish(&data, &["Dora"]);
    let published = data.published().unwrap();
    assert!(published.contains(&c), "{published:?}");
    assert!(published.len() <= KEEP_GENERATIONS + 1, "{published:?}");
}

#[test]
fn a_damaged_generation_is_refused_at_open_or_by_verify() {
    let (_tmp, data) = data_dir();
    publish(&data, &["Ana", "Bob", "Carla"]);
    let current = data.current().unwrap().unwrap();
    let snapshot = data.open_current().unwrap();
    snapshot.verify().expect("an intact generation verifies");
    drop(snapshot);
    let damaged = |name: &str, damage: &dyn Fn(&Path)| -> (Result<Snapshot, StoreError>, PathBuf) {
        let copy = data.generation_dir(name);
        copy_tree(&data.generation_dir(&current), &copy);
        damage(&copy);
        (Snapshot::open(&copy, name), copy)
    };

    let (opened, _) = damaged("copy-truncated", &|dir: &Path| {
        let db = dir.join(SQLITE_FILE);
        let len = fs::metadata(&db).unwrap().len();
        File::options()
            .write(true)
            .open(&db)
            .unwrap()
            .set_len(len - 4096)
            .unwrap();
    });
    let err = opened.unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");

    let (opened, _) = damaged("copy-not-sqlite", &|dir: &Path| {
        fs::write(dir.join(SQLITE_FILE), vec![7u8; 8192]).unwrap();
    });
    let err = opened.unwrap_err();
    assert!(err.to_string().contains("not an SQLite database"), "{err}");

    let (opened, _) = damaged("copy-fewer-profiles", &|dir: &Path| {
        let conn = rusqlite::Connection::open(dir.join(SQLITE_FILE)).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM profiles WHERE user = 'Bob'")
            .unwrap();
    });
    let err = opened.unwrap_err();
    assert!(
        err.to_string().contains("2 profiles, 3 were written"),
        "{err}"
    );

    // Bytes changed inside a segment file: it opens, `verify` finds it.
    let (opened, _) = damaged("copy-damaged-segment", &|dir: &Path| {
        let store = fs::read_dir(dir.join(INDEX_DIR))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .unwrap();
        // The first byte: documents (the end of a file is its index and footer).
        let mut bytes = fs::read(&store).unwrap();
        bytes[0] ^= 0xff;
        fs::write(&store, bytes).unwrap();
    });
    let err = opened.unwrap().verify().unwrap_err();
    assert!(
        err.to_string().contains("damaged search index files"),
        "{err}"
    );

    let err = Snapshot::open(&data.generation_dir("no-such-dir"), "no-such-dir").unwrap_err();
    assert!(err.to_string().contains("directory is missing"), "{err}");
}

#[test]
fn a_full_disk_is_said_as_such() {
    let path = Path::new("/data/generations/x.building/exchange.sqlite");
    let full =
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
    let err = sqlite_err(path)(full);
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("no space left on device: cannot write /data/generations/x.building/"),
        "{err}"
    );
    let other = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        None,
    );
    assert!(matches!(sqlite_err(path)(other), StoreError::Sqlite { .. }));

    let enospc = io::Error::from(io::ErrorKind::StorageFull);
    let tantivy = tantivy::TantivyError::IoError(std::sync::Arc::new(enospc));
    assert!(matches!(
        index_err(path)(tantivy),
        StoreError::DiskFull { .. }
    ));
    // Some of tantivy's paths keep only the text.
    let text = io::Error::from_raw_os_error(28).to_string();
    if io::Error::from_raw_os_error(28).kind() == io::ErrorKind::StorageFull {
        let tantivy = tantivy::TantivyError::InternalError(text);
        assert!(matches!(
            index_err(path)(tantivy),
            StoreError::DiskFull { .. }
        ));
    }
    let tantivy = tantivy::TantivyError::InternalError("something else (os error 2)".into());
    assert!(matches!(index_err(path)(tantivy), StoreError::Index { .. }));
}
