//! Multi-label tasks: a label file at the root of the task folder names each example's classes.
//!
//! - `labels.csv`: a header `file,labels`, then one row per example: its path (relative to the
//!   folder, without commas) and its classes separated by `;` (none for an example of no class).
//! - `labels.json`: an object from each path to the list of its classes.
//!
//! The classes are every name used, in natural order. Paths under `train/`, `val/` (or
//! `validation/`) and `test/` give their split; the missing splits are carved from the training
//! examples by a seeded shuffle.

use super::scan::{describe, Example, Scan, SPLIT_FOLDERS};
use super::spec::FolderSpec;
use crate::data::dataset::Modality;
use crate::data::error::{read_file, DataError, DataResult};
use crate::data::input_file::{accepted_inputs, modality_of};
use crate::data::listing::natural_cmp;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Names of the label files, in the order they are looked for.
pub const LABEL_FILES: [&str; 2] = ["labels.csv", "labels.json"];

/// The label file of the task folder `dir`, if it has one.
pub fn label_file(dir: &Path) -> Option<PathBuf> {
    LABEL_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// The rows of a label file: each example's relative path and class names.
fn parse(path: &Path) -> DataResult<Vec<(String, Vec<String>)>> {
    let origin = path.display().to_string();
    let bytes = read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| DataError::new(&origin, "not UTF-8 text"))?;
    if path.extension().is_some_and(|e| e == "json") {
        let rows: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).map_err(|e| {
            DataError::new(
                &origin,
                format!("not an object of paths to class lists: {e}"),
            )
        })?;
        return Ok(rows.into_iter().collect());
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, header)) if header.trim().eq_ignore_ascii_case("file,labels") => {}
        _ => {
            return Err(DataError::new(
                &origin,
                "the first line must be the header file,labels",
            ))
        }
    }
    lines
        .map(|(i, line)| {
            let (file, labels) = line.split_once(',').ok_or_else(|| {
                DataError::new(&origin, format!("line {}: expected file,labels", i + 1))
            })?;
            if labels.contains(',') {
                return Err(DataError::new(
                    &origin,
                    format!(
                        "line {}: more than two fields (separate classes with ;)",
                        i + 1
                    ),
                ));
            }
            let classes = labels
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect();
            Ok((file.trim().to_string(), classes))
        })
        .collect()
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
    for (file, names) in rows {
        let full = root.join(&file);
        if !full.exists() {
            return Err(DataError::new(&origin, format!("{file}: no such file")));
        }
        let modality = modality_of(&full)?.ok_or_else(|| {
            DataError::new(
                full.display().to_string(),
                format!("not {}", accepted_inputs()),
            )
        })?;
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
            .and_then(|first| {
                SPLIT_FOLDERS
                    .iter()
                    .position(|names| names.contains(&first))
            });
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
    let (_, modality) = seen.expect("at least one row");
    Ok(LabelledFiles {
        modality,
        classes,
        examples,
    })
}

/// Every example of the label file `path`, labelled (for scoring a trained model on them).
pub fn labelled_by_file(path: &Path) -> DataResult<(Modality, Vec<String>, Vec<Example>)> {
    let LabelledFiles {
        modality,
        classes,
        examples,
    } = read_examples(path)?;
    Ok((
        modality,
        classes,
        examples.into_iter().map(|(e, _)| e).collect(),
    ))
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
    let fractions = [spec.validation_fraction, spec.test_fraction];
    let counts = [0, 1].map(|k| match carve[k] {
        true => ((n as f64 * fractions[k]).round() as usize).max(1),
        false => 0,
    });
    let needed = 1 + counts[0] + counts[1];
    if n < needed {
        return Err(DataError::new(
            &origin,
            format!("{n} training examples: too few to carve the missing splits and keep one to train on (need {needed})"),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(spec.split_seed));
    let train = std::mem::take(&mut splits[0]);
    let (val, rest) = order.split_at(counts[0]);
    let (test, keep) = rest.split_at(counts[1]);
    for (k, picked) in [(0, keep), (1, val), (2, test)] {
        let mut picked = picked.to_vec();
        picked.sort_unstable();
        splits[k].extend(picked.into_iter().map(|i| train[i].clone()));
    }
    Ok(Scan {
        modality,
        classes,
        multi_label: true,
        splits,
    })
}
