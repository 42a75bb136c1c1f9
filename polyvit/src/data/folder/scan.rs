//! Finding a folder task's examples: the class folders (optionally inside `train/`, `val/` and
//! `test/`), the modality of their files, and seeded per-class splits where the folder does not
//! give them. Only names are read here; the files are decoded later.

use super::carve::{carve_indices, carved_counts};
use super::labels::{label_file, labelled_by_file, scan_label_file};
use super::spec::FolderSpec;
use crate::data::class_list::class_list;
use crate::data::dataset::Modality;
use crate::data::error::{missing, DataError, DataResult, Problems};
use crate::data::input_file::{modality_of, not_an_input};
use crate::data::listing::{file_name, list_dir};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// One example: its file (or clip folder) and classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The file, or the folder of frames.
    pub path: PathBuf,
    /// Indices into the class names, ascending: exactly one unless the task is multi-label.
    pub labels: Vec<usize>,
}

/// What a task folder holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The modality of every example.
    pub modality: Modality,
    /// Class names (the class folders' names), in label order.
    pub classes: Vec<String>,
    /// Whether examples have any number of classes (from a label file) rather than one.
    pub multi_label: bool,
    /// Train, validation and test examples.
    pub splits: [Vec<Example>; 3],
}

/// Names of the split folders: train, validation (either name), test.
const SPLIT_FOLDERS: [&[&str]; 3] = [&["train"], &["val", "validation"], &["test"]];

/// The split (0 train, 1 validation, 2 test) a folder of this name holds, in any case: data sets
/// often ship `Train/` and `Test/`, which read as two classes would make a wrong task in silence.
pub fn split_named(name: &str) -> Option<usize> {
    SPLIT_FOLDERS
        .iter()
        .position(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

fn error(path: &Path, problem: impl Into<String>) -> DataError {
    DataError::new(path.display().to_string(), problem)
}

/// One class folder's examples.
struct ClassFolder {
    name: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
}

/// The class folders of `dir` and their examples, checking every file's modality against the
/// first one seen (`seen`). A misplaced, unnamed, empty or unreadable entry is added to
/// `problems` and left out, so that a run names them all; files of two modalities are the
/// task's problem, not a file's, and the error.
fn class_folders(
    dir: &Path,
    seen: &mut Option<(PathBuf, Modality)>,
    problems: &mut Problems,
) -> DataResult<Vec<ClassFolder>> {
    let mut classes = Vec::new();
    for class_dir in list_dir(dir)? {
        if !class_dir.is_dir() {
            problems.push(error(
                &class_dir,
                format!(
                    "not in a class folder (each class is a subfolder of {})",
                    dir.display()
                ),
            ));
            continue;
        }
        // The name is the class's label wherever it is shown or saved as text, and how a
        // validation or test folder is matched to it: names that are not UTF-8 would all read as
        // one `�`-name, and one class's examples be labelled as another's.
        let Some(name) = class_dir.file_name().and_then(|n| n.to_str()) else {
            problems.push(error(
                &class_dir,
                "a class folder's name is its label and must be text (UTF-8): rename the folder",
            ));
            continue;
        };
        let name = name.to_string();
        let Some(listed) = problems.keep(list_dir(&class_dir)) else {
            continue;
        };
        if listed.is_empty() {
            problems.push(error(&class_dir, "empty class folder"));
            continue;
        }
        let mut files = Vec::with_capacity(listed.len());
        for file in listed {
            let Some(kind) = problems.keep(modality_of(&file)) else {
                continue;
            };
            let Some(modality) = kind else {
                problems.push(error(&file, not_an_input(&file)));
                continue;
            };
            match seen {
                Some((first, m)) if *m != modality => {
                    return Err(error(
                        dir,
                        format!(
                            "mixed modalities in one task: {} is {}, {} is {}",
                            first.display(),
                            describe(first, *m),
                            file.display(),
                            describe(&file, modality)
                        ),
                    ))
                }
                Some(_) => {}
                None => *seen = Some((file.clone(), modality)),
            }
            files.push(file);
        }
        classes.push(ClassFolder {
            name,
            dir: class_dir,
            files,
        });
    }
    Ok(classes)
}

/// What the input at `path` is, in words: "an image", "audio", "a video file" or "a video clip
/// (a folder of frames)".
pub(super) fn describe(path: &Path, modality: Modality) -> &'static str {
    match modality {
        Modality::Image => "an image",
        Modality::Audio => "audio",
        Modality::Video if path.is_dir() => "a video clip (a folder of frames)",
        Modality::Video => "a video file",
    }
}

/// The split folders of `root` (train, validation, test), or `None` if it holds none.
fn split_folders(root: &Path, entries: &[PathBuf]) -> DataResult<Option<[Option<PathBuf>; 3]>> {
    let split_of = |p: &PathBuf| split_named(&file_name(p)).filter(|_| p.is_dir());
    if !entries.iter().any(|p| split_of(p).is_some()) {
        return Ok(None);
    }
    let mut splits: [Option<PathBuf>; 3] = Default::default();
    for p in entries {
        let k = split_of(p).ok_or_else(|| {
            error(
                p,
                "next to train/, val/ and test/ folders: move it into one of them",
            )
        })?;
        if let Some(first) = &splits[k] {
            return Err(error(
                root,
                format!(
                    "has two folders of one split: {}/ and {}/",
                    file_name(first),
                    file_name(p)
                ),
            ));
        }
        splits[k] = Some(p.clone());
    }
    if splits[0].is_none() {
        return Err(error(
            root,
            "has val/ or test/ folders but no train/ folder",
        ));
    }
    Ok(Some(splits))
}

/// Examples of `folders`, labelled by their position in `classes` (every folder must name one).
fn labelled(folders: Vec<ClassFolder>, classes: &[String]) -> DataResult<Vec<Example>> {
    let mut examples = Vec::new();
    for folder in folders {
        let class = classes
            .iter()
            .position(|c| *c == folder.name)
            .ok_or_else(|| {
                error(
                    &folder.dir,
                    format!(
                        "class {} is not among the training classes ({})",
                        folder.name,
                        class_list(classes)
                    ),
                )
            })?;
        examples.extend(folder.files.into_iter().map(|path| Example {
            path,
            labels: vec![class],
        }));
    }
    Ok(examples)
}

/// Carves validation (`carve[0]`) and test (`carve[1]`) examples out of each class of `train`
/// by a seeded shuffle: `round(n · fraction)` of each class, at least one, and at least one
/// left to train on.
fn carve(
    train: Vec<ClassFolder>,
    spec: &FolderSpec,
    carve: [bool; 2],
) -> DataResult<[Vec<Example>; 3]> {
    let mut splits: [Vec<Example>; 3] = Default::default();
    for (class, folder) in train.into_iter().enumerate() {
        let n = folder.files.len();
        let counts = carved_counts(n, spec, carve);
        let needed = 1 + counts[0] + counts[1];
        if n < needed {
            return Err(error(
                &folder.dir,
                format!(
                    "class {} has {n} example{}: too few to carve {} and keep one to train on \
                     (need {needed}; add files, or give train/, val/ and test/ folders)",
                    folder.name,
                    if n == 1 { "" } else { "s" },
                    match carve {
                        [true, true] => "a validation and a test example",
                        [true, false] => "a validation example",
                        _ => "a test example",
                    }
                ),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.split_seed);
        rng.set_stream(class as u64);
        let picked = carve_indices(n, counts, &mut rng);
        for (split, picked) in splits.iter_mut().zip(picked) {
            split.extend(picked.into_iter().map(|i| Example {
                path: folder.files[i].clone(),
                labels: vec![class],
            }));
        }
    }
    Ok(splits)
}

/// Reads the layout of the task folder `spec.path`. Misplaced, empty or unknown entries of the
/// class folders are named together in one error ([`Problems`]).
pub fn scan(spec: &FolderSpec) -> DataResult<Scan> {
    let root = &spec.path;
    if !root.is_dir() {
        let problem = match root.exists() {
            false => missing(root, "folder"),
            true => "not a folder (a task folder holds one subfolder per class)".to_string(),
        };
        return Err(error(root, problem));
    }
    if let Some(labels) = label_file(root)? {
        return scan_label_file(&labels, spec);
    }
    let entries = list_dir(root)?;
    let layout = split_folders(root, &entries)?;
    let mut seen = None;
    let train_dir = match &layout {
        Some(splits) => splits[0].clone().unwrap_or_else(|| root.clone()),
        None => root.clone(),
    };
    let [val, test] = match &layout {
        Some([_, val, test]) => [val.clone(), test.clone()],
        None => [None, None],
    };
    let mut problems = Problems::default();
    let train = class_folders(&train_dir, &mut seen, &mut problems)?;
    let mut folders_of = |dir: Option<PathBuf>| {
        dir.map(|d| Ok((class_folders(&d, &mut seen, &mut problems)?, d)))
            .transpose()
    };
    let given = [folders_of(val)?, folders_of(test)?];
    problems.into_result(root)?;
    let classes: Vec<String> = train.iter().map(|c| c.name.clone()).collect();
    match classes.len() {
        0 => {
            return Err(error(
                &train_dir,
                "no class folders (one subfolder per class)",
            ))
        }
        1 => {
            return Err(error(
                &train_dir,
                format!(
                    "only one class folder ({}): a task needs at least two classes",
                    classes[0]
                ),
            ))
        }
        _ => {}
    }
    let mut splits = carve(train, spec, [given[0].is_none(), given[1].is_none()])?;
    for (k, given) in [1, 2].into_iter().zip(given) {
        if let Some((folders, dir)) = given {
            splits[k] = labelled(folders, &classes)?;
            if splits[k].is_empty() {
                return Err(error(
                    &dir,
                    "holds no examples (leave it out to take this split from train/)",
                ));
            }
        }
    }
    let (_, modality) = seen.ok_or_else(|| error(root, "holds no examples"))?;
    Ok(Scan {
        modality,
        classes,
        multi_label: false,
        splits,
    })
}

/// Every example of the class folders (or the label file) of `dir`, for scoring a trained model
/// on them, labelled by their position in the returned class names.
pub fn labelled_folder(dir: &Path) -> DataResult<(Modality, Vec<String>, Vec<Example>)> {
    if !dir.is_dir() {
        return Err(error(
            dir,
            "not a folder (it should hold one subfolder per class)",
        ));
    }
    if let Some(labels) = label_file(dir)? {
        return labelled_by_file(&labels);
    }
    let (mut seen, mut problems) = (None, Problems::default());
    let folders = class_folders(dir, &mut seen, &mut problems)?;
    problems.into_result(dir)?;
    let classes: Vec<String> = folders.iter().map(|c| c.name.clone()).collect();
    let examples = labelled(folders, &classes)?;
    let (_, modality) =
        seen.ok_or_else(|| error(dir, "no class folders (one subfolder per class)"))?;
    Ok((modality, classes, examples))
}
