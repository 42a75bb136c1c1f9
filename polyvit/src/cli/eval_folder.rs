//! `polyvit eval --data DIR`: a checkpoint's score on a labelled folder of the user's files (one
//! subfolder per class, named as the task's classes). The files are decoded batch by batch, the
//! next batch while the model scores this one, so a folder of any size fits in memory.

use super::report::load_checkpoint_file;
use polyvit::data::error::Problems;
use polyvit::data::folder::{label_file, labelled_folder, labels_of, split_named};
use polyvit::data::input_file::InputFormat;
use polyvit::data::listing::list_dir;
use polyvit::data::stream::{load_in_parallel, StreamedInputs};
use polyvit::data::task_info::TaskInfo;
use polyvit::data::{class_list, Modality, Split};
use polyvit::train::evaluate::evaluate;
use polyvit::train::Trained;
use std::path::{Path, PathBuf};
use tensor::Device;

/// Why no task of `trained` fits a folder of `modality` inputs in `classes`: the classes each
/// task of that modality lacks.
fn no_task_fits(trained: &Trained, modality: Modality, classes: &[String], dir: &Path) -> String {
    let lacking: Vec<String> = trained
        .tasks
        .iter()
        .filter(|t| t.modality == modality)
        .map(|t| {
            let missing: Vec<&str> = classes
                .iter()
                .filter(|c| !t.classes.contains(c))
                .map(String::as_str)
                .collect();
            format!(
                "task {} has no class {} (its classes: {})",
                t.name,
                class_list(&missing),
                class_list(&t.classes)
            )
        })
        .collect();
    match lacking.is_empty() {
        true => format!(
            "{}: no task of the checkpoint takes {} inputs",
            dir.display(),
            modality.name()
        ),
        false => format!("{}: {}", dir.display(), lacking.join("; ")),
    }
}

/// An error when `dir` holds split folders (`train/`, `val/`, `test/`: a task folder, or what
/// `polyvit data export` writes) rather than class folders, naming one to give instead. A label
/// file at the root names the split of each path, and its `test/` examples are scored.
fn refuse_split_folders(dir: &Path) -> Result<(), String> {
    let Ok(entries) = list_dir(dir) else {
        return Ok(());
    };
    if label_file(dir).is_ok_and(|f| f.is_some()) {
        return Ok(());
    }
    let names: Vec<String> = (entries.iter())
        .filter(|e| e.is_dir())
        .filter_map(|e| e.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if names.is_empty() || !names.iter().all(|n| split_named(n).is_some()) {
        return Ok(());
    }
    // The example offered: the test folder where there is one, else validation, else train.
    let example = names
        .iter()
        .max_by_key(|n| split_named(n))
        .expect("a split folder");
    Err(format!(
        "{}: {} are split folders, not classes: give --data one of them, e.g. {}",
        dir.display(),
        names.join(", "),
        dir.join(example).display()
    ))
}

/// The files are decoded a batch at a time as they are scored, so an unreadable one stops the
/// scoring with its batch's problems; then every file is tried, so that the error names all the
/// folder's unreadable files at once, as training's does. `None` when all of them decode (the
/// error was not theirs).
fn every_unreadable_file(dir: &Path, files: &[PathBuf], format: &InputFormat) -> Option<String> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut problems = Problems::default();
    for input in load_in_parallel(format, &paths, &|| {}).ok()? {
        problems.keep(input);
    }
    problems.into_result(dir).err().map(|e| e.to_string())
}

/// The task to score: the named one, or the only task of the folder's modality whose classes
/// include every class folder.
fn choose_task<'a>(
    trained: &'a Trained,
    name: Option<&str>,
    fits: impl Fn(&TaskInfo) -> bool,
    none_fits: impl Fn() -> String,
    dir: &Path,
) -> Result<&'a TaskInfo, String> {
    if let Some(name) = name {
        return trained.task(name);
    }
    let candidates: Vec<&TaskInfo> = trained.tasks.iter().filter(|t| fits(t)).collect();
    match candidates.as_slice() {
        [task] => Ok(task),
        [] => Err(none_fits()),
        several => Err(format!(
            "{}: several tasks fit ({}); choose one with --task",
            dir.display(),
            several
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Scores the checkpoint at `path` on the class folders of `dir`; files are brought to the form
/// of the task's training data first, unless `as_is`.
pub fn eval_folder(
    path: &Path,
    dir: &Path,
    task: Option<&str>,
    as_is: bool,
    device: &Device,
) -> Result<(), String> {
    let checkpoint = load_checkpoint_file(path)?;
    let trained = Trained::load(&checkpoint, &path.display().to_string(), device)
        .map_err(|e| e.to_string())?;
    refuse_split_folders(dir)?;
    let (modality, classes, examples) = labelled_folder(dir).map_err(|e| e.to_string())?;
    // What was scored: a label file's test/ examples when its paths lie in split folders.
    let test = dir.join("test");
    let scored = match label_file(dir) {
        Ok(Some(_)) if examples.iter().all(|e| e.path.starts_with(&test)) => test,
        _ => dir.to_path_buf(),
    };
    let has_all = |t: &TaskInfo| classes.iter().all(|c| t.classes.contains(c));
    let task = choose_task(
        &trained,
        task,
        |t| t.modality == modality && has_all(t),
        || no_task_fits(&trained, modality, &classes, dir),
        dir,
    )?;
    if task.modality != modality {
        return Err(format!(
            "{}: {} inputs, but task {} takes {} inputs",
            dir.display(),
            modality.name(),
            task.name,
            task.modality.name()
        ));
    }
    let label: Vec<usize> = classes
        .iter()
        .map(|c| {
            task.classes.iter().position(|t| t == c).ok_or_else(|| {
                format!(
                    "{}: task {} has no class {c} (its classes: {})",
                    dir.join(c).display(),
                    task.name,
                    class_list(&task.classes)
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let mut relabelled = examples;
    for e in &mut relabelled {
        e.labels = e.labels.iter().map(|&c| label[c]).collect();
        e.labels.sort_unstable();
        if !task.multi_label && e.labels.len() != 1 {
            return Err(format!(
                "{}: {} classes, but task {} takes one class per example",
                e.path.display(),
                e.labels.len(),
                task.name
            ));
        }
    }
    if relabelled.iter().all(|e| e.labels.is_empty()) {
        return Err(format!(
            "{}: no example has a class, so there is nothing to score (mAP needs positives); \
             to see the model's scores, use polyvit predict",
            dir.display()
        ));
    }
    let format = task.file_format(as_is).map_err(|e| e.to_string())?;
    let n = relabelled.len();
    let labels = labels_of(&relabelled, task.classes.len(), task.multi_label);
    let files: Vec<PathBuf> = relabelled.into_iter().map(|e| e.path).collect();
    let preparation = format.preparation();
    let inputs = StreamedInputs::new(files.clone(), format.clone(), task.standardization);
    let test = Split::streamed(inputs, labels, task.classes.len(), &task.name)
        .map_err(|e| e.to_string())?;
    let dataset = task.dataset_testing(test);
    let score = evaluate(
        &trained.model,
        &dataset,
        "folder",
        &dataset.test,
        trained.device(),
    )
    .map_err(|e| every_unreadable_file(dir, &files, &format).unwrap_or(e))?;
    if let Some(preparation) = preparation {
        errln!("{}: {preparation} (--as-is: as they are)", task.name);
    }
    outln!(
        "{} on {} ({n} examples, {} {}): {} {:.3} (chance {:.3})",
        task.name,
        scored.display(),
        classes.len(),
        if classes.len() == 1 {
            "class"
        } else {
            "classes"
        },
        score.metric,
        score.value,
        score.chance
    );
    Ok(())
}
