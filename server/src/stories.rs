//! `aion stories DIR`: list and filter the story arcs of a finished run (its `stories.json`).

use std::path::PathBuf;

use aion_engine::events::Party;
use aion_engine::ids::Name;
use aion_engine::story::{ArcStatus, StoryArc};
use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

/// Arguments of `aion stories`.
#[derive(Args, Debug)]
pub struct StoriesArgs {
    /// A run's output directory (holding `stories.json`).
    pub dir: PathBuf,
    /// Only arcs of this kind (romance, betrayal, feud, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only arcs with this status (open, climaxed, resolved, abandoned).
    #[arg(long)]
    pub status: Option<String>,
    /// Only arcs with this character (scenario id).
    #[arg(long)]
    pub character: Option<String>,
    /// Print the beats of each arc too.
    #[arg(long)]
    pub beats: bool,
    /// Print the selected arcs as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Deserialize)]
struct Doc {
    world: String,
    tick: u64,
    seeds: Vec<u64>,
    names: Vec<Name>,
    arcs: Vec<StoryArc>,
}

/// Runs `aion stories`; returns how many arcs matched.
pub fn stories(args: &StoriesArgs) -> Result<usize> {
    let path = args.dir.join("stories.json");
    let bytes = std::fs::read(&path)
        .with_context(|| format!("cannot read {} (was the run sifting stories?)", path.display()))?;
    let doc: Doc =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not a stories file", path.display()))?;
    let who = match &args.character {
        Some(key) => Some(
            doc.names
                .iter()
                .position(|n| &n.key == key)
                .with_context(|| format!("no character `{key}` in {}", doc.world))? as u32,
        ),
        None => None,
    };
    let status = |s: ArcStatus| format!("{s:?}").to_lowercase();
    let mut selected: Vec<&StoryArc> = doc
        .arcs
        .iter()
        .filter(|a| args.kind.as_ref().is_none_or(|k| &a.kind == k))
        .filter(|a| args.status.as_ref().is_none_or(|s| &status(a.status) == s))
        .filter(|a| who.is_none_or(|w| a.characters().iter().any(|c| c.0 == w)))
        .collect();
    selected.sort_by_key(|a| (a.opened, a.id));
    if args.json {
        say!("{}", serde_json::to_string_pretty(&selected).context("cannot encode arcs")?);
        return Ok(selected.len());
    }
    let name = |p: &Party| match p {
        Party::Character(c) => doc.names.get(c.0 as usize).map_or_else(|| format!("#{}", c.0), |n| n.display.clone()),
        Party::Group(g) => format!("alliance #{g}"),
    };
    say!("{}: {} of {} arcs at tick {}", doc.world, selected.len(), doc.arcs.len(), doc.tick);
    for a in &selected {
        let roles: Vec<String> = a.roles.iter().map(|(r, p)| format!("{r}={}", name(p))).collect();
        let seed = if doc.seeds.contains(&a.id) { " [seed]" } else { "" };
        say!(
            "{:>20}  {:<14} {:<9} ticks {:>5}-{:<5} stage {}/{} {:<14} interest {:.2} coherence {:.2}  {}{seed}",
            a.id,
            a.kind,
            status(a.status),
            a.opened,
            a.updated,
            a.stage + 1,
            a.stages_total,
            a.stage_name,
            a.interest,
            a.coherence,
            roles.join(", ")
        );
        if args.beats {
            for b in &a.beats {
                say!("{:>24} tick {:>5} {}: {}", "", b.tick, b.stage_name, b.text);
            }
        }
    }
    Ok(selected.len())
}
