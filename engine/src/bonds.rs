//! Directed relationships (source -> target) and their bond dimensions.
//!
//! A relationship is an entity with [`Relationship`] and [`Bond`]. Bond updates follow Talk of the Town
//! (Ryan et al. 2015): each encounter moves "charge" (affinity) and "spark" (attraction) by amounts set
//! by the outcome and personality compatibility, with diminishing returns near the ends; trust moves
//! asymmetrically (Slovic 1993).

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::CharacterId;

/// The endpoints of a directed relationship: how `source` feels about `target`.
///
/// Written at spawn; never changes (a relationship that ends is despawned).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relationship {
    /// Who holds the feelings.
    pub source: CharacterId,
    /// Whom they are about.
    pub target: CharacterId,
}

/// Bond dimensions of a directed relationship.
///
/// Source of truth for bond values. Written in Resolve by `resolve_interactions`, which also patches
/// the hot copy in [`crate::graph::SocialGraph`] in the same step (write-through).
#[derive(Component, Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bond {
    /// Liking, in [-1, 1].
    pub affinity: f32,
    /// Expectation of good will, in [-1, 1].
    pub trust: f32,
    /// Esteem for competence and standing, in [-1, 1].
    pub respect: f32,
    /// Romantic attraction, in [-1, 1].
    pub attraction: f32,
    /// How well source knows target, in [0, 1].
    pub familiarity: f32,
}

impl Default for Bond {
    fn default() -> Self {
        Self { affinity: 0.0, trust: 0.0, respect: 0.0, attraction: 0.0, familiarity: 0.1 }
    }
}

/// Threshold above which a bond counts as friendship (MECHANICS.md).
pub const FRIEND_AFFINITY: f32 = 0.5;
/// Threshold below which a bond counts as enmity.
pub const ENEMY_AFFINITY: f32 = -0.5;
/// Attraction above which (with affinity above [`FRIEND_AFFINITY`]) a bond counts as love.
pub const LOVER_ATTRACTION: f32 = 0.6;

/// Named standing of a bond, used to detect threshold crossings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Neither friend nor enemy.
    #[default]
    Neutral,
    /// Affinity above the friend threshold.
    Friend,
    /// Friend and attraction above the lover threshold.
    Lover,
    /// Affinity below the enemy threshold.
    Enemy,
}

impl Bond {
    /// This bond's standing.
    pub fn standing(&self) -> Standing {
        if self.affinity > FRIEND_AFFINITY && self.attraction > LOVER_ATTRACTION {
            Standing::Lover
        } else if self.affinity > FRIEND_AFFINITY {
            Standing::Friend
        } else if self.affinity < ENEMY_AFFINITY {
            Standing::Enemy
        } else {
            Standing::Neutral
        }
    }

    /// Contagion channel strength alpha in [0, 1] (ASCRIBE): closer, better-known bonds carry more.
    pub fn channel_strength(&self) -> f32 {
        (0.15 + 0.45 * self.affinity.max(0.0) + 0.1 * self.affinity.min(0.0).abs() + 0.3 * self.familiarity)
            .clamp(0.0, 1.0)
    }

    /// Every dimension with its range check, as `(name, value, ok)`.
    pub fn fields(&self) -> [(&'static str, f32, bool); 5] {
        let s = |v: f32| (-1.0..=1.0).contains(&v);
        [
            ("affinity", self.affinity, s(self.affinity)),
            ("trust", self.trust, s(self.trust)),
            ("respect", self.respect, s(self.respect)),
            ("attraction", self.attraction, s(self.attraction)),
            ("familiarity", self.familiarity, (0.0..=1.0).contains(&self.familiarity)),
        ]
    }
}

/// Moves a [-1, 1] value by `delta` with diminishing returns near the end it moves toward:
/// `x += delta * (1 - x)` for gains and `x += delta * (1 + x)` for losses.
pub fn nudge(x: f32, delta: f32) -> f32 {
    let room = if delta >= 0.0 { 1.0 - x } else { 1.0 + x };
    (x + delta * room).clamp(-1.0, 1.0)
}

/// Asymmetric trust update (Slovic 1993): a positive act of strength `v` in [0, 1] adds
/// `a_pos (1 - trust) v`; a negative act removes `a_neg (1 + trust) v`.
pub fn update_trust(trust: f32, valence: f32, a_pos: f32, a_neg: f32) -> f32 {
    let t = if valence >= 0.0 {
        trust + a_pos * (1.0 - trust) * valence
    } else {
        trust - a_neg * (1.0 + trust) * (-valence)
    };
    t.clamp(-1.0, 1.0)
}

/// Familiarity after one more encounter: `fam += f (1 - fam)`.
pub fn familiarize(fam: f32, f: f32) -> f32 {
    (fam + f * (1.0 - fam)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_trust_is_faster_than_gaining_it() {
        let up = update_trust(0.2, 0.5, 0.04, 0.12) - 0.2;
        let down = 0.2 - update_trust(0.2, -0.5, 0.04, 0.12);
        assert!(down > up);
    }

    #[test]
    fn gains_diminish_near_the_top() {
        assert!(nudge(0.9, 0.1) - 0.9 < nudge(0.0, 0.1));
        assert!(nudge(0.99, 1.0) <= 1.0);
    }

    #[test]
    fn standings_follow_the_thresholds() {
        let mut b = Bond { affinity: 0.6, ..Default::default() };
        assert_eq!(b.standing(), Standing::Friend);
        b.attraction = 0.7;
        assert_eq!(b.standing(), Standing::Lover);
        b.affinity = -0.6;
        assert_eq!(b.standing(), Standing::Enemy);
    }
}
