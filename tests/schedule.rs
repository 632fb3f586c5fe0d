//! The tick schedule: stages in one chained order, no ambiguous systems.

mod common;

use aion_engine::bonds::Bond;
use aion_engine::tick::{self, Tick, TickSystems};
use bevy_ecs::prelude::*;

fn world_with_resources() -> World {
    // A real world's resources: build a small simulation and take its World.
    let mut sim = common::crowd(50, 4, 1, 1);
    std::mem::take(sim.world_mut())
}

#[test]
fn the_tick_has_no_ambiguities() {
    let mut world = world_with_resources();
    let mut schedule = tick::schedule();
    schedule.initialize(&mut world).expect("builds with ambiguity detection set to error");
    assert!(schedule.graph().conflicting_systems().is_empty(), "{:?}", schedule.graph().conflicting_systems());
}

#[test]
fn ambiguity_detection_is_on() {
    // Negative control: two unordered systems writing the same component must fail the build.
    fn write_a(mut q: Query<&mut Bond>) {
        q.iter_mut().for_each(|mut b| b.trust = 0.0);
    }
    fn write_b(mut q: Query<&mut Bond>) {
        q.iter_mut().for_each(|mut b| b.trust = 1.0);
    }
    let mut world = world_with_resources();
    let mut schedule = tick::schedule();
    schedule.add_systems((write_a, write_b).in_set(TickSystems::Socialize));
    assert!(schedule.initialize(&mut world).is_err());
    let _ = Tick;
}
