//! Per-tick aggregates and the world hash.
//!
//! Both are computed in the Measure stage. Float sums run over dense, slot-ordered buffers in a fixed
//! order (never in thread-completion order); the hash combines per-character and per-chunk digests
//! with wrapping addition, which is order-independent, so neither depends on thread count.

use std::sync::atomic::{AtomicU64, Ordering};

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::emotion::Emotions;
use crate::events::EventLog;
use crate::exec::{Parallelism, SlotWriter};
use crate::graph::SocialGraph;
use crate::ids::{CharacterId, Slot};
use crate::interaction::ResolveScratch;
use crate::mood::{Mood, MoodBaseline, Pad};
use crate::needs::{Needs, SocialEnergy};
use crate::personality::Personality;
use crate::rng::mix64;
use crate::world::TickClock;

/// Aggregates of the last tick (one row of `metrics.csv`).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TickMetrics {
    /// Tick these figures describe.
    pub tick: u64,
    /// Interactions resolved.
    pub interactions: u32,
    /// Mean pleasure.
    pub mean_pleasure: f64,
    /// Mean arousal.
    pub mean_arousal: f64,
    /// Mean dominance.
    pub mean_dominance: f64,
    /// Mean affinity over all directed relationships.
    pub mean_affinity: f64,
    /// Mean trust over all directed relationships.
    pub mean_trust: f64,
    /// Events logged during the tick.
    pub events: u64,
    /// World hash after the tick.
    pub world_hash: u64,
}

/// Scratch for Measure: moods by slot and the event counter at the start of the tick.
#[derive(Resource, Default, Debug)]
pub struct MeasureScratch {
    /// Moods by slot.
    pub moods: Vec<Pad>,
    /// `EventLog::next_seq` after the previous tick.
    pub seq_at_tick_start: u64,
}

/// Digest of one character's simulation state (every float by its bit pattern).
pub fn character_digest(
    id: CharacterId,
    pers: &Personality,
    mood: &Mood,
    base: &MoodBaseline,
    emo: &Emotions,
    needs: &Needs,
    energy: &SocialEnergy,
) -> u64 {
    let vals = pers
        .traits()
        .into_iter()
        .chain(mood.0.to_array())
        .chain(base.0.to_array())
        .chain(emo.intensity)
        .chain([needs.social, needs.rest, needs.status, needs.safety, energy.0]);
    // Four independent lanes keep the multiplies from waiting on each other.
    const K: [u64; 4] = [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9, 0xff51_afd7_ed55_8ccd];
    let mut lanes = [id.0 as u64, 1, 2, 3];
    for (i, v) in vals.enumerate() {
        let l = i % 4;
        lanes[l] = (lanes[l] ^ v.to_bits() as u64).wrapping_mul(K[l]).rotate_left(31);
    }
    mix64(lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32) ^ lanes[3].rotate_left(48))
}

type MeasureItem<'a> =
    (&'a Slot, &'a CharacterId, &'a Personality, &'a Mood, &'a MoodBaseline, &'a Emotions, &'a Needs, &'a SocialEnergy);

/// Measure stage, part 1: aggregates and the world hash.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn measure_world(
    clock: Res<TickClock>,
    par: Res<Parallelism>,
    graph: Res<SocialGraph>,
    log: Res<EventLog>,
    resolve: Res<ResolveScratch>,
    mut scratch: ResMut<MeasureScratch>,
    mut metrics: ResMut<TickMetrics>,
    q: Query<MeasureItem>,
) {
    let n = graph.n_characters();
    let parallel = par.parallel(n);
    scratch.moods.resize(n, Pad::default());
    let acc = AtomicU64::new(0);
    {
        let moods = SlotWriter::new(&mut scratch.moods);
        let f = |(slot, id, pers, mood, base, emo, needs, energy): MeasureItem| {
            // SAFETY: each character writes only its own, unique slot.
            unsafe { moods.write(slot.0 as usize, mood.0) };
            acc.fetch_add(character_digest(*id, pers, mood, base, emo, needs, energy), Ordering::Relaxed);
        };
        if parallel {
            q.par_iter().for_each(f);
        } else {
            q.iter().for_each(f);
        }
    }
    let (mut sp, mut sa, mut sd) = (0.0f64, 0.0f64, 0.0f64);
    for m in &scratch.moods {
        sp += m.p as f64;
        sa += m.a as f64;
        sd += m.d as f64;
    }
    let (mean_affinity, mean_trust) = graph.mean_affinity_trust();
    let nc = n.max(1) as f64;
    let hash = mix64(
        mix64(clock.tick ^ log.next_seq().rotate_left(32)) ^ acc.load(Ordering::Relaxed).wrapping_add(graph.digest()),
    );
    *metrics = TickMetrics {
        tick: clock.tick,
        interactions: resolve.n_interactions,
        mean_pleasure: sp / nc,
        mean_arousal: sa / nc,
        mean_dominance: sd / nc,
        mean_affinity,
        mean_trust,
        events: log.next_seq() - scratch.seq_at_tick_start,
        world_hash: hash,
    };
}

/// Measure stage, part 2: remember where this tick's events end.
pub fn count_events(log: Res<EventLog>, mut scratch: ResMut<MeasureScratch>) {
    scratch.seq_at_tick_start = log.next_seq();
}
