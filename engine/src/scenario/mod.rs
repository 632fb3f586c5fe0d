//! Scenarios: TOML files (`format = "aion.scenario/1"`) that declare a world, its characters and
//! relationships, and optionally a generated population. `load` turns text into a validated
//! [`Scenario`]; systems never see half-valid data. See `scenarios/README.md` for the format.

mod parse;
mod population;

use serde::{Deserialize, Serialize};

use crate::bonds::Bond;
use crate::mood::Pad;
use crate::params::Params;
use crate::personality::Personality;

pub use parse::{ScriptReader, load, parse, parse_with, with_param};
pub use population::{expand_population, generate};

/// The format tag a scenario must declare.
pub const FORMAT: &str = "aion.scenario/1";
/// Most characters a scenario may declare by hand (a bound on file size and validation work).
pub const CHARACTERS_MAX: usize = 10_000;
/// Largest generated population (`[population] count`); larger worlds are built in code (`aion bench`).
pub const POPULATION_MAX: u32 = 2_000_000;
/// Largest mean degree of a generated population.
pub const DEGREE_MAX: u32 = 200;

/// Story genre of a world: weights action choice and dialogue (deepened by the plot issue).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Genre {
    /// Interpersonal conflict and reconciliation.
    #[default]
    Drama,
    /// Attraction, courtship, heartbreak.
    Romance,
    /// Secrets, suspicion, revelation.
    Mystery,
    /// Shared goals, danger, loyalty.
    Adventure,
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// File the scenario came from (for messages), or a label for in-memory text.
    pub source: String,
    /// `[world]`.
    pub world: WorldSpec,
    /// `[[character]]`, in declaration order (their stable ids follow this order).
    pub characters: Vec<CharacterSpec>,
    /// `[[relationship]]`, in declaration order.
    pub relationships: Vec<RelationshipSpec>,
    /// `[population]`, a generated crowd added after the hand-written characters.
    pub population: Option<PopulationSpec>,
    /// `[params]`: model parameter overrides (defaults for the rest).
    pub params: Params,
    /// `[experiment]`: a parameter sweep for `aion sweep`.
    pub experiment: Option<ExperimentSpec>,
    /// `[[event]]`, `[[trigger]]` and `[director]`: what the director does.
    pub director: crate::director::Program,
}

/// `[experiment]`: runs of the scenario over a grid of parameter values, repeated with derived seeds
/// (NetLogo BehaviorSpace style); `aion sweep` writes one CSV row per run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSpec {
    /// Runs per parameter combination, each with its own seed.
    pub repetitions: u32,
    /// Ticks per run.
    pub ticks: u64,
    /// Parameters to vary: name (a `[params]` key) and its values, in declaration order.
    pub vary: Vec<(String, Vec<f64>)>,
    /// Metrics to record at the end of each run (`TickMetrics` fields).
    pub metrics: Vec<String>,
    /// Stop a run at the first tick this condition holds (the director's condition language).
    pub stop_when: Option<String>,
}

/// Metrics an experiment may record.
pub const EXPERIMENT_METRICS: &[&str] =
    &["interactions", "mean_pleasure", "mean_arousal", "mean_dominance", "mean_affinity", "mean_trust", "events"];
/// Most runs one experiment may ask for.
pub const EXPERIMENT_RUNS_MAX: usize = 10_000;

/// `[world]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldSpec {
    /// World name.
    pub name: String,
    /// Base seed of every random stream (overridable with `aion run --seed`).
    pub seed: u64,
    /// Story genre.
    pub genre: Genre,
    /// Optional free text shown by tools.
    pub description: String,
}

/// One `[[character]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CharacterSpec {
    /// Unique string id, `[a-z0-9_-]`, at most 64 bytes.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: String,
    /// Big Five traits in [-1, 1].
    pub personality: Personality,
    /// Starting mood; the personality baseline when absent.
    pub mood: Option<Pad>,
    /// Free tags (`"noble"`, `"detective"`), used by scripts and patterns.
    pub tags: Vec<String>,
}

/// One `[[relationship]]`: a directed bond `from -> to` (add `mutual = true` for both directions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationshipSpec {
    /// Source character id.
    pub from: String,
    /// Target character id.
    pub to: String,
    /// Starting bond (defaults for dimensions not given).
    pub bond: Bond,
}

/// `[population]`: a generated crowd on a Watts-Strogatz small-world graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationSpec {
    /// How many characters to generate.
    pub count: u32,
    /// Mean number of relationships per character (even; each tie is mutual).
    pub degree: u32,
    /// Watts-Strogatz rewiring probability in [0, 1].
    pub rewire: f32,
    /// Standard deviation of generated traits around 0 (clamped to [-1, 1]), in [0, 1].
    pub spread: f32,
    /// Prefix of generated ids (`"p"` gives `p0`, `p1`, ...).
    pub id_prefix: String,
    /// Each hand-written character is linked (both ways) to this many generated ones.
    pub connect_named: u32,
}

/// Everything a world is built from once the population is expanded: characters in stable-id order
/// and directed relationships by index into `characters`.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldSeed {
    /// Characters; index = stable id.
    pub characters: Vec<CharacterSpec>,
    /// `(source index, target index, bond)`, no duplicates, no self-loops.
    pub relationships: Vec<(u32, u32, Bond)>,
}

/// One problem found in a scenario: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// File name.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// Offending key path or id (array indices 0-based), e.g. `character[2].personality.openness`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.key, self.message)
    }
}

/// Why a scenario could not be loaded. Lists every problem found, not only the first.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read scenario {file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file was read but is invalid.
    #[error("{} problem(s) in scenario:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Scenario {
    /// Characters and relationships of the world this scenario describes, with the population
    /// generated from `seed` (the world seed unless overridden).
    pub fn expand(&self, seed: u64) -> WorldSeed {
        expand_population(self, seed)
    }
}
