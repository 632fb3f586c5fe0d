//! Scenarios and story patterns built into the binary, so `aion serve` works from any directory
//! with nothing but the executable.

/// Shipped scenarios: (name, TOML text).
pub const SCENARIOS: &[(&str, &str)] = &[
    ("harbor_town", include_str!("../../scenarios/harbor_town.toml")),
    ("summer_wedding", include_str!("../../scenarios/summer_wedding.toml")),
    ("manor_mystery", include_str!("../../scenarios/manor_mystery.toml")),
    ("village_500", include_str!("../../scenarios/village_500.toml")),
    ("market_town_1000", include_str!("../../scenarios/market_town_1000.toml")),
];

/// Director scripts the shipped scenarios name: (file name, text).
pub const SCRIPTS: &[(&str, &str)] = &[("manor_mystery.rhai", include_str!("../../scenarios/manor_mystery.rhai"))];

/// Parses a scenario on the server: `[director] script` may name only a shipped script (an uploaded
/// scenario must never make the server read its own files), everything else as `scenario::parse`.
pub fn parse_scenario(text: &str, name: &str) -> Result<aion_engine::Scenario, aion_engine::scenario::LoadError> {
    aion_engine::scenario::parse_with(text, name, &|file| {
        SCRIPTS.iter().find(|(n, _)| *n == file).map(|(_, t)| (*t).to_owned()).ok_or_else(|| {
            format!("{file:?} is not a shipped script; put uploaded scripts inline (`[director] inline`)")
        })
    })
}

/// Shipped story patterns: (file name, text).
pub const PATTERNS: &[(&str, &str)] = &[
    ("alliance.toml", include_str!("../../scenarios/patterns/alliance.toml")),
    ("betrayal.toml", include_str!("../../scenarios/patterns/betrayal.toml")),
    ("feud.toml", include_str!("../../scenarios/patterns/feud.toml")),
    ("friendship.toml", include_str!("../../scenarios/patterns/friendship.toml")),
    ("heartbreak.toml", include_str!("../../scenarios/patterns/heartbreak.toml")),
    ("love_triangle.toml", include_str!("../../scenarios/patterns/love_triangle.toml")),
    ("mystery.toml", include_str!("../../scenarios/patterns/mystery.toml")),
    ("quest.toml", include_str!("../../scenarios/patterns/quest.toml")),
    ("reconciliation.toml", include_str!("../../scenarios/patterns/reconciliation.toml")),
    ("redemption.toml", include_str!("../../scenarios/patterns/redemption.toml")),
    ("rivalry.toml", include_str!("../../scenarios/patterns/rivalry.toml")),
    ("romance.toml", include_str!("../../scenarios/patterns/romance.toml")),
    ("trauma.toml", include_str!("../../scenarios/patterns/trauma.toml")),
];

/// A shipped scenario's text by name.
pub fn scenario(name: &str) -> Option<&'static str> {
    SCENARIOS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The shipped story patterns, parsed.
pub fn patterns() -> Result<Vec<aion_engine::plot::Pattern>, aion_engine::plot::LoadError> {
    PATTERNS.iter().map(|(file, text)| aion_engine::plot::parse(text, file)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_scenario_and_pattern_parses() {
        for (name, text) in super::SCENARIOS {
            super::parse_scenario(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(super::patterns().unwrap().len(), super::PATTERNS.len());
    }

    #[test]
    fn a_scenario_cannot_make_the_server_read_a_file() {
        let toml =
            "format = \"aion.scenario/1\"\n[world]\nname = \"w\"\nseed = 1\n[director]\nscript = \"/etc/passwd\"\n";
        let e = super::parse_scenario(toml, "uploaded").unwrap_err().to_string();
        assert!(e.contains("uploaded:6") && e.contains("not a shipped script"), "{e}");
    }

    #[test]
    fn every_pattern_file_on_disk_is_shipped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns");
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".toml") {
                assert!(super::PATTERNS.iter().any(|(n, _)| *n == name), "{name} is not in PATTERNS");
            }
        }
    }
}
