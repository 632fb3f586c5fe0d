//! Learning: characters adjust their action preferences from how their actions turned out.
//!
//! A per-character multiplicative-weights bandit (the exponential-weights update of Hedge/Exp3,
//! Freund & Schapire 1997) over the actions a character initiates: after an action, its weight is
//! multiplied by `exp(rate x (reward - expectation))`, where the reward is how the action felt to
//! the initiator and the expectation is a running mean of its rewards. Weights stay within
//! [`WEIGHT_MIN`, `WEIGHT_MAX`] and drift back toward 1 so old lessons fade. Deterministic: no
//! randomness, updates applied to each character's own component.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};

/// Smallest learned weight: an action is never ruled out entirely.
pub const WEIGHT_MIN: f32 = 0.25;
/// Largest learned weight.
pub const WEIGHT_MAX: f32 = 4.0;
/// Share of the way back to 1 each weight drifts per tick (forgetting).
pub const FORGET_PER_TICK: f32 = 0.001;
/// How fast the expectation follows rewards.
pub const EXPECTATION_RATE: f32 = 0.05;

/// Learned action preferences of a character: a multiplier per action on its utility score.
///
/// Written in Resolve (`apply_effects`) from the character's own outcomes; read by autonomy.
#[derive(Component, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    /// Weight per [`Action`] index.
    pub weight: [f32; N_ACTIONS],
    /// Running mean of the rewards of initiated actions.
    pub expectation: f32,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { weight: [1.0; N_ACTIONS], expectation: 0.0 }
    }
}

impl Preferences {
    /// Learns from one initiated action that felt `reward` in [-1, 1].
    pub fn learn(&mut self, action: Action, reward: f32, rate: f32) {
        let w = &mut self.weight[action as usize];
        *w = (*w * (rate * (reward - self.expectation)).exp()).clamp(WEIGHT_MIN, WEIGHT_MAX);
        self.expectation += EXPECTATION_RATE * (reward - self.expectation);
    }

    /// One tick of forgetting: every weight drifts toward 1.
    pub fn forget(&mut self) {
        for w in &mut self.weight {
            *w += FORGET_PER_TICK * (1.0 - *w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewarded_actions_gain_weight_and_punished_ones_lose_it() {
        let mut p = Preferences::default();
        for _ in 0..20 {
            p.learn(Action::Chat, 0.8, 0.2);
            p.learn(Action::Insult, -0.8, 0.2);
        }
        assert!(p.weight[Action::Chat as usize] > 1.5);
        assert!(p.weight[Action::Insult as usize] < 0.7);
        assert!(p.weight.iter().all(|w| (WEIGHT_MIN..=WEIGHT_MAX).contains(w)));
    }

    #[test]
    fn lessons_fade_without_practice() {
        let mut p = Preferences::default();
        for _ in 0..20 {
            p.learn(Action::Help, 1.0, 0.3);
        }
        let learned = p.weight[Action::Help as usize];
        for _ in 0..5_000 {
            p.forget();
        }
        assert!((p.weight[Action::Help as usize] - 1.0).abs() < 0.05 * (learned - 1.0));
    }
}
