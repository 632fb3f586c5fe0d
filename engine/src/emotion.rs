//! OCC emotions (Ortony, Clore & Collins 1988): kinds, their PAD points, intensities and decay.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::mood::Pad;

/// The OCC emotion kinds the engine appraises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EmotionKind {
    /// Pleased about a desirable event for oneself.
    Joy,
    /// Displeased about an undesirable event for oneself.
    Distress,
    /// Pleased about a prospect.
    Hope,
    /// Displeased about a prospect.
    Fear,
    /// Approving of one's own act.
    Pride,
    /// Disapproving of one's own act.
    Shame,
    /// Approving of another's act.
    Admiration,
    /// Disapproving of another's act.
    Reproach,
    /// Admiration plus joy: another's act benefited oneself.
    Gratitude,
    /// Reproach plus distress: another's act harmed oneself.
    Anger,
    /// Pride plus joy.
    Gratification,
    /// Shame plus distress.
    Remorse,
    /// Attraction to someone (love, at high intensity).
    Liking,
    /// Aversion to someone (hate, at high intensity).
    Disliking,
    /// Pleased about a liked one's good fortune.
    HappyFor,
    /// Displeased about a liked one's misfortune.
    Pity,
    /// Displeased about a disliked one's good fortune.
    Resentment,
    /// Pleased about a disliked one's misfortune.
    Gloating,
    /// A feared prospect did not happen.
    Relief,
    /// A hoped-for prospect did not happen.
    Disappointment,
}

/// Number of emotion kinds.
pub const N_EMOTIONS: usize = 20;

impl EmotionKind {
    /// Every kind, in index order.
    pub const ALL: [EmotionKind; N_EMOTIONS] = [
        Self::Joy,
        Self::Distress,
        Self::Hope,
        Self::Fear,
        Self::Pride,
        Self::Shame,
        Self::Admiration,
        Self::Reproach,
        Self::Gratitude,
        Self::Anger,
        Self::Gratification,
        Self::Remorse,
        Self::Liking,
        Self::Disliking,
        Self::HappyFor,
        Self::Pity,
        Self::Resentment,
        Self::Gloating,
        Self::Relief,
        Self::Disappointment,
    ];

    /// The emotion's point in PAD space, ALMA's table (Gebhard 2005).
    pub const fn pad(self) -> Pad {
        match self {
            Self::Joy => Pad::new(0.4, 0.2, 0.1),
            Self::Distress => Pad::new(-0.4, -0.2, -0.5),
            Self::Hope => Pad::new(0.2, 0.2, -0.1),
            Self::Fear => Pad::new(-0.64, 0.60, -0.43),
            Self::Pride => Pad::new(0.4, 0.3, 0.3),
            Self::Shame => Pad::new(-0.3, 0.1, -0.6),
            Self::Admiration => Pad::new(0.5, 0.3, -0.2),
            Self::Reproach => Pad::new(-0.3, -0.1, 0.4),
            Self::Gratitude => Pad::new(0.4, 0.2, -0.3),
            Self::Anger => Pad::new(-0.51, 0.59, 0.25),
            Self::Gratification => Pad::new(0.6, 0.5, 0.4),
            Self::Remorse => Pad::new(-0.3, 0.1, -0.6),
            Self::Liking => Pad::new(0.4, 0.16, -0.24),
            Self::Disliking => Pad::new(-0.4, 0.2, 0.1),
            Self::HappyFor => Pad::new(0.4, 0.2, 0.2),
            Self::Pity => Pad::new(-0.4, -0.2, -0.5),
            Self::Resentment => Pad::new(-0.2, -0.3, -0.2),
            Self::Gloating => Pad::new(0.3, -0.3, -0.1),
            Self::Relief => Pad::new(0.2, -0.3, 0.4),
            Self::Disappointment => Pad::new(-0.3, 0.1, -0.4),
        }
    }

    /// Whether the emotion is negatively valenced (its pleasure is below zero).
    pub const fn is_negative(self) -> bool {
        NEGATIVE[self as usize]
    }
}

/// Valence sign per kind, precomputed from the PAD table.
const NEGATIVE: [bool; N_EMOTIONS] = {
    let mut out = [false; N_EMOTIONS];
    let mut i = 0;
    while i < N_EMOTIONS {
        out[i] = EmotionKind::ALL[i].pad().p < 0.0;
        i += 1;
    }
    out
};

/// The PAD table split by axis, for branch-free loops.
const PAD_P: [f32; N_EMOTIONS] = pad_axis(0);
const PAD_A: [f32; N_EMOTIONS] = pad_axis(1);
const PAD_D: [f32; N_EMOTIONS] = pad_axis(2);

const fn pad_axis(axis: usize) -> [f32; N_EMOTIONS] {
    let mut out = [0.0; N_EMOTIONS];
    let mut i = 0;
    while i < N_EMOTIONS {
        let pad = EmotionKind::ALL[i].pad();
        out[i] = match axis {
            0 => pad.p,
            1 => pad.a,
            _ => pad.d,
        };
        i += 1;
    }
    out
}

/// Intensities below this are dropped to zero (MECHANICS.md).
pub const INTENSITY_FLOOR: f32 = 0.01;

/// Active emotions of a character: one intensity in [0, 1] per OCC kind.
///
/// Written by `resolve_interactions` (Resolve: appraisal adds intensity) and `update_moods` (Feel: decay).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Emotions {
    /// Intensity per [`EmotionKind`] index.
    pub intensity: [f32; N_EMOTIONS],
}

impl Emotions {
    /// Intensity of one kind.
    pub fn get(&self, kind: EmotionKind) -> f32 {
        self.intensity[kind as usize]
    }

    /// Raises an emotion: intensities combine as `1 - (1 - a)(1 - b)` so they saturate below 1.
    pub fn feel(&mut self, kind: EmotionKind, amount: f32) {
        let i = &mut self.intensity[kind as usize];
        let add = amount.clamp(0.0, 1.0);
        *i = 1.0 - (1.0 - *i) * (1.0 - add);
    }

    /// Exponential decay `I(t+1) = I(t) exp(-lambda)`; negative emotions of neurotic characters decay
    /// more slowly, `lambda_neg = lambda (1 - 0.5 max(N, 0))` (MECHANICS.md). Below 0.01 is dropped.
    pub fn decay(&mut self, neuroticism: f32, lambda: f32) {
        let keep_pos = (-lambda).exp();
        let keep_neg = (-lambda * (1.0 - 0.5 * neuroticism.max(0.0))).exp();
        for (v, &neg) in self.intensity.iter_mut().zip(&NEGATIVE) {
            let kept = *v * if neg { keep_neg } else { keep_pos };
            *v = if kept < INTENSITY_FLOOR { 0.0 } else { kept };
        }
    }

    /// Intensity-weighted centre of the active emotions in PAD space and their mean intensity
    /// over the active ones (ALMA's "emotion centre"); `(origin, 0)` when none is active.
    pub fn centre(&self) -> (Pad, f32) {
        let (mut p, mut a, mut d, mut sum, mut n) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for (i, &v) in self.intensity.iter().enumerate() {
            p += v * PAD_P[i];
            a += v * PAD_A[i];
            d += v * PAD_D[i];
            sum += v;
            n += if v > 0.0 { 1.0 } else { 0.0 };
        }
        if n == 0.0 {
            return (Pad::default(), 0.0);
        }
        (Pad::new(p / sum, a / sum, d / sum), sum / n)
    }

    /// The strongest active emotion, if any (ties go to the lower index).
    pub fn dominant(&self) -> Option<(EmotionKind, f32)> {
        let mut best: Option<(EmotionKind, f32)> = None;
        for (i, kind) in EmotionKind::ALL.iter().enumerate() {
            let v = self.intensity[i];
            if v > 0.0 && best.is_none_or(|(_, b)| v > b) {
                best = Some((*kind, v));
            }
        }
        best
    }

    /// Sum of negative-emotion intensities; used by autonomy and metrics.
    pub fn negative_load(&self) -> f32 {
        EmotionKind::ALL.iter().enumerate().filter(|(_, k)| k.is_negative()).map(|(i, _)| self.intensity[i]).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neurotic_characters_hold_negative_emotions_longer() {
        let (mut calm, mut anxious) = (Emotions::default(), Emotions::default());
        calm.feel(EmotionKind::Distress, 0.8);
        anxious.feel(EmotionKind::Distress, 0.8);
        for _ in 0..10 {
            calm.decay(-0.5, 0.1);
            anxious.decay(0.9, 0.1);
        }
        assert!(anxious.get(EmotionKind::Distress) > calm.get(EmotionKind::Distress));
    }

    #[test]
    fn emotions_fade_to_zero() {
        let mut e = Emotions::default();
        e.feel(EmotionKind::Joy, 1.0);
        for _ in 0..200 {
            e.decay(0.0, 0.1);
        }
        assert_eq!(e.centre().1, 0.0);
    }

    #[test]
    fn intensities_saturate_below_one() {
        let mut e = Emotions::default();
        for _ in 0..50 {
            e.feel(EmotionKind::Anger, 0.5);
        }
        assert!(e.get(EmotionKind::Anger) <= 1.0);
    }
}
