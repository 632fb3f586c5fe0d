//! Every storage test runs on SQLite (a temporary file) and, when `AION_TEST_POSTGRES_URL` is set, on
//! PostgreSQL in a schema of its own (so tests run in parallel). The same function body runs on both.

use std::io::Write as _;
use std::sync::Once;

use super::*;

/// A store under test and what to clean up after it.
struct TestDb {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (server URL, schema) to drop at the end.
    pg: Option<(String, String)>,
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        // A nested path: opening creates the directory and the file.
        let url = format!("sqlite://{}", dir.path().join("db/aion.db").display());
        let store = Store::open(&url).await.expect("open sqlite");
        assert_eq!(store.backend(), Backend::Sqlite);
        TestDb { store, _dir: Some(dir), pg: None }
    }

    async fn postgres(test: &str) -> Option<TestDb> {
        let Some(url) = std::env::var("AION_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
            static SAID: Once = Once::new();
            // Straight to stderr, not through the test harness's capture, so the skip is visible.
            SAID.call_once(|| {
                let _ = writeln!(std::io::stderr(), "skipped: PostgreSQL not reachable (AION_TEST_POSTGRES_URL unset)");
            });
            return None;
        };
        sqlx::any::install_default_drivers();
        let mut tag = [0u8; 6];
        rand::fill(&mut tag);
        let schema = format!("t_{test}_{}", hex(&tag));
        admin(&url, &format!("CREATE SCHEMA {schema}")).await;
        let sep = if url.contains('?') { '&' } else { '?' };
        let store = Store::open(&format!("{url}{sep}options[search_path]={schema}")).await.expect("open postgres");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb { store, _dir: None, pg: Some((url, schema)) })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((url, schema)) = self.pg {
            admin(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

/// Run one statement on a fresh connection (schema set-up and clean-up).
async fn admin(url: &str, sql: &str) {
    use sqlx::Connection as _;
    let mut conn =
        AnyConnection::connect(url).await.expect("PostgreSQL set in AION_TEST_POSTGRES_URL is not reachable");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.expect(sql);
    conn.close().await.expect("close");
}

/// Declare each test once per backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres(stringify!($name)).await else { return };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    users_are_unique_regardless_of_case,
    sessions_round_trip_and_change_state,
    members_upsert_list_and_leave,
    deleting_a_session_removes_what_hangs_off_it,
    invites_are_single_use_and_expire,
    concurrent_redeems_have_one_winner,
    snapshot_replacement_is_atomic,
    chat_comes_back_in_order,
    reopening_keeps_data_and_skips_applied_migrations,
);

async fn user(store: &Store, name: &str) -> User {
    store.create_user(name, &format!("hash-of-{name}")).await.expect("create user")
}

fn new_session(owner: i64, name: &str) -> NewSession {
    NewSession {
        name: name.to_owned(),
        owner,
        scenario_name: "village".to_owned(),
        scenario_toml: "[world]\nname = \"village\"\n".to_owned(),
        seed: u64::MAX - 7,
        threads: 4,
        rate: "10/s".to_owned(),
        public: false,
    }
}

async fn users_are_unique_regardless_of_case(store: &Store) {
    let alice = user(store, "alice").await;
    assert!(alice.id > 0);
    assert!(matches!(store.create_user("alice", "h").await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_user("ALICE", "h").await, Err(StoreError::Conflict(_))));
    let bob = user(store, "bob").await;
    assert_ne!(alice.id, bob.id);

    let found = store.user_by_name("Alice").await.unwrap().expect("case-insensitive lookup");
    assert_eq!(found.user, alice);
    assert_eq!(found.password_hash, "hash-of-alice");
    assert_eq!(store.user_by_id(bob.id).await.unwrap(), Some(bob));
    assert_eq!(store.user_by_name("carol").await.unwrap(), None);
    assert_eq!(store.user_by_id(alice.id + 1000).await.unwrap(), None);
}

async fn sessions_round_trip_and_change_state(store: &Store) {
    let owner = user(store, "owner").await;
    let created = store.create_session(&new_session(owner.id, "first")).await.unwrap();
    assert_eq!(created.state, "running");
    assert_eq!(created.seed, u64::MAX - 7, "u64 above i64::MAX survives");
    assert_eq!(store.session(created.id).await.unwrap().as_ref(), Some(&created));
    assert_eq!(store.member_role(created.id, owner.id).await.unwrap().as_deref(), Some("owner"));

    let second = store.create_session(&new_session(owner.id, "second")).await.unwrap();
    let all = store.list_sessions().await.unwrap();
    assert_eq!(all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["first", "second"]);

    store.set_session_state(second.id, "paused").await.unwrap();
    assert_eq!(store.session(second.id).await.unwrap().unwrap().state, "paused");
    store.set_session_state(second.id, "stopped").await.unwrap();
    assert_eq!(store.session(second.id).await.unwrap().unwrap().state, "stopped");
    assert!(matches!(store.set_session_state(second.id, "exploded").await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.set_session_state(second.id + 100, "paused").await, Err(StoreError::NotFound(_))));
    assert_eq!(store.session(second.id + 100).await.unwrap(), None);

    let stranger = store.create_session(&new_session(owner.id + 100, "orphan")).await;
    assert!(matches!(stranger, Err(StoreError::NotFound(_))), "owner must exist: {stranger:?}");
    assert_eq!(store.list_sessions().await.unwrap().len(), 2, "the failed create left nothing behind");
}

async fn members_upsert_list_and_leave(store: &Store) {
    let owner = user(store, "owner").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let s = store.create_session(&new_session(owner.id, "s")).await.unwrap();
    let other = store.create_session(&new_session(carol.id, "other")).await.unwrap();

    assert!(store.sessions_for_user(bob.id).await.unwrap().is_empty());
    store.add_member(s.id, bob.id, "observer").await.unwrap();
    store.add_member(s.id, bob.id, "director").await.unwrap();
    assert_eq!(store.member_role(s.id, bob.id).await.unwrap().as_deref(), Some("director"));
    assert_eq!(store.member_role(other.id, bob.id).await.unwrap(), None);
    let mine: Vec<i64> = store.sessions_for_user(bob.id).await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(mine, [s.id]);

    let members = store.members(s.id).await.unwrap();
    let names: Vec<(&str, &str)> = members.iter().map(|m| (m.username.as_str(), m.role.as_str())).collect();
    assert_eq!(names, [("owner", "owner"), ("bob", "director")]);

    assert!(matches!(store.add_member(s.id, bob.id, "king").await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.add_member(s.id + 100, bob.id, "player").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.add_member(s.id, bob.id + 100, "player").await, Err(StoreError::NotFound(_))));

    store.remove_member(s.id, bob.id).await.unwrap();
    assert_eq!(store.member_role(s.id, bob.id).await.unwrap(), None);
    assert!(matches!(store.remove_member(s.id, bob.id).await, Err(StoreError::NotFound(_))));
    assert!(store.sessions_for_user(bob.id).await.unwrap().is_empty());
}

async fn deleting_a_session_removes_what_hangs_off_it(store: &Store) {
    let owner = user(store, "owner").await;
    let s = store.create_session(&new_session(owner.id, "doomed")).await.unwrap();
    let keep = store.create_session(&new_session(owner.id, "kept")).await.unwrap();
    store.save_snapshot(s.id, 1, 2, 3, b"world", "").await.unwrap();
    store.add_chat(s.id, owner.id, "bye").await.unwrap();
    store.add_chat(keep.id, owner.id, "still here").await.unwrap();
    let token = store.create_invite(s.id, "player", owner.id, unix_now() + 3600).await.unwrap();

    store.delete_session(s.id).await.unwrap();
    assert_eq!(store.session(s.id).await.unwrap(), None);
    assert!(store.members(s.id).await.unwrap().is_empty());
    assert_eq!(store.latest_snapshot(s.id).await.unwrap(), None);
    assert!(store.recent_chat(s.id, 10).await.unwrap().is_empty());
    assert!(matches!(store.redeem_invite(&token, owner.id).await, Err(StoreError::Invite(InviteRefusal::Unknown))));
    assert!(matches!(store.delete_session(s.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.recent_chat(keep.id, 10).await.unwrap().len(), 1, "other sessions untouched");
}

async fn invites_are_single_use_and_expire(store: &Store) {
    let owner = user(store, "owner").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let s = store.create_session(&new_session(owner.id, "s")).await.unwrap();

    let token = store.create_invite(s.id, "player", owner.id, unix_now() + 3600).await.unwrap();
    assert_eq!(token.len(), 64, "256 bits as hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let again = store.create_invite(s.id, "player", owner.id, unix_now() + 3600).await.unwrap();
    assert_ne!(token, again);

    assert_eq!(store.redeem_invite(&token, bob.id).await.unwrap(), (s.id, "player".to_owned()));
    assert_eq!(store.member_role(s.id, bob.id).await.unwrap().as_deref(), Some("player"));
    let reused = store.redeem_invite(&token, carol.id).await;
    assert!(matches!(reused, Err(StoreError::Invite(InviteRefusal::Used))), "{reused:?}");
    assert_eq!(store.member_role(s.id, carol.id).await.unwrap(), None);

    let unknown = store.redeem_invite(&"0".repeat(64), carol.id).await;
    assert!(matches!(unknown, Err(StoreError::Invite(InviteRefusal::Unknown))), "{unknown:?}");

    let stale = store.create_invite(s.id, "director", owner.id, unix_now() - 1).await.unwrap();
    let expired = store.redeem_invite(&stale, carol.id).await;
    assert!(matches!(expired, Err(StoreError::Invite(InviteRefusal::Expired))), "{expired:?}");
    assert_eq!(store.member_role(s.id, carol.id).await.unwrap(), None);

    // An observer invite does not demote the owner who follows it.
    let weak = store.create_invite(s.id, "observer", owner.id, unix_now() + 60).await.unwrap();
    assert_eq!(store.redeem_invite(&weak, owner.id).await.unwrap(), (s.id, "owner".to_owned()));
    // A stronger invite promotes.
    let strong = store.create_invite(s.id, "director", owner.id, unix_now() + 60).await.unwrap();
    assert_eq!(store.redeem_invite(&strong, bob.id).await.unwrap(), (s.id, "director".to_owned()));

    assert!(matches!(store.create_invite(s.id, "god", owner.id, unix_now() + 60).await, Err(StoreError::Invalid(_))));
    assert!(matches!(
        store.create_invite(s.id + 100, "player", owner.id, unix_now() + 60).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn concurrent_redeems_have_one_winner(store: &Store) {
    let owner = user(store, "owner").await;
    let s = store.create_session(&new_session(owner.id, "s")).await.unwrap();
    for round in 0..3 {
        let mut guests = Vec::new();
        for i in 0..8 {
            guests.push(user(store, &format!("guest{round}_{i}")).await);
        }
        let token = store.create_invite(s.id, "player", owner.id, unix_now() + 60).await.unwrap();
        let tasks: Vec<_> = guests
            .iter()
            .map(|g| {
                let (store, token, id) = (store.clone(), token.clone(), g.id);
                tokio::spawn(async move { (id, store.redeem_invite(&token, id).await) })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (id, Ok((sid, role))) => {
                    assert_eq!((sid, role.as_str()), (s.id, "player"));
                    winners.push(id);
                }
                (_, Err(StoreError::Invite(InviteRefusal::Used))) => {}
                (_, Err(e)) => panic!("round {round}: unexpected error {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one redeem wins, got {winners:?}");
        let players = store.members(s.id).await.unwrap().iter().filter(|m| m.role == "player").count();
        assert_eq!(players, round + 1, "round {round}: one new member per invite");
        for g in &guests {
            let role = store.member_role(s.id, g.id).await.unwrap();
            assert_eq!(role.is_some(), winners.contains(&g.id), "round {round}: only the winner joined");
        }
    }
}

async fn snapshot_replacement_is_atomic(store: &Store) {
    let owner = user(store, "owner").await;
    let s = store.create_session(&new_session(owner.id, "s")).await.unwrap();
    assert_eq!(store.latest_snapshot(s.id).await.unwrap(), None);

    let first_bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    store.save_snapshot(s.id, 10, u64::MAX, 1, &first_bytes, "{\"cmd\":1}\n").await.unwrap();
    let first = store.latest_snapshot(s.id).await.unwrap().expect("saved");
    assert_eq!((first.tick, first.world_hash, first.epoch), (10, u64::MAX, 1));
    assert_eq!(first.bytes, first_bytes);
    assert_eq!(first.inputs_jsonl, "{\"cmd\":1}\n");

    // A save that dies after writing but before committing (a crash, an error in a later statement)
    // must leave the previous snapshot in place.
    {
        let mut tx = store.pool.begin().await.unwrap();
        let next = SnapshotRef { tick: 20, world_hash: 5, epoch: 2, bytes: b"half-written", inputs_jsonl: "" };
        write_snapshot(&mut tx, s.id, &next).await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT tick FROM snapshots WHERE session_id = $1")
            .bind(s.id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, 20, "inside the transaction the new snapshot is written");
        drop(tx);
    }
    assert_eq!(store.latest_snapshot(s.id).await.unwrap().as_ref(), Some(&first));

    // A save for an unknown session is refused and touches nothing.
    assert!(matches!(store.save_snapshot(s.id + 100, 1, 1, 1, b"x", "").await, Err(StoreError::NotFound(_))));
    assert_eq!(store.latest_snapshot(s.id).await.unwrap().as_ref(), Some(&first));

    store.save_snapshot(s.id, 30, 0x8000_0000_0000_0001, u64::MAX - 1, b"second", "").await.unwrap();
    let second = store.latest_snapshot(s.id).await.unwrap().expect("replaced");
    assert_eq!((second.tick, second.world_hash, second.epoch), (30, 0x8000_0000_0000_0001, u64::MAX - 1));
    assert_eq!(second.bytes, b"second");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM snapshots").fetch_one(&store.pool).await.unwrap();
    assert_eq!(rows, 1, "only the latest snapshot is kept");
}

async fn chat_comes_back_in_order(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let s = store.create_session(&new_session(alice.id, "s")).await.unwrap();
    let other = store.create_session(&new_session(bob.id, "other")).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..6 {
        let who = if i % 2 == 0 { &alice } else { &bob };
        sent.push(store.add_chat(s.id, who.id, &format!("message {i}")).await.unwrap());
        store.add_chat(other.id, bob.id, "elsewhere").await.unwrap();
    }
    assert_eq!(sent[1].username, "bob");
    let all = store.recent_chat(s.id, 100).await.unwrap();
    assert_eq!(all, sent, "oldest first, every field as returned by add_chat");
    let last3 = store.recent_chat(s.id, 3).await.unwrap();
    let texts: Vec<&str> = last3.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["message 3", "message 4", "message 5"]);
    assert!(last3.windows(2).all(|w| w[0].id < w[1].id));
    assert!(store.recent_chat(s.id, 0).await.unwrap().is_empty());
    assert!(matches!(store.add_chat(s.id + 100, alice.id, "x").await, Err(StoreError::NotFound(_))));
}

async fn reopening_keeps_data_and_skips_applied_migrations(store: &Store) {
    let alice = user(store, "alice").await;
    // A second store on the same database (what a restart does): migrations are already applied.
    let url = match store.backend() {
        Backend::Sqlite => {
            let path: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            format!("sqlite://{path}")
        }
        Backend::Postgres => {
            let schema: String =
                sqlx::query_scalar("SELECT current_schema()::text").fetch_one(&store.pool).await.unwrap();
            let base = std::env::var("AION_TEST_POSTGRES_URL").unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options[search_path]={schema}")
        }
    };
    let again = Store::open(&url).await.expect("reopen");
    assert_eq!(again.user_by_id(alice.id).await.unwrap(), Some(alice));
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&again.pool).await.unwrap();
    assert_eq!(applied, 1);
    again.close().await;
}

#[tokio::test]
async fn sqlite_file_uses_wal_and_foreign_keys() {
    let db = TestDb::sqlite().await;
    let dir = db._dir.as_ref().unwrap().path().join("db");
    assert!(dir.join("aion.db").is_file(), "a real file, created with its directory");
    let mut conn = db.store.pool.acquire().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *conn).await.unwrap();
    assert_eq!(busy, 5000);
    drop(conn);
    db.finish().await;
}

#[test]
fn urls_pick_the_backend_and_sqlite_creates_files() {
    assert_eq!(Backend::of_url("sqlite://aion.db"), Some(Backend::Sqlite));
    assert_eq!(Backend::of_url("postgres://u:p@localhost/aion"), Some(Backend::Postgres));
    assert_eq!(Backend::of_url("postgresql://localhost/aion"), Some(Backend::Postgres));
    assert_eq!(Backend::of_url("mysql://localhost/aion"), None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let url = format!("sqlite://{}", path.display());
    assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
    assert_eq!(sqlite_url(&format!("{url}?mode=ro")).unwrap(), format!("{url}?mode=ro"));
    assert_eq!(sqlite_url(&format!("{url}?cache=private")).unwrap(), format!("{url}?cache=private&mode=rwc"));
    assert!(matches!(sqlite_url("sqlite::memory:"), Err(StoreError::Url(_))));
}

#[test]
fn u64_values_survive_the_i64_column() {
    for v in [0, 1, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
        assert_eq!(from_db(to_db(v)), v);
    }
    assert_eq!(to_db(u64::MAX), -1);
}
