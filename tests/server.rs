//! `aion serve` end to end: a real server process on loopback, real HTTP requests and a real
//! WebSocket client (tokio-tungstenite) speaking `aion.observatory.v1`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::live::{End, Server, Ws, account, http, http_raw};
use serde_json::{Value, json};

/// The start of a frame, for assertion messages.
fn brief(v: &Value) -> String {
    v.to_string().chars().take(300).collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Creates a session from a shipped scenario; returns its id.
async fn session(s: &Server, token: &str, scenario: &str, rate: Value) -> i64 {
    let body = json!({"name": format!("{scenario} test"), "scenario": scenario, "rate": rate});
    let r = http(s.addr, "POST", "/api/v1/sessions", Some(token), Some(&body)).await;
    assert_eq!(r.status, 201, "create session: {}", r.json);
    r.json["id"].as_i64().expect("id")
}

/// Waits (polling the REST API, no fixed sleep) until the session has run past `tick`; returns its tick.
async fn ticked_past(s: &Server, token: &str, id: i64, tick: u64) -> u64 {
    loop {
        let r = http(s.addr, "GET", &format!("/api/v1/sessions/{id}"), Some(token), None).await;
        let now = r.json["live"]["tick"].as_u64().expect("a running session reports its tick");
        if now > tick {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows deltas and checks the stream's promises: `seq` grows, every delta's `prev` is the last
/// `seq` seen on its topic, and metrics ticks follow each other without a gap.
#[derive(Default, Debug)]
struct Follower {
    seq: u64,
    epoch: u64,
    last_on_topic: BTreeMap<String, u64>,
    last_tick: Option<u64>,
    deltas: usize,
}

impl Follower {
    fn snapshot(&mut self, f: &Value) {
        assert_eq!(f["type"], "snapshot", "{}", brief(f));
        self.seq = f["seq"].as_u64().unwrap();
        self.epoch = f["epoch"].as_u64().unwrap();
        self.last_on_topic.clear();
        self.last_tick = f["payload"]["metrics"].as_array().and_then(|m| m.last()).and_then(|m| m["tick"].as_u64());
    }

    fn delta(&mut self, f: &Value) {
        assert_eq!(f["type"], "delta", "{}", brief(f));
        let seq = f["seq"].as_u64().unwrap();
        assert!(seq > self.seq, "seq went from {} to {seq}: a duplicate", self.seq);
        let topic = f["topic"].as_str().unwrap().to_owned();
        let prev = f["prev"].as_u64().unwrap();
        match self.last_on_topic.get(&topic) {
            Some(last) => assert_eq!(prev, *last, "a gap on {topic}: prev {prev}, last seen {last}"),
            None => assert!(prev <= self.seq, "{topic}'s first delta after a snapshot points past it"),
        }
        if topic == "metrics" {
            let tick = f["payload"]["tick"].as_u64().unwrap();
            if let Some(t) = self.last_tick {
                assert_eq!(tick, t + 1, "metrics skipped from tick {t} to {tick}");
            }
            self.last_tick = Some(tick);
        }
        self.last_on_topic.insert(topic, seq);
        self.seq = seq;
        self.deltas += 1;
    }
}

#[test]
fn an_observer_follows_snapshot_and_deltas_and_resumes_without_loss_or_duplication() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    rt().block_on(async {
        let (_, alice) = account(s.addr, "alice").await;
        let id = session(&s, &alice, "harbor_town", json!({"mode": "realtime", "ticks_per_second": 40})).await;
        let mut ws = Ws::connect(s.addr, id, &alice, None).await;
        let hello = ws.next(10).await.unwrap();
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["payload"]["protocol"], "aion.observatory.v1");
        assert_eq!(hello["payload"]["you"]["role"], "owner");
        assert!(hello["payload"]["heartbeat_ms"].as_u64().unwrap() > 0);
        ws.send(json!({"type": "subscribe", "topics": ["feed", "graph", "metrics"]})).await;
        let snap = ws.next(10).await.unwrap();
        let mut f = Follower::default();
        f.snapshot(&snap);
        assert_eq!(snap["payload"]["characters"].as_array().unwrap().len(), 16);
        assert!(!snap["payload"]["relationships"].as_array().unwrap().is_empty());
        assert!(snap["world_hash"].as_str().unwrap().len() == 16);
        let mut hashes = 0;
        while f.deltas < 90 {
            let d = ws.next(10).await.unwrap();
            hashes += usize::from(d.get("world_hash").is_some());
            f.delta(&d);
        }
        assert!(hashes >= 3, "every 10th tick's deltas carry the world hash");
        ws.close().await;
        let gone_at = f.last_tick.expect("metrics were followed");
        ticked_past(&s, &alice, id, gone_at + 10).await;

        // Resume: exactly the missed deltas, then live ones, with no gap and no duplicate.
        let mut ws = Ws::connect(s.addr, id, &alice, None).await;
        ws.next_of(&["hello"], 10).await;
        let resume = json!({"epoch": f.epoch, "seq": f.seq});
        ws.send(json!({"type": "subscribe", "topics": ["feed", "graph", "metrics"], "resume": resume})).await;
        let marker = ws.next(10).await.unwrap();
        assert_eq!(marker["type"], "replay", "{}", brief(&marker));
        assert_eq!(marker["payload"]["from"], f.seq);
        let missed = marker["payload"]["count"].as_u64().unwrap();
        assert!(missed >= 10, "ten ticks without us leave at least their metrics to replay, got {missed}");
        let before = f.deltas;
        while f.deltas < before + missed as usize + 30 {
            f.delta(&ws.next(10).await.unwrap());
        }
        ws.close().await;

        // A position from another epoch (or too old) gets a snapshot instead.
        let mut ws = Ws::connect(s.addr, id, &alice, None).await;
        ws.next_of(&["hello"], 10).await;
        ws.send(json!({"type": "subscribe", "topics": ["metrics"], "resume": {"epoch": f.epoch + 7, "seq": 1}})).await;
        assert_eq!(ws.next(10).await.unwrap()["type"], "snapshot");
        ws.close().await;
    });
    s.stop();
}

#[test]
fn a_slow_client_is_resynced_while_a_fast_one_sees_every_delta() {
    let dir = tempfile::tempdir().unwrap();
    // A short client queue, so that a client that stops reading overflows within seconds.
    let s = Server::start(dir.path(), &["--no-default-session", "--client-queue", "16"], &[]);
    rt().block_on(async {
        let (_, alice) = account(s.addr, "alice").await;
        let id = session(&s, &alice, "village_500", json!({"mode": "fast"})).await;
        let mut fast = Ws::connect(s.addr, id, &alice, None).await;
        fast.next_of(&["hello"], 10).await;
        fast.send(json!({"type": "subscribe", "topics": ["metrics"]})).await;
        let mut slow = Ws::connect(s.addr, id, &alice, Some(4096)).await;
        slow.next_of(&["hello"], 10).await;
        slow.send(json!({"type": "subscribe", "topics": ["feed", "graph", "metrics"]})).await;
        let mut f = Follower::default();
        f.snapshot(&fast.next(30).await.unwrap());
        // The slow client reads nothing while the fast one follows every tick for a while.
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(8) {
            f.delta(&fast.next(30).await.unwrap());
        }
        assert!(f.deltas > 50, "the world ticked ({} deltas)", f.deltas);
        // Now the slow client reads: somewhere after its first snapshot comes a fresh one.
        assert_eq!(slow.next(30).await.unwrap()["type"], "snapshot");
        let mut resynced = false;
        let reading = std::time::Instant::now();
        while reading.elapsed() < Duration::from_secs(60) {
            match slow.next(30).await {
                Ok(fr) if fr["type"] == "snapshot" => {
                    resynced = true;
                    let mut g = Follower::default();
                    g.snapshot(&fr);
                    for _ in 0..20 {
                        g.delta(&slow.next(30).await.unwrap());
                    }
                    break;
                }
                Ok(_) => continue,
                Err(e) => panic!("the slow client was closed ({e:?}) instead of resynced"),
            }
        }
        assert!(resynced, "the slow client never got a fresh snapshot");
        let st = http(s.addr, "GET", &format!("/api/v1/sessions/{id}"), Some(&alice), None).await;
        assert!(st.json["live"]["dropped"].as_u64().unwrap() >= 1, "{}", st.json);
        fast.close().await;
        slow.close().await;
    });
    s.stop();
}

/// Everyone's role in session A (owned by alice) and eve, who owns session B.
struct Cast {
    a: i64,
    b: i64,
    tokens: BTreeMap<&'static str, String>,
    ids: BTreeMap<&'static str, i64>,
}

async fn cast(s: &Server) -> Cast {
    let mut tokens = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for name in ["alice", "dave", "pat", "olive", "eve"] {
        let (id, t) = account(s.addr, name).await;
        tokens.insert(name, t);
        ids.insert(name, id);
    }
    let paused = json!({"mode": "paused"});
    let a = session(s, &tokens["alice"], "harbor_town", paused.clone()).await;
    let b = session(s, &tokens["eve"], "summer_wedding", paused).await;
    for (who, role) in [("dave", "director"), ("pat", "player"), ("olive", "observer")] {
        let r = http(
            s.addr,
            "POST",
            &format!("/api/v1/sessions/{a}/invites"),
            Some(&tokens["alice"]),
            Some(&json!({"role": role})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.json);
        let t = r.json["token"].as_str().unwrap();
        let r = http(s.addr, "POST", &format!("/api/v1/invites/{t}/accept"), Some(&tokens[who]), None).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["role"], role);
        // Invites are single use.
        let again = http(s.addr, "POST", &format!("/api/v1/invites/{t}/accept"), Some(&tokens["eve"]), None).await;
        assert_eq!(again.status, 410);
    }
    Cast { a, b, tokens, ids }
}

#[test]
fn every_route_and_command_is_refused_to_a_role_or_user_without_permission() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    rt().block_on(async {
        let c = cast(&s).await;
        let (a, b) = (c.a, c.b);
        let olive = c.ids["olive"];
        let pat = c.ids["pat"] as u64;
        // (method, path, body, who may: [alice, dave, pat, olive, eve])
        let view = [true, true, true, true, false];
        let play = [true, true, true, false, false];
        let direct = [true, true, false, false, false];
        let own = [true, false, false, false, false];
        let set_mood = json!({"command": {"set_mood": {"character": 0, "mood": {"p": 0.5, "a": 0.0, "d": 0.0}}}});
        let possess = json!({"command": {"possess": {"character": 3, "user": pat}}});
        let table: Vec<(&str, String, Option<Value>, [bool; 5])> = vec![
            ("GET", format!("/api/v1/sessions/{a}"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/characters"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/characters/2"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/relationships?character=1"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/arcs"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/metrics"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/events?since=0"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/members"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/chat"), None, view),
            ("GET", format!("/api/v1/sessions/{a}/snapshot"), None, view),
            ("POST", format!("/api/v1/sessions/{a}/chat"), Some(json!({"text": "hello"})), view),
            ("POST", format!("/api/v1/sessions/{a}/commands"), Some(possess), play),
            ("POST", format!("/api/v1/sessions/{a}/commands"), Some(set_mood), direct),
            ("POST", format!("/api/v1/sessions/{a}/control"), Some(json!({"op": "step"})), direct),
            ("POST", format!("/api/v1/sessions/{a}/snapshot"), None, direct),
            ("POST", format!("/api/v1/sessions/{a}/fork"), Some(json!({"seed": 9})), direct),
            ("POST", format!("/api/v1/sessions/{a}/invites"), Some(json!({"role": "observer"})), direct),
            ("POST", format!("/api/v1/sessions/{a}/invites"), Some(json!({"role": "director"})), own),
            ("PUT", format!("/api/v1/sessions/{a}/members/{olive}"), Some(json!({"role": "observer"})), own),
            ("DELETE", format!("/api/v1/sessions/{a}/members/{olive}"), None, own),
            ("DELETE", format!("/api/v1/sessions/{a}"), None, own),
        ];
        let who = ["alice", "dave", "pat", "olive", "eve"];
        for (method, path, body, may) in &table {
            // Denied first, so that allowed destructive calls (remove, delete) run last.
            for (i, name) in who.iter().enumerate().filter(|(i, _)| !may[*i]) {
                let r = http(s.addr, method, path, Some(&c.tokens[name]), body.as_ref()).await;
                assert_eq!(r.status, 403, "{name} ({i}) {method} {path}: {}", r.json);
                assert_eq!(r.json["error"], "forbidden");
            }
            for name in who.iter().enumerate().filter(|(i, _)| may[*i]).map(|(_, n)| n) {
                let r = http(s.addr, method, path, Some(&c.tokens[name]), body.as_ref()).await;
                assert!((200..300).contains(&r.status), "{name} {method} {path}: {} {}", r.status, r.json);
                if *method == "DELETE" || *method == "PUT" {
                    break;
                }
            }
        }
        // Another user's ids: alice may not touch eve's session B.
        for (method, path, body) in [
            ("GET", format!("/api/v1/sessions/{b}/characters"), None),
            ("POST", format!("/api/v1/sessions/{b}/control"), Some(json!({"op": "pause"}))),
            ("DELETE", format!("/api/v1/sessions/{b}"), None),
        ] {
            let r = http(s.addr, method, &path, Some(&c.tokens["alice"]), body.as_ref()).await;
            assert_eq!(r.status, 403, "{method} {path}");
        }
        // Unknown ids are 404, and no token is 401.
        assert_eq!(http(s.addr, "GET", "/api/v1/sessions/9999", Some(&c.tokens["alice"]), None).await.status, 404);
        assert_eq!(http(s.addr, "GET", &format!("/api/v1/sessions/{b}"), None, None).await.status, 401);
    });
    s.stop();
}

#[test]
fn websocket_commands_follow_the_same_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    rt().block_on(async {
        let c = cast(&s).await;
        // An outsider cannot even watch.
        let mut ws = Ws::connect(s.addr, c.a, &c.tokens["eve"], None).await;
        assert_eq!(ws.closed(10).await, End::Closed(4403));
        // An observer watches but cannot direct, control or play.
        let mut ws = Ws::connect(s.addr, c.a, &c.tokens["olive"], None).await;
        assert_eq!(ws.next(10).await.unwrap()["payload"]["you"]["role"], "observer");
        ws.send(json!({"type": "subscribe", "topics": ["metrics", "chat"]})).await;
        ws.next_of(&["snapshot"], 10).await;
        let set_mood = json!({"set_mood": {"character": 0, "mood": {"p": 0.5, "a": 0.0, "d": 0.0}}});
        ws.send(json!({"type": "command", "id": "c1", "command": set_mood})).await;
        let e = ws.next_of(&["error", "ack"], 10).await;
        assert_eq!((e["type"].as_str(), e["payload"]["code"].as_str()), (Some("error"), Some("forbidden")));
        ws.send(json!({"type": "control", "id": "c2", "op": {"op": "step"}})).await;
        let e = ws.next_of(&["error", "ack"], 10).await;
        assert_eq!(e["payload"]["code"], "forbidden");
        // But it may chat, and everyone subscribed to chat sees it.
        ws.send(json!({"type": "chat", "text": "hi all"})).await;
        let d = ws.next_of(&["delta"], 10).await;
        assert_eq!((d["topic"].as_str(), d["payload"]["text"].as_str()), (Some("chat"), Some("hi all")));
        ws.close().await;
        // A director's command is acknowledged with the tick it applies before, once per id.
        let mut ws = Ws::connect(s.addr, c.a, &c.tokens["dave"], None).await;
        ws.next_of(&["hello"], 10).await;
        ws.send(json!({"type": "subscribe", "topics": ["metrics", "clock"]})).await;
        ws.next_of(&["snapshot"], 10).await;
        for _ in 0..2 {
            ws.send(json!({"type": "command", "id": "same", "command": set_mood})).await;
            let ack = ws.next_of(&["ack", "error"], 10).await;
            assert_eq!(ack["type"], "ack", "{ack}");
            assert_eq!(ack["payload"]["applied_at_tick"], 1);
        }
        ws.send(json!({"type": "control", "id": "s", "op": {"op": "step"}})).await;
        let (mut acked, mut clocked) = (false, false);
        while !(acked && clocked) {
            let f = ws.next_of(&["ack", "delta"], 10).await;
            if f["type"] == "ack" {
                assert_eq!(f["payload"]["status"]["tick"], 1);
                acked = true;
            } else if f["topic"] == "clock" {
                // Everyone on `clock` learns of pauses, steps and rate changes.
                assert_eq!((f["payload"]["op"]["op"].as_str(), f["payload"]["tick"].as_u64()), (Some("step"), Some(1)));
                assert_eq!(f["payload"]["rate"]["mode"], "paused");
                clocked = true;
            }
        }
        let inputs =
            http(s.addr, "GET", &format!("/api/v1/sessions/{}/events?since=0", c.a), Some(&c.tokens["dave"]), None)
                .await;
        assert_eq!(inputs.status, 200);
        // Roles are read for every write: dave, demoted to observer while connected, is refused at once;
        // removed from the session, he is closed.
        let dave = c.ids["dave"];
        let demote = json!({"role": "observer"});
        let path = format!("/api/v1/sessions/{}/members/{dave}", c.a);
        assert_eq!(http(s.addr, "PUT", &path, Some(&c.tokens["alice"]), Some(&demote)).await.status, 204);
        ws.send(json!({"type": "command", "id": "after-demotion", "command": set_mood})).await;
        let e = ws.next_of(&["error", "ack"], 10).await;
        assert_eq!(e["payload"]["code"], "forbidden", "{e}");
        assert_eq!(http(s.addr, "DELETE", &path, Some(&c.tokens["alice"]), None).await.status, 204);
        ws.send(json!({"type": "chat", "text": "still here?"})).await;
        assert_eq!(ws.closed(10).await, End::Closed(4403));
        // A player may steer only the character it possesses.
        let mut ws = Ws::connect(s.addr, c.a, &c.tokens["pat"], None).await;
        ws.next_of(&["hello"], 10).await;
        let act = json!({"act": {"character": 5, "action": "rest", "target": null}});
        ws.send(json!({"type": "command", "id": "p1", "command": act})).await;
        let e = ws.next_of(&["error", "ack"], 10).await;
        assert_eq!(e["payload"]["code"], "command_refused", "{e}");
        ws.close().await;
    });
    s.stop();
}

#[test]
fn expired_and_forged_tokens_are_refused_on_http_and_websocket() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let secret_a = "k7Qz9vLm2Xw8Rt4Yp6Nb3Hc5Jd1Fg0Sa7Ue2Io9";
    let secret_b = "Zx4Cv7Bn1Mq8Wl3Ek6Rj9Tp2Yh5Ug0Fd4Sa7Oi1";
    let s = Server::start(d1.path(), &[], &[("AION_JWT_SECRET", secret_a), ("AION_TOKEN_TTL_SECS", "1")]);
    let other = Server::start(d2.path(), &[], &[("AION_JWT_SECRET", secret_b)]);
    rt().block_on(async {
        let (_, token) = account(s.addr, "alice").await;
        let (_, foreign) = account(other.addr, "alice").await;
        assert_eq!(http(s.addr, "POST", "/api/v1/sessions/1/join", Some(&token), None).await.status, 200);
        assert_eq!(http(s.addr, "GET", "/api/v1/me", Some(&token), None).await.status, 200);
        let mut tampered = token.clone().into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [foreign.as_str(), tampered.as_str(), "not.a.token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."] {
            let r = http(s.addr, "GET", "/api/v1/me", Some(bad), None).await;
            assert_eq!(r.status, 401, "{bad}: {}", r.json);
            let mut ws = Ws::connect(s.addr, 1, bad, None).await;
            assert_eq!(ws.closed(10).await, End::Closed(4401), "{bad}");
        }
        // The token's one-second lifetime plus the verifier's leeway.
        tokio::time::sleep(Duration::from_secs(7)).await;
        assert_eq!(http(s.addr, "GET", "/api/v1/me", Some(&token), None).await.status, 401);
        let mut ws = Ws::connect(s.addr, 1, &token, None).await;
        assert_eq!(ws.closed(10).await, End::Closed(4401));
    });
    other.stop();
    s.stop();
}

#[test]
fn shutdown_and_restart_resume_sessions_with_the_same_world_hash() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    let (token, id, before) = rt().block_on(async {
        let (_, alice) = account(s.addr, "alice").await;
        let id = session(&s, &alice, "manor_mystery", json!({"mode": "fast"})).await;
        ticked_past(&s, &alice, id, 10).await;
        let r = http(
            s.addr,
            "POST",
            &format!("/api/v1/sessions/{id}/control"),
            Some(&alice),
            Some(&json!({"op": "pause"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert!(r.json["tick"].as_u64().unwrap() > 10, "it ran: {}", r.json);
        (alice, id, r.json)
    });
    let out = s.stop();
    assert!(out.iter().any(|l| l.contains(&format!("saved session {id} at tick {}", before["tick"]))), "{out:?}");
    let s = Server::start(dir.path(), &[], &[]);
    rt().block_on(async {
        let r = http(s.addr, "GET", &format!("/api/v1/sessions/{id}"), Some(&token), None).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["live"]["tick"], before["tick"]);
        assert_eq!(r.json["live"]["world_hash"], before["world_hash"]);
        assert_eq!(r.json["live"]["epoch"], before["epoch"].as_u64().unwrap() + 1, "a restart is a new epoch");
        assert_eq!(r.json["state"], "paused");
    });
    s.stop();
}

#[test]
fn malformed_messages_get_a_protocol_error_and_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    rt().block_on(async {
        let (_, alice) = account(s.addr, "alice").await;
        let id = session(&s, &alice, "harbor_town", json!({"mode": "paused"})).await;
        let big = "x".repeat(70 * 1024);
        let cases: Vec<(String, u16)> = vec![
            ("not json".into(), 4400),
            (json!({"type": "launch"}).to_string(), 4400),
            (json!({"type": "subscribe", "topics": ["feed"], "extra": 1}).to_string(), 4400),
            (json!({"type": "subscribe", "topics": ["nope"]}).to_string(), 4403),
            (json!({"type": "subscribe", "topics": ["character:99999"]}).to_string(), 4403),
            (json!({"type": "chat", "text": big}).to_string(), 4413),
        ];
        for (text, code) in cases {
            let mut ws = Ws::connect(s.addr, id, &alice, None).await;
            ws.next_of(&["hello"], 10).await;
            ws.send_text(&text).await;
            assert_eq!(ws.closed(10).await, End::Closed(code), "{}", &text[..text.len().min(60)]);
        }
        let mut ws = Ws::connect(s.addr, id, &alice, None).await;
        ws.next_of(&["hello"], 10).await;
        ws.send(json!({"type": "subscribe", "topics": ["metrics"]})).await;
        ws.next_of(&["snapshot"], 10).await;
        ws.send(json!({"type": "subscribe", "topics": ["metrics"]})).await;
        assert_eq!(ws.closed(10).await, End::Closed(4409));
        // A bad command inside a good message is a non-fatal error frame.
        let mut ws = Ws::connect(s.addr, id, &alice, None).await;
        ws.next_of(&["hello"], 10).await;
        let bad = json!({"set_mood": {"character": 0, "mood": {"p": 5.0, "a": 0.0, "d": 0.0}}});
        ws.send(json!({"type": "command", "id": "x", "command": bad})).await;
        let e = ws.next_of(&["error"], 10).await;
        assert!(e["payload"]["message"].as_str().unwrap().contains("pleasure"), "{e}");
        ws.send(json!({"type": "ping", "t": 7})).await;
        assert_eq!(ws.next_of(&["pong"], 10).await["payload"]["t"], 7);
        ws.close().await;
        // HTTP: bad JSON, unknown fields, oversize bodies, bad scenarios are 4xx with a reason.
        let p = "/api/v1/sessions";
        assert_eq!(http_raw(s.addr, "POST", p, Some(&alice), Some(b"{nope")).await.status, 400);
        let r =
            http(s.addr, "POST", p, Some(&alice), Some(&json!({"name": "x", "scenario": "harbor_town", "colour": 1})))
                .await;
        assert_eq!(r.status, 422);
        let huge = vec![b' '; 2 << 20];
        assert_eq!(http_raw(s.addr, "POST", p, Some(&alice), Some(&huge)).await.status, 413);
        let toml = "format = \"aion.scenario/1\"\n[world]\nname = \"w\"\nseed = 1\nmood = 3\n";
        let r = http(s.addr, "POST", p, Some(&alice), Some(&json!({"name": "x", "scenario_toml": toml}))).await;
        assert_eq!(r.status, 400);
        assert!(r.json["message"].as_str().unwrap().contains("uploaded:5"), "names the line: {}", r.json);
        let r = http(s.addr, "POST", &format!("{p}/{id}/control"), Some(&alice), Some(&json!({"op": "warp"}))).await;
        assert_eq!(r.status, 400);
        assert_eq!(http(s.addr, "GET", "/api/v1/health", None, None).await.status, 200);
    });
    s.stop();
}

#[test]
fn the_openapi_document_lists_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--no-default-session"], &[]);
    rt().block_on(async {
        let r = http(s.addr, "GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(r.status, 200);
        let paths = r.json["paths"].as_object().unwrap();
        for p in [
            "/api/v1/auth/login",
            "/api/v1/sessions",
            "/api/v1/sessions/{id}/commands",
            "/api/v1/sessions/{id}/control",
            "/api/v1/sessions/{id}/fork",
            "/api/v1/sessions/{id}/snapshot",
            "/api/v1/invites/{token}/accept",
        ] {
            assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
        }
    });
    s.stop();
}

#[test]
fn limits_answer_429_with_retry_after_and_close_extra_connections() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--no-default-session", "--commands-per-second", "1", "--connections-per-user", "2"];
    let s = Server::start(dir.path(), &args, &[]);
    rt().block_on(async {
        let (_, alice) = account(s.addr, "alice").await;
        let id = session(&s, &alice, "harbor_town", json!({"mode": "paused"})).await;
        let path = format!("/api/v1/sessions/{id}/chat");
        let mut limited = None;
        for i in 0..60 {
            let r = http(s.addr, "POST", &path, Some(&alice), Some(&json!({"text": format!("line {i}")}))).await;
            if r.status == 429 {
                limited = Some(r);
                break;
            }
            assert_eq!(r.status, 201);
        }
        let r = limited.expect("a burst beyond the bucket is refused");
        assert_eq!(r.json["error"], "rate_limited");
        assert!(r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
        let mut a = Ws::connect(s.addr, id, &alice, None).await;
        let mut b = Ws::connect(s.addr, id, &alice, None).await;
        assert_eq!(a.next(10).await.unwrap()["type"], "hello");
        assert_eq!(b.next(10).await.unwrap()["type"], "hello");
        let mut c = Ws::connect(s.addr, id, &alice, None).await;
        assert_eq!(c.closed(10).await, End::Closed(4429));
        a.close().await;
        b.close().await;
    });
    s.stop();
}

#[test]
fn the_server_refuses_to_start_without_a_secret_outside_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    for secret in [None, Some("changeme"), Some("replace-me-with-at-least-32-random-bytes")] {
        let mut cmd = std::process::Command::new(common::aion_bin());
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(dir.path()).env_remove("AION_JWT_SECRET");
        if let Some(s) = secret {
            cmd.env("AION_JWT_SECRET", s);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{secret:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("AION_JWT_SECRET"), "{secret:?}: {err}");
    }
}
