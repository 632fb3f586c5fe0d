//! The drama manager: steers a world toward a target tension curve (rising action to a climax at a
//! given tick, then falling) by nudging how strongly characters weigh conflict against kindness.
//!
//! Measured tension is the share of hostile interactions (insult, threaten, betray) among all
//! interactions, smoothed over ticks. Each tick the manager compares it with the curve's target and
//! moves a multiplier on hostile actions (and its inverse on reconciling ones) a small step toward
//! closing the gap; autonomy reads it next tick. Every [`NUDGE_EVENT_EVERY`] ticks its influence is
//! logged as a `DramaNudged` event, so a reader can see the director's hand.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::{Action, N_ACTIONS};
use crate::events::{EventKind, EventLog};
use crate::interaction::ResolveScratch;
use crate::params::Params;
use crate::world::TickClock;

/// Smoothing of measured tension per tick.
pub const TENSION_SMOOTHING: f32 = 0.1;
/// Step of the multiplier per tick, per unit of tension gap.
pub const NUDGE_RATE: f32 = 0.2;
/// Bounds of the multiplier.
pub const NUDGE_MIN: f32 = 0.2;
/// Upper bound of the multiplier.
pub const NUDGE_MAX: f32 = 5.0;
/// Ticks between `DramaNudged` events.
pub const NUDGE_EVENT_EVERY: u64 = 50;

/// The drama manager's state.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drama {
    /// Smoothed share of hostile interactions, in [0, 1].
    pub tension: f32,
    /// Multiplier on hostile actions (its inverse applies to reconciling ones).
    pub nudge: f32,
}

impl Default for Drama {
    fn default() -> Self {
        Self { tension: 0.0, nudge: 1.0 }
    }
}

/// Target tension at `tick` for a curve that rises from `base` to `peak` at `climax` and falls back
/// over the same span (a tent); `climax = 0` means a flat target of `peak`.
pub fn target(tick: u64, base: f32, peak: f32, climax: u64) -> f32 {
    if climax == 0 {
        return peak;
    }
    let x = tick as f32 / climax as f32;
    let rise = if x <= 1.0 { x } else { (2.0 - x).max(0.0) };
    base + (peak - base) * rise
}

/// Action weights the nudge implies.
pub fn weights(nudge: f32) -> [f32; N_ACTIONS] {
    let mut w = [1.0f32; N_ACTIONS];
    for a in [Action::Insult, Action::Threaten, Action::Betray] {
        w[a as usize] = nudge;
    }
    for a in [Action::Apologize, Action::Mediate, Action::Comfort] {
        w[a as usize] = 1.0 / nudge;
    }
    w
}

/// Direct stage: measure tension, move the nudge toward the target curve, log the influence.
pub fn direct_drama(
    clock: Res<TickClock>,
    params: Res<Params>,
    resolve: Res<ResolveScratch>,
    mut drama: ResMut<Drama>,
    mut log: ResMut<EventLog>,
) {
    if params.drama_peak < 0.0 {
        return;
    }
    let total = resolve.n_interactions.max(1) as f32;
    let share = resolve.n_hostile as f32 / total;
    drama.tension += TENSION_SMOOTHING * (share - drama.tension);
    let goal = target(clock.tick, params.drama_base, params.drama_peak, params.drama_climax);
    let step = (NUDGE_RATE * (goal - drama.tension)).exp();
    drama.nudge = (drama.nudge * step).clamp(NUDGE_MIN, NUDGE_MAX);
    if clock.tick.is_multiple_of(NUDGE_EVENT_EVERY) {
        let ev = EventKind::DramaNudged { tension: drama.tension, target: goal, nudge: drama.nudge };
        log.push(clock.tick, ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_rises_to_the_climax_and_falls() {
        assert_eq!(target(0, 0.1, 0.5, 100), 0.1);
        assert!((target(100, 0.1, 0.5, 100) - 0.5).abs() < 1e-6);
        assert!(target(150, 0.1, 0.5, 100) < 0.5 && target(150, 0.1, 0.5, 100) > 0.1);
        assert_eq!(target(7, 0.0, 0.3, 0), 0.3);
    }
}
