//! PAD mood, its personality baseline, and ALMA's pull/push dynamics.
//!
//! Mood is a point (pleasure, arousal, dominance) in [-1, 1]^3 (Mehrabian 1996). Each tick it is pulled
//! toward the centre of the character's active emotions, pushed further out when it already lies beyond
//! that centre, and relaxes toward the personality baseline (ALMA, Gebhard 2005).

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use std::sync::Mutex;

use crate::emotion::Emotions;
use crate::events::{EventKind, EventLog};
use crate::exec::Parallelism;
use crate::gossip::{self, Beliefs};
use crate::ids::{CharacterId, Slot};
use crate::interaction::ResolveScratch;
use crate::memory::{self, Trauma};
use crate::params::Params;
use crate::personality::Personality;
use crate::social::{STATUS_DOMINANCE, Status};
use crate::world::TickClock;

/// A point in PAD space; every axis in [-1, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// Pleasure (valence).
    pub p: f32,
    /// Arousal (activation).
    pub a: f32,
    /// Dominance (control).
    pub d: f32,
}

impl Pad {
    /// A PAD point (not clamped).
    pub const fn new(p: f32, a: f32, d: f32) -> Self {
        Self { p, a, d }
    }

    /// This point with every axis clamped to [-1, 1].
    pub fn clamped(self) -> Self {
        Self::new(self.p.clamp(-1.0, 1.0), self.a.clamp(-1.0, 1.0), self.d.clamp(-1.0, 1.0))
    }

    /// Euclidean length.
    pub fn norm(self) -> f32 {
        (self.p * self.p + self.a * self.a + self.d * self.d).sqrt()
    }

    /// Dot product.
    pub fn dot(self, o: Self) -> f32 {
        self.p * o.p + self.a * o.a + self.d * o.d
    }

    /// `self + k * o`.
    pub fn add_scaled(self, o: Self, k: f32) -> Self {
        Self::new(self.p + k * o.p, self.a + k * o.a, self.d + k * o.d)
    }

    /// `self - o`.
    pub fn minus(self, o: Self) -> Self {
        self.add_scaled(o, -1.0)
    }

    /// Axes as an array.
    pub fn to_array(self) -> [f32; 3] {
        [self.p, self.a, self.d]
    }
}

/// Current mood of a character.
///
/// Written by `update_moods` (Feel) and `spread_moods` (Spread); read by autonomy and resolution.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mood(pub Pad);

/// The mood a character returns to without stimuli, derived from personality at spawn.
///
/// Kept as its own component (not recomputed) because trauma and healing shift it over time.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MoodBaseline(pub Pad);

/// One tick of ALMA mood dynamics: pull toward / push beyond the emotion centre, then relax toward the
/// baseline. `centre` is the intensity-weighted mean PAD point of active emotions and `weight` their
/// mean intensity (0 when none are active).
///
/// Pull: `mood += k_e * w * (c - mood)`; push (mood already beyond c in c's direction):
/// `mood += k_e * w * c_unit * (1 - |mood|)`; baseline: `mood += k_b * (baseline - mood)`.
pub fn step_mood(mood: Pad, baseline: Pad, centre: Pad, weight: f32, k_e: f32, k_b: f32) -> Pad {
    let mut m = mood;
    if weight > 0.0 {
        let c_norm = centre.norm();
        let beyond = c_norm > 1e-6 && m.dot(centre) / c_norm >= c_norm;
        if beyond {
            let unit = Pad::new(centre.p / c_norm, centre.a / c_norm, centre.d / c_norm);
            m = m.add_scaled(unit, k_e * weight * (1.0 - m.norm().min(1.0)));
        } else {
            m = m.add_scaled(centre.minus(m), k_e * weight);
        }
    }
    m.add_scaled(baseline.minus(m), k_b).clamped()
}

/// Query data of [`update_moods`].
type FeelData = (
    &'static CharacterId,
    &'static Slot,
    &'static Personality,
    &'static Status,
    &'static mut Mood,
    &'static mut MoodBaseline,
    &'static mut Emotions,
    &'static mut Trauma,
    &'static mut Beliefs,
);

/// One item of [`FeelData`].
type FeelItem<'a> = (
    &'a CharacterId,
    &'a Slot,
    &'a Personality,
    &'a Status,
    Mut<'a, Mood>,
    Mut<'a, MoodBaseline>,
    Mut<'a, Emotions>,
    Mut<'a, Trauma>,
    Mut<'a, Beliefs>,
);

/// Feel stage: emotions decay; traumas heal (faster with this tick's support); the baseline is the
/// personality's, shifted by trauma and raised in dominance by status; mood follows the emotions and
/// relaxes toward that baseline; hearsay fades.
pub fn update_moods(
    clock: Res<TickClock>,
    params: Res<Params>,
    par: Res<Parallelism>,
    resolve: Res<ResolveScratch>,
    mut log: ResMut<EventLog>,
    mut q: Query<FeelData>,
) {
    let p = &*params;
    let healed: Mutex<Vec<(u32, CharacterId)>> = Mutex::new(Vec::new());
    let f = |(id, slot, pers, status, mut mood, mut base, mut emo, mut trauma, mut beliefs): FeelItem| {
        emo.decay(pers.neuroticism, p.emotion_decay_per_tick);
        if trauma.is_active() {
            let support = resolve.effects.get(slot.0 as usize).map_or(0.0, |e| e.support);
            if memory::heal(&mut trauma, support, pers.neuroticism, memory::HEAL_BASE_RATE).is_some() {
                healed.lock().expect("no panics while holding the lock").push((slot.0, *id));
            }
        }
        let mut b = memory::effective_baseline(pers.baseline_mood(), &trauma);
        b.d = (b.d + STATUS_DOMINANCE * status.0).clamp(-1.0, 1.0);
        if base.0 != b {
            base.0 = b;
        }
        let (centre, weight) = emo.centre();
        mood.0 = step_mood(mood.0, base.0, centre, weight, p.mood_emotion_pull, p.mood_baseline_pull);
        if !beliefs.is_empty() {
            beliefs.fade(gossip::BELIEF_RECENCY_DECAY);
        }
    };
    if par.parallel(q.iter().len()) {
        crate::exec::par_each(q.iter_mut(), f);
    } else {
        q.iter_mut().for_each(f);
    }
    let mut healed = healed.into_inner().expect("no panics while holding the lock");
    healed.sort_unstable();
    for (_, character) in healed {
        log.push(clock.tick, EventKind::TraumaHealed { character });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mood_returns_to_baseline_without_stimuli() {
        let base = Pad::new(0.3, -0.1, 0.2);
        let mut m = Pad::new(-0.9, 0.9, -0.9);
        for _ in 0..1000 {
            m = step_mood(m, base, Pad::default(), 0.0, 0.1, 0.02);
        }
        assert!(m.minus(base).norm() < 1e-3, "{m:?}");
    }

    #[test]
    fn active_emotions_pull_mood_toward_their_centre() {
        let anger = Pad::new(-0.51, 0.59, 0.25);
        let m = step_mood(Pad::default(), Pad::default(), anger, 0.8, 0.1, 0.02);
        assert!(m.p < 0.0 && m.a > 0.0 && m.d > 0.0);
    }

    #[test]
    fn mood_beyond_the_centre_is_pushed_further_out() {
        let c = Pad::new(0.2, 0.0, 0.0);
        let m0 = Pad::new(0.5, 0.0, 0.0);
        let m1 = step_mood(m0, m0, c, 1.0, 0.1, 0.0);
        assert!(m1.p > m0.p);
    }
}
