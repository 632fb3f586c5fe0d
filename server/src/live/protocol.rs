//! The observatory protocol `aion.observatory.v1`: frame shapes, client messages and close codes.
//! `docs/observatory.md` documents every message; this file is the code it describes.
//!
//! Every server frame is one JSON text message `{v, type, topic?, seq, tick, payload}` (plus
//! `epoch`, `prev` and `world_hash` where they apply). `seq` counts deltas per world, +1 per delta
//! whatever its topic; a delta's `prev` is the `seq` of the previous delta on the same topic, so a
//! client that sees `prev` differ from the last `seq` it holds for that topic knows it missed one.

use aion_engine::command::Command;
use serde::{Deserialize, Serialize};

/// WebSocket subprotocol name and the value of `v` in every frame.
pub const SUBPROTOCOL: &str = "aion.observatory.v1";
/// Protocol version carried in every frame.
pub const VERSION: u8 = 1;

/// Close codes (graphql-ws style 44xx).
pub mod close {
    /// A frame that is not valid JSON or not a known message.
    pub const BAD_MESSAGE: u16 = 4400;
    /// No valid token (missing, malformed, expired, forged).
    pub const UNAUTHENTICATED: u16 = 4401;
    /// The user may not watch this session or subscribe to this topic.
    pub const FORBIDDEN: u16 = 4403;
    /// The session does not exist (or was deleted).
    pub const NOT_FOUND: u16 = 4404;
    /// No frame from the client (not even a ping) within the heartbeat timeout.
    pub const TIMEOUT: u16 = 4408;
    /// A second `subscribe` on one connection (use `topics` to change topics).
    pub const DUPLICATE_SUBSCRIPTION: u16 = 4409;
    /// A client frame larger than the frame limit.
    pub const TOO_BIG: u16 = 4413;
    /// Too many messages or connections.
    pub const RATE_LIMITED: u16 = 4429;
    /// The client fell behind more than `RESYNCS_MAX` times in a row.
    pub const SLOW_CONSUMER: u16 = 4499;
}

/// A topic a client can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// Every event of every tick, interactions with their dialogue text.
    Feed,
    /// Changed bonds, moods and groups.
    Graph,
    /// Per-tick aggregates.
    Metrics,
    /// Story arcs as they advance.
    Arcs,
    /// Who is connected and what each is focused on.
    Presence,
    /// The session chat.
    Chat,
    /// The session clock: rate changes, pauses and single steps.
    Clock,
    /// One character's full state every tick.
    Character(u32),
}

impl Topic {
    /// Parses `feed`, `graph`, `metrics`, `arcs`, `presence`, `chat` or `character:<id>`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "feed" => Self::Feed,
            "graph" => Self::Graph,
            "metrics" => Self::Metrics,
            "arcs" => Self::Arcs,
            "presence" => Self::Presence,
            "chat" => Self::Chat,
            "clock" => Self::Clock,
            _ => Self::Character(s.strip_prefix("character:")?.parse().ok()?),
        })
    }

    /// The wire name.
    pub fn name(self) -> String {
        match self {
            Self::Feed => "feed".into(),
            Self::Graph => "graph".into(),
            Self::Metrics => "metrics".into(),
            Self::Arcs => "arcs".into(),
            Self::Presence => "presence".into(),
            Self::Chat => "chat".into(),
            Self::Clock => "clock".into(),
            Self::Character(id) => format!("character:{id}"),
        }
    }

    /// The topics every session offers (plus `character:<id>` for each character).
    pub const FIXED: [Topic; 7] =
        [Self::Feed, Self::Graph, Self::Metrics, Self::Arcs, Self::Presence, Self::Chat, Self::Clock];
}

/// A position in a session's delta stream: deltas after `seq` in stream `epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Stream identity; changes whenever continuity cannot be guaranteed (restart, reload, fork).
    pub epoch: u64,
    /// Last delta the client holds.
    pub seq: u64,
}

/// A message from a client.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Start receiving: the topics, and where to resume from (else a fresh snapshot).
    Subscribe {
        /// Topic names.
        topics: Vec<String>,
        /// Resume after this position if the server still holds what follows.
        #[serde(default)]
        resume: Option<Position>,
    },
    /// Replace the subscribed topics (the next frame is a snapshot for the new set).
    Topics {
        /// Topic names.
        topics: Vec<String>,
    },
    /// A director (or player) command; `id` is the idempotency key.
    Command {
        /// Client-chosen id, echoed in the `ack` or `error`; a repeated id is not applied twice.
        id: String,
        /// The engine command (`{"set_mood": {...}}`, `{"act": {...}}`, ...).
        command: Command,
    },
    /// Session control: pause, resume, step, rate.
    Control {
        /// Client-chosen id, echoed in the `ack`.
        id: String,
        /// What to do.
        op: ControlOp,
    },
    /// A chat line.
    Chat {
        /// The text (at most `CHAT_MAX` bytes).
        text: String,
    },
    /// What the user is looking at (shown to others in `presence`).
    Focus {
        /// `world`, a view name, or `character:<id>`.
        focus: String,
    },
    /// Heartbeat; answered by `pong` with the same `t`.
    Ping {
        /// Opaque client value.
        #[serde(default)]
        t: Option<u64>,
    },
}

/// How a session's clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rate {
    /// Real time: this many ticks per second (0.1 ..= 1000).
    Realtime {
        /// Ticks per second.
        ticks_per_second: f64,
    },
    /// As fast as the machine allows.
    Fast,
    /// Stopped; `step` advances one tick.
    Paused,
}

impl Rate {
    /// Checks the range of a real-time rate.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Self::Realtime { ticks_per_second: r } if !(0.1..=1000.0).contains(r) => {
                Err(format!("ticks_per_second must be in 0.1..=1000, got {r}"))
            }
            _ => Ok(()),
        }
    }
}

/// A session control operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlOp {
    /// Stop the clock.
    Pause,
    /// Restart the clock at the last running rate.
    Resume,
    /// Advance exactly one tick (pauses first).
    Step,
    /// Set the clock.
    SetRate {
        /// The new rate.
        rate: Rate,
    },
}

/// Most bytes of a chat line.
pub const CHAT_MAX: usize = 1000;

/// Writes one server frame as JSON text.
pub fn frame(
    kind: &str,
    topic: Option<&str>,
    seq: u64,
    tick: u64,
    extra: &[(&str, serde_json::Value)],
    payload: &serde_json::Value,
) -> String {
    let mut s = String::with_capacity(128);
    s.push_str(&format!("{{\"v\":{VERSION},\"type\":"));
    s.push_str(&serde_json::to_string(kind).unwrap_or_default());
    if let Some(t) = topic {
        s.push_str(",\"topic\":");
        s.push_str(&serde_json::to_string(t).unwrap_or_default());
    }
    s.push_str(&format!(",\"seq\":{seq},\"tick\":{tick}"));
    for (k, v) in extra {
        s.push_str(&format!(",\"{k}\":"));
        s.push_str(&v.to_string());
    }
    s.push_str(",\"payload\":");
    s.push_str(&payload.to_string());
    s.push('}');
    s
}

/// An `error` frame (non-fatal): a code, a reason, and the id of the message it answers.
pub fn error_frame(seq: u64, tick: u64, code: &str, message: &str, id: Option<&str>) -> String {
    frame("error", None, seq, tick, &[], &serde_json::json!({ "code": code, "message": message, "id": id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_junk_is_refused() {
        for t in Topic::FIXED.into_iter().chain([Topic::Character(7)]) {
            assert_eq!(Topic::parse(&t.name()), Some(t));
        }
        for bad in ["", "feeds", "character:", "character:x", "character:-1"] {
            assert_eq!(Topic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_messages_parse_and_unknown_fields_are_refused() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","topics":["feed"],"resume":{"epoch":3,"seq":9}}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Subscribe { topics: vec!["feed".into()], resume: Some(Position { epoch: 3, seq: 9 }) }
        );
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"control","id":"a","op":{"op":"set_rate","rate":{"mode":"fast"}}}"#)
                .unwrap();
        assert_eq!(m, ClientMessage::Control { id: "a".into(), op: ControlOp::SetRate { rate: Rate::Fast } });
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe","topics":[],"x":1}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"launch"}"#).is_err());
    }

    #[test]
    fn frames_are_json_with_the_common_fields() {
        let f = frame("delta", Some("feed"), 5, 9, &[("prev", 3.into())], &serde_json::json!([1]));
        let v: serde_json::Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["type"], "delta");
        assert_eq!(v["topic"], "feed");
        assert_eq!(v["seq"], 5);
        assert_eq!(v["prev"], 3);
        assert_eq!(v["payload"][0], 1);
    }
}
