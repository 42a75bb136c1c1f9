//! The guides link only to what exists: every relative link of `TOUR.md`, `README.md` and
//! `ARCHITECTURE.md` names a file or folder of the repository, every `--example NAME` they
//! mention is an example of a workspace crate, and the README lists every example.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The guides checked, relative to the repository root.
const GUIDES: [&str; 3] = ["TOUR.md", "README.md", "ARCHITECTURE.md"];

/// The workspace crates whose `examples/` folders hold examples.
const CRATES: [&str; 7] = [
    "devices", "tensor", "autograd", "nn", "polyvit", "tests", "benches",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The targets of the inline Markdown links `[text](target)` of `text`, anchors removed.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() {
            targets.push(target.to_string());
        }
        rest = &after[end..];
    }
    targets
}

/// The `NAME`s of every `--example NAME` in `text`.
fn example_names(text: &str) -> BTreeSet<String> {
    text.split("--example")
        .skip(1)
        .filter_map(|after| {
            let name: String = after
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "NAME").then_some(name)
        })
        .collect()
}

/// Every example of the workspace: `CRATE/examples/NAME.rs` or `CRATE/examples/NAME/main.rs`.
fn workspace_examples() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for krate in CRATES {
        let Ok(entries) = std::fs::read_dir(root().join(krate).join("examples")) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let is_file_example = path.extension().is_some_and(|e| e == "rs");
            if is_file_example || path.join("main.rs").is_file() {
                names.insert(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_relative_link_names_an_existing_path() {
    let mut missing = Vec::new();
    for guide in GUIDES {
        let path = root().join(guide);
        let dir = path.parent().expect("a file has a folder").to_path_buf();
        for target in link_targets(&read(&path)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !dir.join(&target).exists() {
                missing.push(format!("{guide} -> {target}"));
            }
        }
    }
    assert!(missing.is_empty(), "links to nothing: {missing:?}");
}

#[test]
fn every_example_named_exists_and_the_readme_lists_them_all() {
    let examples = workspace_examples();
    assert!(examples.contains("cotrain"), "found {examples:?}");
    for guide in GUIDES {
        let named = example_names(&read(&root().join(guide)));
        let unknown: Vec<&String> = named.difference(&examples).collect();
        assert!(
            unknown.is_empty(),
            "{guide} names examples that do not exist: {unknown:?}"
        );
    }
    let listed = example_names(&read(&root().join("README.md")));
    let unlisted: Vec<&String> = examples.difference(&listed).collect();
    assert!(unlisted.is_empty(), "README.md does not list {unlisted:?}");
}

#[test]
fn the_link_parser_finds_links_and_examples() {
    let text = "see [a](x/y.rs#L3), [b](https://e.org) and `cargo run --example foo_2`; [c](z)";
    assert_eq!(link_targets(text), ["x/y.rs", "https://e.org", "z"]);
    assert_eq!(example_names(text), BTreeSet::from(["foo_2".to_string()]));
}
