//! Named, documented model parameters (MECHANICS.md's starting values), overridable per scenario in
//! its `[params]` table. They are part of the world state: snapshots carry them and the hash covers them.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

/// Model parameters of one world. Every field has a default and a stated range (checked by
/// [`Params::problems`]); rates are per tick.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Emotion decay rate lambda in `I(t+1) = I(t) exp(-lambda)`, in [0, 1].
    pub emotion_decay_per_tick: f32,
    /// ALMA pull of mood toward the emotion centre, k_e in [0, 1].
    pub mood_emotion_pull: f32,
    /// Relaxation of mood toward the personality baseline, k_b in [0, 1].
    pub mood_baseline_pull: f32,
    /// Contagion rate: scales ASCRIBE's gamma_R so one tick moves a mood at most this share, in [0, 1].
    pub contagion_rate: f32,
    /// Contagion threshold: a receiver ignores a group emotion closer than this to its own, in [0, 1]
    /// (Durupinar et al. 2016's dose threshold, simplified), scaled down by susceptibility.
    pub contagion_threshold: f32,
    /// ASCRIBE eta: tendency to amplify (1) versus adopt (0) the group emotion, in [0, 1].
    pub contagion_amplify: f32,
    /// Familiarity growth per interaction, f in `fam += f (1 - fam)`, in [0, 1].
    pub familiarity_gain: f32,
    /// Affinity change per unit of outcome valence, in [0, 1].
    pub affinity_gain: f32,
    /// Trust gain per unit of positive act, a_pos, in [0, 1].
    pub trust_gain: f32,
    /// Trust loss per unit of negative act, a_neg (about 3 a_pos, Slovic 1993), in [0, 1].
    pub trust_loss: f32,
    /// Social-need decay per tick, in [0, 1].
    pub social_need_decay: f32,
    /// Energy a social interaction costs an average extravert-neutral character, in [0, 1].
    pub interaction_energy_cost: f32,
    /// Energy a tick of rest restores, in [0, 1].
    pub rest_energy_gain: f32,
    /// Interactions a character may take part in per tick (initiated + received), 1..=8.
    pub capacity_per_tick: u8,
    /// Among how many best-scoring actions a character picks at random, 1..=7.
    pub autonomy_top_k: u8,
    /// Learning rate of action preferences (0 turns learning off), in [0, 1].
    pub learning_rate: f32,
    /// Whether characters adopt and pursue long-term goals.
    pub goals: bool,
    /// Whether characters make multi-step plans toward their goals (needs `goals`).
    pub plans: bool,
    /// Drama manager: peak target tension (share of hostile interactions), or negative for off.
    pub drama_peak: f32,
    /// Drama manager: target tension at tick 0 (the curve rises from it to the peak).
    pub drama_base: f32,
    /// Drama manager: tick of the climax (0: a flat target at `drama_peak`).
    pub drama_climax: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            emotion_decay_per_tick: 0.1,
            mood_emotion_pull: 0.1,
            mood_baseline_pull: 0.02,
            contagion_rate: 0.05,
            contagion_threshold: 0.02,
            contagion_amplify: 0.3,
            familiarity_gain: 0.05,
            affinity_gain: 0.08,
            trust_gain: 0.04,
            trust_loss: 0.12,
            social_need_decay: 0.02,
            interaction_energy_cost: 0.04,
            rest_energy_gain: 0.15,
            capacity_per_tick: 2,
            autonomy_top_k: 3,
            learning_rate: 0.1,
            goals: true,
            plans: true,
            drama_peak: -1.0,
            drama_base: 0.0,
            drama_climax: 0,
        }
    }
}

impl Params {
    /// Every out-of-range parameter as `(name, message)`; empty when all are valid.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let unit = [
            ("emotion_decay_per_tick", self.emotion_decay_per_tick),
            ("mood_emotion_pull", self.mood_emotion_pull),
            ("mood_baseline_pull", self.mood_baseline_pull),
            ("contagion_rate", self.contagion_rate),
            ("contagion_threshold", self.contagion_threshold),
            ("contagion_amplify", self.contagion_amplify),
            ("familiarity_gain", self.familiarity_gain),
            ("affinity_gain", self.affinity_gain),
            ("trust_gain", self.trust_gain),
            ("trust_loss", self.trust_loss),
            ("social_need_decay", self.social_need_decay),
            ("interaction_energy_cost", self.interaction_energy_cost),
            ("rest_energy_gain", self.rest_energy_gain),
            ("learning_rate", self.learning_rate),
            ("drama_base", self.drama_base),
        ];
        let mut out: Vec<(&'static str, String)> = unit
            .iter()
            .filter(|(_, v)| !(0.0..=1.0).contains(v))
            .map(|(k, v)| (*k, format!("{v} is outside [0, 1]")))
            .collect();
        if !(1..=8).contains(&self.capacity_per_tick) {
            out.push(("capacity_per_tick", format!("{} is outside 1..=8", self.capacity_per_tick)));
        }
        if self.drama_peak > 1.0 {
            out.push(("drama_peak", format!("{} is above 1 (negative turns the drama manager off)", self.drama_peak)));
        }
        if !(1..=7).contains(&self.autonomy_top_k) {
            out.push(("autonomy_top_k", format!("{} is outside 1..=7", self.autonomy_top_k)));
        }
        out
    }
}
