//! The documents link only to what exists: every relative link of every Markdown file of the
//! repository names a file or folder of it, and a link to a heading (`FILE.md#anchor`, `#anchor`)
//! names a heading of that file; every `--example NAME` the guides (`TOUR.md`, `README.md`,
//! `ARCHITECTURE.md`) mention is an example of a workspace crate, and the README lists every
//! example.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The guides whose example names are checked, relative to the repository root.
const GUIDES: [&str; 3] = ["TOUR.md", "README.md", "ARCHITECTURE.md"];

/// Folders of the repository root that hold no documents of the repository: build output and
/// training runs (both ignored by git).
const NOT_DOCUMENTS: [&str; 2] = ["target", "runs"];

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

/// Every Markdown file of the repository, relative to its root: hidden folders and
/// [`NOT_DOCUMENTS`] left out.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, relative: &Path, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let (path, relative) = (entry.path(), relative.join(&*name));
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                let top_level = relative.components().count() == 1;
                if !(top_level && NOT_DOCUMENTS.contains(&&*name)) {
                    walk(&path, &relative, found);
                }
            } else if name.ends_with(".md") {
                found.push(relative);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root(), Path::new(""), &mut found);
    found.sort();
    found
}

/// The targets of the inline Markdown links `[text](target)` of `text`, as `(path, anchor)`:
/// the path empty for a link within the file, the anchor empty for none.
fn link_targets(text: &str) -> Vec<(String, String)> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        let (path, anchor) = after[..end].split_once('#').unwrap_or((&after[..end], ""));
        if !path.trim().is_empty() || !anchor.is_empty() {
            targets.push((path.trim().to_string(), anchor.to_string()));
        }
        rest = &after[end..];
    }
    targets
}

/// The anchors GitHub gives the headings of the Markdown `text` (code blocks skipped): each
/// heading lower-cased, spaces made hyphens, every other character but letters, digits, `-` and
/// `_` dropped, and `-1`, `-2`... added to a repeated one.
fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let heading = line.trim_start_matches('#');
        if in_code || heading.len() == line.len() || !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let (mut anchor, mut repeats) = (slug.clone(), 0);
        while anchors.contains(&anchor) {
            repeats += 1;
            anchor = format!("{slug}-{repeats}");
        }
        anchors.insert(anchor);
    }
    anchors
}

/// The `NAME`s of every `--example NAME` in `text`.
fn example_names(text: &str) -> BTreeSet<String> {
    text.split("--example")
        .skip(1)
        // `--examples` (every example) is another flag, not one named `s`.
        .filter(|after| after.starts_with(char::is_whitespace))
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
fn every_relative_link_names_an_existing_path_and_heading() {
    let documents = documents();
    for guide in GUIDES
        .iter()
        .chain(&["EXPERIMENTS.md", "docs/default-run.md"])
    {
        assert!(
            documents.contains(&PathBuf::from(guide)),
            "{guide} not found"
        );
    }
    let mut missing = Vec::new();
    for document in &documents {
        let path = root().join(document);
        let dir = path.parent().expect("a file has a folder").to_path_buf();
        for (target, anchor) in link_targets(&read(&path)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let linked = if target.is_empty() {
                path.clone()
            } else {
                dir.join(&target)
            };
            let hash = if anchor.is_empty() { "" } else { "#" };
            let shown = format!("{} -> {target}{hash}{anchor}", document.display());
            if !linked.exists() {
                missing.push(shown);
            } else if !anchor.is_empty()
                && linked.extension().is_some_and(|e| e == "md")
                && !heading_anchors(&read(&linked)).contains(&anchor)
            {
                missing.push(format!("{shown} (no such heading)"));
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
    let text = "see [a](x/y.rs#L3), [b](https://e.org) and `cargo run --example foo_2`; [c](z), \
                [d](#up)";
    let pair = |path: &str, anchor: &str| (path.to_string(), anchor.to_string());
    assert_eq!(
        link_targets(text),
        [
            pair("x/y.rs", "L3"),
            pair("https://e.org", ""),
            pair("z", ""),
            pair("", "up")
        ]
    );
    assert_eq!(example_names(text), BTreeSet::from(["foo_2".to_string()]));
    let headings = "# What `train` does, by default\n```sh\n# not a heading\n```\n## Tests\n\
                    ### Tests\n#hashtag\n## Ünïcode — 2×2 (a_b)\n";
    assert_eq!(
        heading_anchors(headings),
        BTreeSet::from(
            [
                "what-train-does-by-default",
                "tests",
                "tests-1",
                "ünïcode--22-a_b"
            ]
            .map(String::from)
        )
    );
}
