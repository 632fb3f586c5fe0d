//! Snapshots: the whole world as a versioned binary file.
//!
//! Layout (little endian): magic `AIONSNAP` (8 bytes), format version (u32), payload length (u64),
//! xxh3-64 of the payload (u64), then the payload: a [`WorldState`] in postcard encoding. A reader
//! refuses another format version, a truncated file and a checksum mismatch with a clear error
//! before it decodes anything. Loading a snapshot and continuing gives the same hashes and events as
//! the uninterrupted run (tested), because the state holds everything the tick reads and nothing
//! else: RNG streams are derived, scratch buffers are rebuilt, slots are a function of the graph.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::bonds::Bond;
use crate::command::{Control, Input};
use crate::drama::Drama;
use crate::emotion::Emotions;
use crate::events::Event;
use crate::events::Party;
use crate::goals::Goals;
use crate::gossip::Beliefs;
use crate::groups::Feud;
use crate::ids::{CharacterId, Name};
use crate::learning::Preferences;
use crate::memory::{Memory, Trauma};
use crate::mood::Pad;
use crate::needs::Needs;
use crate::params::Params;
use crate::personality::Personality;
use crate::social::Group;
use crate::story::StoriesState;
use crate::trust::EdgeHistory;
use crate::user::UserState;
use crate::world::WorldInfo;

/// File magic.
pub const MAGIC: &[u8; 8] = b"AIONSNAP";
/// Current snapshot format version; bump on any change to [`WorldState`]'s encoding.
/// 2: the director's state, goals and plans, the drama manager's injections and developments.
pub const FORMAT_VERSION: u32 = 2;
/// Header size in bytes.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 8;
/// Largest payload accepted (a bound on what a corrupt length field can make us allocate).
pub const PAYLOAD_MAX: u64 = 16 << 30;

/// Why a snapshot was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes do not start with the snapshot magic.
    #[error("not an Aion snapshot (bad magic)")]
    NotASnapshot,
    /// Written by another format version.
    #[error("snapshot format version {found} is not supported (this build reads version {expected})")]
    Version {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The file is shorter than its header says.
    #[error("snapshot is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The payload does not match its checksum.
    #[error("snapshot is corrupt: checksum mismatch")]
    Checksum,
    /// The payload could not be decoded.
    #[error("snapshot payload cannot be decoded: {0}")]
    Decode(String),
}

/// One character's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CharacterState {
    /// Stable id.
    pub id: CharacterId,
    /// Scenario id and display name.
    pub name: Name,
    /// Tags.
    pub tags: Vec<String>,
    /// Personality.
    pub personality: Personality,
    /// Mood.
    pub mood: Pad,
    /// Baseline mood.
    pub baseline: Pad,
    /// Active emotions.
    pub emotions: Emotions,
    /// Needs.
    pub needs: Needs,
    /// Social energy.
    pub energy: f32,
    /// Episodic memory.
    pub memory: Memory,
    /// Hearsay beliefs about others.
    pub beliefs: Beliefs,
    /// Trauma (baseline shift and triggers).
    pub trauma: Trauma,
    /// Status from the last ranking.
    pub status: f32,
    /// Learned action preferences.
    pub preferences: Preferences,
    /// Long-term goals.
    pub goals: Goals,
    /// Who controls its actions.
    pub control: Control,
}

impl CharacterState {
    /// A character as a world starts it (or a director spawns it): its mood is `mood` or, without
    /// one, the baseline its personality gives; everything else starts empty.
    pub fn fresh(
        id: CharacterId,
        name: Name,
        tags: Vec<String>,
        personality: Personality,
        mood: Option<crate::mood::Pad>,
    ) -> Self {
        let baseline = personality.baseline_mood();
        Self {
            id,
            name,
            tags,
            personality,
            mood: mood.unwrap_or(baseline),
            baseline,
            emotions: Emotions::default(),
            needs: Needs::default(),
            energy: crate::needs::SocialEnergy::default().0,
            memory: Memory::default(),
            beliefs: Beliefs::default(),
            trauma: Trauma::default(),
            status: 0.0,
            preferences: Preferences::default(),
            goals: Goals::default(),
            control: Control::default(),
        }
    }
}

/// One directed relationship's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationshipState {
    /// Source.
    pub source: CharacterId,
    /// Target.
    pub target: CharacterId,
    /// Bond.
    pub bond: Bond,
    /// Short history (betrayals, grudges, secrets, alliances).
    pub history: EdgeHistory,
}

/// Everything a world is, as plain data in stable-id order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldState {
    /// Engine version that wrote it (informational).
    pub engine_version: String,
    /// Identity and seed.
    pub info: WorldInfo,
    /// Model parameters.
    pub params: Params,
    /// Ticks completed.
    pub tick: u64,
    /// Characters by id.
    pub characters: Vec<CharacterState>,
    /// Relationships by (source, target).
    pub relationships: Vec<RelationshipState>,
    /// Events still in the in-memory log.
    pub events: Vec<Event>,
    /// `seq` of the next event.
    pub next_seq: u64,
    /// Users of the session.
    pub users: Vec<UserState>,
    /// Alliances.
    pub groups: Vec<Group>,
    /// Next fresh group id.
    pub next_group_id: u64,
    /// Live feuds.
    pub feuds: Vec<((Party, Party), Feud)>,
    /// The plot detector (partial matches and arcs), when patterns were loaded.
    pub stories: Option<StoriesState>,
    /// Inputs queued for ticks still to run.
    pub pending_inputs: Vec<Input>,
    /// The drama manager's state.
    pub drama: Drama,
    /// The director's program and state.
    pub director: crate::director::Director,
}

impl WorldState {
    /// A state at tick 0 with an empty log.
    pub fn new(
        info: WorldInfo,
        params: Params,
        characters: Vec<CharacterState>,
        relationships: Vec<RelationshipState>,
    ) -> Self {
        Self {
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            info,
            params,
            tick: 0,
            characters,
            relationships,
            events: Vec::new(),
            next_seq: 0,
            users: Vec::new(),
            groups: Vec::new(),
            next_group_id: 0,
            feuds: Vec::new(),
            stories: None,
            pending_inputs: Vec::new(),
            drama: Drama::default(),
            director: crate::director::Director::default(),
        }
    }
}

/// Encodes a state as snapshot bytes.
pub fn encode(state: &WorldState) -> Vec<u8> {
    let payload = postcard::to_stdvec(state).expect("world state is plain data and always encodes");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes snapshot bytes, checking magic, version, length and checksum first.
pub fn decode(bytes: &[u8]) -> Result<WorldState, SnapshotError> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    if bytes.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 });
    }
    let word = |at: usize, n: usize| -> u64 {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&bytes[at..at + n]);
        u64::from_le_bytes(b)
    };
    let version = word(8, 4) as u32;
    if version != FORMAT_VERSION {
        return Err(SnapshotError::Version { found: version, expected: FORMAT_VERSION });
    }
    let len = word(12, 8);
    let expected = (HEADER_LEN as u64).saturating_add(len);
    if len > PAYLOAD_MAX || (bytes.len() as u64) < expected {
        return Err(SnapshotError::Truncated { expected, found: bytes.len() as u64 });
    }
    let payload = &bytes[HEADER_LEN..expected as usize];
    if xxh3_64(payload) != word(20, 8) {
        return Err(SnapshotError::Checksum);
    }
    postcard::from_bytes(payload).map_err(|e| SnapshotError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Genre;

    fn state() -> WorldState {
        let info = WorldInfo { name: "t".into(), seed: 3, genre: Genre::Drama };
        WorldState::new(info, Params::default(), Vec::new(), Vec::new())
    }

    #[test]
    fn round_trips() {
        let s = state();
        assert_eq!(decode(&encode(&s)).unwrap(), s);
    }

    #[test]
    fn refuses_truncation_other_versions_and_corruption() {
        let bytes = encode(&state());
        for cut in [0, 5, HEADER_LEN - 1, bytes.len() - 1] {
            let err = decode(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, SnapshotError::Truncated { .. } | SnapshotError::NotASnapshot), "{cut}: {err}");
        }
        let mut other = bytes.clone();
        other[8] = 99;
        assert_eq!(decode(&other).unwrap_err(), SnapshotError::Version { found: 99, expected: FORMAT_VERSION });
        let mut old = bytes.clone();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        let err = decode(&old).unwrap_err().to_string();
        assert_eq!(err, "snapshot format version 1 is not supported (this build reads version 2)");
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(decode(&flipped).unwrap_err(), SnapshotError::Checksum);
    }
}
