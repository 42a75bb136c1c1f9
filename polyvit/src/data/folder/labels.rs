//! Multi-label tasks: a label file at the root of the task folder names each example's classes.
//!
//! - `labels.csv`: a header `file,labels`, then one row per example: its path (relative to the
//!   folder; in double quotes if it holds a comma) and its classes separated by `;` (none for
//!   an example of no class). A path written on Windows (`train\cat1.png`) is found too.
//! - `labels.json`: an object from each path to the list of its classes.
//!
//! Every input in the folder is named once: a path named twice, or a file the label file does
//! not name, is an error, and so is a folder with both files.
//!
//! The classes are every name used, in natural order. Paths under `train/`, `val/` (or
//! `validation/`) and `test/` give their split; the missing splits are carved from the training
//! examples by a seeded shuffle.

use super::carve::{carve_indices, carved_counts};
use super::scan::{describe, split_named, Example, Scan};
use super::spec::FolderSpec;
use crate::data::dataset::Modality;
use crate::data::error::{read_file, DataError, DataResult, Problems};
use crate::data::input_file::{modality_of, not_an_input};
use crate::data::listing::{list_dir, natural_cmp, FoldersSeen};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Names of the label files; a folder holds at most one.
pub const LABEL_FILES: [&str; 2] = ["labels.csv", "labels.json"];

/// The label file of the task folder `dir`, if it has one; both is an error (which one is
/// meant cannot be told).
pub fn label_file(dir: &Path) -> DataResult<Option<PathBuf>> {
    let found: Vec<PathBuf> = LABEL_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => Err(DataError::new(
            dir.display().to_string(),
            "holds both labels.csv and labels.json: keep the one that names the classes",
        )),
    }
}

/// The fields of one CSV line, separated by commas, as RFC 4180 writes them: a field in double
/// quotes may hold commas, and `""` in it is one quote. Unquoted fields are trimmed.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".into()),
                }
            }
            while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
            if chars.peek().is_some_and(|c| *c != ',') {
                return Err("text after a quoted field's closing quote".into());
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
            field = field.trim().to_string();
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

/// The rows of `labels.csv` (`text`, from `origin`): each example's relative path and class
/// names. A byte-order mark (as spreadsheet programs write) is skipped.
fn parse_csv(text: &str, origin: &str) -> DataResult<Vec<(String, Vec<String>)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header_ok = lines.next().is_some_and(|(_, header)| {
        csv_fields(header).is_ok_and(|f| {
            f.len() == 2 && f[0].eq_ignore_ascii_case("file") && f[1].eq_ignore_ascii_case("labels")
        })
    });
    if !header_ok {
        return Err(DataError::new(
            origin,
            "the first line must be the header file,labels",
        ));
    }
    lines
        .map(|(i, line)| {
            let at = |problem: &str| DataError::new(origin, format!("line {}: {problem}", i + 1));
            match csv_fields(line).map_err(|e| at(&e))?.as_slice() {
                [file, labels] => Ok((
                    file.clone(),
                    labels
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(String::from)
                        .collect(),
                )),
                [_] => Err(at("expected file,labels")),
                _ => Err(at(
                    "more than two fields (separate classes with ;, and quote a path that holds a comma)",
                )),
            }
        })
        .collect()
}

/// The rows of `labels.json` (`text`, from `origin`), in the file's order; a path named twice
/// is kept twice, for the caller to refuse (a map would keep only the last).
fn parse_json(text: &str, origin: &str) -> DataResult<Vec<(String, Vec<String>)>> {
    struct Rows(Vec<(String, Vec<String>)>);
    impl<'de> serde::Deserialize<'de> for Rows {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rows, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Rows;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object of paths to class lists")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Rows, A::Error> {
                    let mut rows = Vec::new();
                    while let Some(row) = map.next_entry()? {
                        rows.push(row);
                    }
                    Ok(Rows(rows))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    let Rows(rows) = serde_json::from_str(text).map_err(|e| {
        DataError::new(
            origin,
            format!("not an object of paths to class lists: {e}"),
        )
    })?;
    Ok(rows)
}

/// The rows of a label file: each example's relative path and class names (trimmed, empty
/// ones dropped, in a CSV file and a JSON file alike). A path named twice is an error (its
/// example would count twice, and could land in two splits).
fn parse(path: &Path) -> DataResult<Vec<(String, Vec<String>)>> {
    let origin = path.display().to_string();
    let bytes = read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| DataError::new(&origin, "not UTF-8 text"))?;
    let rows = match path.extension().is_some_and(|e| e == "json") {
        true => parse_json(&text, &origin)?,
        false => parse_csv(&text, &origin)?,
    };
    // Class names read alike from either file: without surrounding spaces, none empty.
    let rows: Vec<(String, Vec<String>)> = rows
        .into_iter()
        .map(|(file, names)| {
            let names = names.iter().map(|n| n.trim()).filter(|n| !n.is_empty());
            (file, names.map(String::from).collect())
        })
        .collect();
    let mut seen = HashSet::new();
    for (file, _) in &rows {
        let normal: PathBuf = Path::new(file)
            .components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect();
        if !seen.insert(normal) {
            return Err(DataError::new(&origin, format!("{file} is named twice")));
        }
    }
    Ok(rows)
}

/// The first of the inputs under `root` (images, audio and video files; with `clips`, folders
/// of frames) that `listed` (canonical paths) does not name, and how many there are: a file
/// in the folder that the label file forgot would otherwise be left out without a word.
fn unlisted(
    root: &Path,
    listed: &HashSet<PathBuf>,
    clips: bool,
) -> DataResult<(usize, Option<PathBuf>)> {
    let mut found = (0, None);
    let mut seen = FoldersSeen::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if !seen.first_visit(&dir)? {
            continue; // Reached again through a link.
        }
        for entry in list_dir(&dir)? {
            if dir == root && LABEL_FILES.iter().any(|f| entry.ends_with(f)) {
                continue;
            }
            let named = entry.canonicalize().is_ok_and(|c| listed.contains(&c));
            let input = match modality_of(&entry)? {
                Some(Modality::Video) if entry.is_dir() => clips,
                Some(_) => !entry.is_dir(),
                None => false,
            };
            if named {
                continue;
            } else if input {
                found.0 += 1;
                found.1.get_or_insert(entry);
            } else if entry.is_dir() {
                pending.push(entry);
            }
        }
    }
    Ok(found)
}

/// `file` as a path that exists under `root`: as written, or else with each `\` read as a
/// folder separator (a label file written on Windows; elsewhere `\` is a character of a name,
/// so the path as written is tried first). `None` if neither exists.
fn existing_relative_path(root: &Path, file: &str) -> Option<String> {
    let as_written = std::iter::once(file.to_string());
    let windows = file.contains('\\').then(|| file.replace('\\', "/"));
    as_written
        .chain(windows)
        .find(|candidate| root.join(candidate).exists())
}

/// What a label file names: the examples' modality, the class names, and each example with
/// the split folder its path is under (if any).
struct LabelledFiles {
    modality: Modality,
    classes: Vec<String>,
    examples: Vec<(Example, Option<usize>)>,
}

/// Every example of the label file `path`, relative paths resolved against its folder.
fn read_examples(path: &Path) -> DataResult<LabelledFiles> {
    let origin = path.display().to_string();
    let root = path.parent().unwrap_or(Path::new(""));
    let rows = parse(path)?;
    if rows.is_empty() {
        return Err(DataError::new(&origin, "names no examples"));
    }
    let mut classes: Vec<String> = rows.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
    classes.sort_by(|a, b| natural_cmp(a, b));
    classes.dedup();
    let mut seen: Option<(PathBuf, Modality)> = None;
    let mut examples = Vec::with_capacity(rows.len());
    // Each file's first spelling, by its canonical path: `a/../a/x.png` or a link is the same
    // file as `a/x.png`, which `parse` cannot tell from the text. Its keys are then the files
    // the label file lists, for `unlisted`.
    let mut spelled: HashMap<PathBuf, String> = HashMap::new();
    // A row's own problems are gathered, so that a run names them all.
    let mut problems = Problems::default();
    for (file, names) in rows {
        let row = file.clone();
        let Some(file) = existing_relative_path(root, &file) else {
            problems.push(DataError::new(&origin, format!("{file}: no such file")));
            continue;
        };
        let full = root.join(&file);
        if let Ok(canonical) = full.canonicalize() {
            if let Some(first) = spelled.insert(canonical, row.clone()) {
                problems.push(DataError::new(
                    &origin,
                    format!("{row} and {first} name the same file: each file is named once"),
                ));
                continue;
            }
        }
        let Some(kind) = problems.keep(modality_of(&full)) else {
            continue;
        };
        let Some(modality) = kind else {
            problems.push(DataError::new(
                full.display().to_string(),
                not_an_input(&full),
            ));
            continue;
        };
        match &seen {
            Some((first, m)) if *m != modality => {
                return Err(DataError::new(
                    &origin,
                    format!(
                        "mixed modalities in one task: {} is {}, {} is {}",
                        first.display(),
                        describe(first, *m),
                        full.display(),
                        describe(&full, modality)
                    ),
                ))
            }
            Some(_) => {}
            None => seen = Some((full.clone(), modality)),
        }
        let split = Path::new(&file)
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .and_then(split_named);
        let mut labels: Vec<usize> = names
            .iter()
            .map(|n| {
                classes
                    .iter()
                    .position(|c| c == n)
                    .expect("every name is a class")
            })
            .collect();
        labels.sort_unstable();
        labels.dedup();
        examples.push((Example { path: full, labels }, split));
    }
    problems.into_result(path)?;
    let (_, modality) = seen.expect("a row without problems");
    let listed = spelled.into_keys().collect();
    if let (n, Some(first)) = unlisted(root, &listed, modality == Modality::Video)? {
        return Err(DataError::new(
            &origin,
            format!(
                "does not name {n} of the files in its folder (the first: {}): add a row for each (with no classes for an example of none), or move them out",
                first.display()
            ),
        ));
    }
    Ok(LabelledFiles {
        modality,
        classes,
        examples,
    })
}

/// The examples of the label file `path` to score a trained model on, labelled: every one, or,
/// when its paths lie in split folders, those under `test/` (the others are what a run on the
/// folder trained and chose on).
pub fn labelled_by_file(path: &Path) -> DataResult<(Modality, Vec<String>, Vec<Example>)> {
    let LabelledFiles {
        modality,
        classes,
        examples,
    } = read_examples(path)?;
    let in_splits = examples.iter().any(|(_, split)| split.is_some());
    let scored: Vec<Example> = (examples.into_iter())
        .filter(|(_, split)| !in_splits || *split == Some(2))
        .map(|(e, _)| e)
        .collect();
    if scored.is_empty() {
        return Err(DataError::new(
            path.display().to_string(),
            "names no example under test/: its examples in train/ and val/ are the ones a run \
             trains and chooses on, so only test/ is scored",
        ));
    }
    Ok((modality, classes, scored))
}

/// The multi-label task of the label file `path` with the splits of `spec`.
pub fn scan_label_file(path: &Path, spec: &FolderSpec) -> DataResult<Scan> {
    let origin = path.display().to_string();
    let LabelledFiles {
        modality,
        classes,
        examples,
    } = read_examples(path)?;
    if classes.len() < 2 {
        return Err(DataError::new(&origin, "names fewer than two classes"));
    }
    let with_split = examples.iter().filter(|(_, s)| s.is_some()).count();
    if with_split != 0 && with_split != examples.len() {
        return Err(DataError::new(
            &origin,
            "some paths are under train/, val/ or test/ and some are not: put all in split folders, or none",
        ));
    }
    let mut splits: [Vec<Example>; 3] = Default::default();
    for (e, split) in examples {
        splits[split.unwrap_or(0)].push(e);
    }
    let carve = [splits[1].is_empty(), splits[2].is_empty()];
    let n = splits[0].len();
    let counts = carved_counts(n, spec, carve);
    let needed = 1 + counts[0] + counts[1];
    if n < needed {
        return Err(DataError::new(
            &origin,
            format!("{n} training examples: too few to carve the missing splits and keep one to train on (need {needed})"),
        ));
    }
    let picked = carve_indices(n, counts, &mut ChaCha8Rng::seed_from_u64(spec.split_seed));
    let train = std::mem::take(&mut splits[0]);
    for (split, picked) in splits.iter_mut().zip(picked) {
        split.extend(picked.into_iter().map(|i| train[i].clone()));
    }
    // mAP averages over the classes a split has positives of: a split with none has no score
    // (and a training split with none, nothing to learn).
    for (k, name) in ["training", "validation", "test"].into_iter().enumerate() {
        if splits[k].iter().all(|e| e.labels.is_empty()) {
            let n = splits[k].len();
            let carved = k > 0 && carve[k - 1];
            let (whence, other_way) = match carved {
                true => (
                    ", carved from the training examples",
                    " (or carve another way: split_seed, or more examples)",
                ),
                false => ("", ""),
            };
            let consequence = match k {
                0 => "there is nothing to learn",
                _ => "mAP cannot score it",
            };
            return Err(DataError::new(
                &origin,
                format!(
                    "the {n} examples of the {name} split{whence} have no class at all, so \
                     {consequence}: give some of them classes{other_way}"
                ),
            ));
        }
    }
    Ok(Scan {
        modality,
        classes,
        multi_label: true,
        splits,
    })
}
