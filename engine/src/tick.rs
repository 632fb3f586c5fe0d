//! The tick: the stages of DESIGN.md as bevy system sets in one chained order.
//!
//! The schedule is built with ambiguity detection set to error, so two systems that touch the same
//! data without an order fail the build rather than the replay. Systems run on the calling thread in
//! that fixed order (bevy's single-threaded executor); the parallelism is inside them (rayon over
//! dense buffers, `par_iter_mut` over components), which keeps a simulation's thread count its own.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel, SingleThreadedExecutor};
use serde::Serialize;

use crate::{autonomy, contagion, drama, goals, interaction, metrics, mood, needs, social, story};

/// The label of the tick schedule.
#[derive(ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tick;

/// The stages of a tick, run in this order.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TickSystems {
    /// 1. Needs and energy.
    Needs,
    /// 2. Autonomy: every character chooses an action.
    Decide,
    /// 3. Interaction resolution.
    Resolve,
    /// 4. Appraisal and mood.
    Feel,
    /// 5. Emotion contagion.
    Spread,
    /// 6. Trust, reputation, groups, hierarchy (the social-model issue fills it).
    Socialize,
    /// 7. Plot detection.
    Sift,
    /// 8. Director: scripted events and user commands.
    Direct,
    /// 9. Metrics and the world hash.
    Measure,
}

impl TickSystems {
    /// Every stage in order.
    pub const ALL: [TickSystems; 9] = [
        Self::Needs,
        Self::Decide,
        Self::Resolve,
        Self::Feel,
        Self::Spread,
        Self::Socialize,
        Self::Sift,
        Self::Direct,
        Self::Measure,
    ];

    /// Lower-case name, as printed by `aion bench`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Needs => "needs",
            Self::Decide => "decide",
            Self::Resolve => "resolve",
            Self::Feel => "feel",
            Self::Spread => "spread",
            Self::Socialize => "socialize",
            Self::Sift => "sift",
            Self::Direct => "direct",
            Self::Measure => "measure",
        }
    }
}

/// A clock supplied by the caller (the engine never reads the wall clock itself): returns
/// nanoseconds from any fixed origin. Installed only by tools that time stages (`aion bench`).
pub type Probe = Box<dyn Fn() -> u64 + Send + Sync>;

/// Per-stage timing, filled only when a [`Probe`] is installed. Not part of the world state.
#[derive(Resource, Default)]
pub struct StageTimings {
    /// The caller's clock.
    pub probe: Option<Probe>,
    /// Nanoseconds spent in each stage, summed over ticks, by [`TickSystems::ALL`] index.
    pub total_ns: [u64; 9],
    /// Probe reading at the end of the previous stage.
    last: u64,
}

impl StageTimings {
    /// Clears the sums.
    pub fn reset(&mut self) {
        self.total_ns = [0; 9];
    }
}

fn start_timing(mut t: ResMut<StageTimings>) {
    if let Some(p) = &t.probe {
        t.last = p();
    }
}

fn end_stage<const S: usize>(mut t: ResMut<StageTimings>) {
    if let Some(p) = &t.probe {
        let now = p();
        t.total_ns[S] += now.saturating_sub(t.last);
        t.last = now;
    }
}

/// Label of the schedule that recomputes derived per-tick state (metrics, hash, publicity) of a
/// freshly built or loaded world, so it matches what the last tick left behind.
#[derive(ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Refresh;

/// Builds the refresh schedule: the Measure systems alone.
pub fn refresh_schedule() -> Schedule {
    let mut s = Schedule::new(Refresh);
    s.set_executor(SingleThreadedExecutor::new());
    s.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    s.add_systems((metrics::measure_world, metrics::count_events, social::publish).chain());
    s
}

/// Builds the tick schedule.
pub fn schedule() -> Schedule {
    use TickSystems::*;
    let mut s = Schedule::new(Tick);
    s.set_executor(SingleThreadedExecutor::new());
    s.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    s.configure_sets((Needs, Decide, Resolve, Feel, Spread, Socialize, Sift, Direct, Measure).chain());
    s.add_systems(start_timing.before(Needs));
    s.add_systems(needs::decay_needs.in_set(Needs));
    s.add_systems((goals::manage_goals, autonomy::choose_actions).chain().in_set(Decide));
    s.add_systems(crate::director::collect_forced.after(autonomy::choose_actions).in_set(Decide));
    s.add_systems((interaction::resolve_interactions, interaction::apply_effects).chain().in_set(Resolve));
    s.add_systems(mood::update_moods.in_set(Feel));
    s.add_systems(contagion::spread_moods.in_set(Spread));
    s.add_systems((social::tend_feuds, social::form_alliances, social::rank_status).chain().in_set(Socialize));
    s.add_systems(story::sift_stories.in_set(Sift));
    s.add_systems(drama::direct_drama.in_set(Direct));
    s.add_systems((metrics::measure_world, metrics::count_events, social::publish).chain().in_set(Measure));
    s.add_systems((
        end_stage::<0>.after(Needs).before(Decide),
        end_stage::<1>.after(Decide).before(Resolve),
        end_stage::<2>.after(Resolve).before(Feel),
        end_stage::<3>.after(Feel).before(Spread),
        end_stage::<4>.after(Spread).before(Socialize),
        end_stage::<5>.after(Socialize).before(Sift),
        end_stage::<6>.after(Sift).before(Direct),
        end_stage::<7>.after(Direct).before(Measure),
        end_stage::<8>.after(Measure),
    ));
    s
}
