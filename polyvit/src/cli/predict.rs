//! `polyvit predict`: the top classes of a trained model for the user's own files, through the
//! same preprocessing as training (the task descriptions stored in the checkpoint).

use super::report::load_checkpoint_file;
use clap::Args;
use polyvit::data::error::missing;
use polyvit::data::input_file::{accepted_inputs, modality_of, not_an_input, Input, InputFormat};
use polyvit::data::listing::{list_dir, FoldersSeen};
use polyvit::data::task_info::TaskInfo;
use polyvit::data::video_file::holds_only_audio;
use polyvit::data::{DataError, DataResult, Modality};
use polyvit::train::Trained;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tensor::Device;

// Negative numbers are values, refused by their flag as such, not taken for unknown flags.
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct PredictArgs {
    /// The checkpoint (written by `polyvit train`).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Only this task (default: every task of each file's modality).
    #[arg(long)]
    task: Option<String>,
    /// How many classes to print per file and task.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Print one JSON array instead of text.
    #[arg(long)]
    json: bool,
    /// Where to compute: cpu, opencl or opencl:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Read files as they are (pictures only resized, recordings not brought to the speech or
    /// drum form; a folder task's recordings are still heard in its window), even for a task
    /// whose training data was made in a form: glyphs on a plain background, trimmed speech, drum
    /// one-shots (by default new files are brought to that form first).
    #[arg(long)]
    as_is: bool,
    /// Images, audio files (WAV, FLAC, Ogg Vorbis, .au; MP3, M4A, Opus and more with the ffmpeg
    /// feature), video files (MP4, WebM, AVI, MKV, MOV; with the ffmpeg feature), folders of
    /// frames (clips, with a video --task) and folders to walk.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Inputs at least this many print their throughput.
const LARGE_BATCH: usize = 64;
/// Inputs decoded and scored at a time (bounds the memory of a large folder).
const CHUNK: usize = 256;

/// One class and its probability.
#[derive(Serialize)]
struct ClassScore {
    class: String,
    probability: f32,
}

/// One file's top classes under one task; `flat` when the input reached the task as one level
/// throughout (a blank picture, silence), so that the answer says nothing about it; `no_sound`
/// when a recording for a task of words or hits holds none that stands out of its background
/// (steady noise, a tone), so that the answer says little.
#[derive(Serialize)]
struct Prediction {
    file: String,
    task: String,
    top: Vec<ClassScore>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flat: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_sound: bool,
}

/// An input that could not be predicted, and why (in `--json` output, where it stands).
#[derive(Serialize)]
struct Failure {
    file: String,
    error: String,
}

/// One entry of the `--json` array: a prediction, or a failure.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry {
    Prediction(Prediction),
    Failure(Failure),
}

/// The inputs named on the command line for tasks of the `considered` modalities: files as
/// they are, folders walked (a folder of frames is one clip when video is considered and images
/// are not; with both, such a folder's frames are pictures, and the folder is counted in
/// `frame_folders`). Files of no known kind met while walking are counted in `skipped`, and
/// those of a modality not considered (a folder of pictures and recordings, with `--task`
/// naming an audio task) in `elsewhere`; a named file is kept whatever its modality, to be told
/// which tasks take it. A video file holding only a recording (a voice memo as MP4, a
/// browser's WebM recording) is a recording when video is not considered and audio is (FFmpeg
/// looks into each such file once the walk is done, several at a time: `probed`). A folder is
/// walked once: reached again through a link (a link to a folder above it would
/// otherwise be walked until the system's limit on nested links), it is counted in
/// `revisited`. A named path that is missing, or cannot be walked, is `unreadable`, with the
/// number of inputs found before it (so that it keeps its place among them): the others are
/// still predicted.
struct Inputs {
    considered: Vec<Modality>,
    found: Vec<(PathBuf, Modality)>,
    skipped: Vec<PathBuf>,
    elsewhere: Vec<(PathBuf, Modality)>,
    frame_folders: Vec<PathBuf>,
    walked: FoldersSeen,
    revisited: Vec<PathBuf>,
    /// The inputs found so far (files, and folders read as clips) by resolved path, where one
    /// can be had, with their index in `found`; and those met again: named twice, or named and
    /// also inside a named folder.
    met: HashMap<PathBuf, usize>,
    repeated: Vec<PathBuf>,
    unreadable: Vec<(usize, Failure)>,
    /// The video files of `found` that may hold only a recording: their index, and whether the
    /// command line named them.
    probed: Vec<(usize, bool)>,
}

impl Inputs {
    fn collect(paths: &[PathBuf], considered: Vec<Modality>) -> DataResult<Inputs> {
        let mut inputs = Inputs {
            considered,
            found: Vec::new(),
            skipped: Vec::new(),
            elsewhere: Vec::new(),
            frame_folders: Vec::new(),
            walked: FoldersSeen::default(),
            revisited: Vec::new(),
            met: HashMap::new(),
            repeated: Vec::new(),
            unreadable: Vec::new(),
            probed: Vec::new(),
        };
        for path in paths {
            let walked = match path.exists() {
                true => inputs.walk(path, true),
                false => Err(DataError::new(
                    path.display().to_string(),
                    missing(path, "file or folder"),
                )),
            };
            if let Err(e) = walked {
                let failure = Failure {
                    file: path.display().to_string(),
                    error: e.to_string(),
                };
                inputs.unreadable.push((inputs.found.len(), failure));
            }
        }
        inputs.settle_recordings();
        if inputs.found.is_empty() && inputs.unreadable.is_empty() {
            let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let problem = match inputs.elsewhere.is_empty() {
                true => format!("nothing in it is {}", accepted_inputs()),
                false => format!(
                    "it holds only {} inputs, and the tasks take {} inputs",
                    modality_names(&inputs.elsewhere_modalities()),
                    modality_names(&inputs.considered)
                ),
            };
            return Err(DataError::new(
                named.join(", "),
                format!("holds nothing to predict: {problem}"),
            ));
        }
        Ok(inputs)
    }

    fn considers(&self, modality: Modality) -> bool {
        self.considered.contains(&modality)
    }

    /// Asks FFmpeg which of the `probed` video files hold only a recording, on every core (one
    /// child process each): those become audio inputs; the others stay video inputs if named,
    /// and are otherwise left out as `elsewhere`, in the order they were found.
    fn settle_recordings(&mut self) {
        let only_audio: Vec<bool> = (self.probed.par_iter())
            .map(|&(i, _)| holds_only_audio(&self.found[i].0))
            .collect();
        let mut left_out = vec![false; self.found.len()];
        for (&(i, named), only_audio) in self.probed.iter().zip(only_audio) {
            match only_audio {
                true => self.found[i].1 = Modality::Audio,
                false => left_out[i] = !named,
            }
        }
        // Each unreadable path keeps its place: after the inputs before it that stay.
        let mut kept_before = vec![0; left_out.len() + 1];
        for (i, &out) in left_out.iter().enumerate() {
            kept_before[i + 1] = kept_before[i] + usize::from(!out);
        }
        for (place, _) in &mut self.unreadable {
            *place = kept_before[*place];
        }
        let found = std::mem::take(&mut self.found);
        for (input, left_out) in found.into_iter().zip(left_out) {
            match left_out {
                true => self.elsewhere.push(input),
                false => self.found.push(input),
            }
        }
        self.probed.clear();
    }

    /// The modalities of the files left out as `elsewhere`, each once.
    fn elsewhere_modalities(&self) -> Vec<Modality> {
        let mut modalities = Vec::new();
        for (_, m) in &self.elsewhere {
            if !modalities.contains(m) {
                modalities.push(*m);
            }
        }
        modalities
    }

    /// Adds the input at `path` to `found` (and to `probed` when `probe`), once: a later
    /// meeting of the same input is recorded as `repeated`, and one that names it marks a
    /// probed video as named. A path that cannot be resolved (a broken link) counts as itself,
    /// and fails where it is read.
    fn find(&mut self, path: &Path, modality: Modality, named: bool, probe: bool) {
        let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        match self.met.get(&resolved) {
            Some(&index) => {
                self.repeated.push(path.to_path_buf());
                if let Some(probe) = self.probed.iter_mut().find(|(i, _)| *i == index) {
                    probe.1 |= named;
                }
            }
            None => {
                self.met.insert(resolved, self.found.len());
                if probe {
                    self.probed.push((self.found.len(), named));
                }
                self.found.push((path.to_path_buf(), modality));
            }
        }
    }

    fn walk(&mut self, path: &Path, named: bool) -> DataResult<()> {
        let modality = modality_of(path)?;
        if path.is_dir() {
            let clips = self.considers(Modality::Video) && !self.considers(Modality::Image);
            if modality == Some(Modality::Video) {
                if clips {
                    self.find(path, Modality::Video, named, false);
                    return Ok(());
                }
                if self.considers(Modality::Video) {
                    self.frame_folders.push(path.to_path_buf());
                }
            }
            if !self.walked.first_visit(path)? {
                self.revisited.push(path.to_path_buf());
                return Ok(());
            }
            for entry in list_dir(path)? {
                self.walk(&entry, false)?;
            }
            return Ok(());
        }
        match modality {
            Some(Modality::Video)
                if !self.considers(Modality::Video) && self.considers(Modality::Audio) =>
            {
                self.find(path, Modality::Video, named, true)
            }
            Some(m) if named || self.considers(m) => self.find(path, m, named, false),
            Some(m) => self.elsewhere.push((path.to_path_buf(), m)),
            None if named => {
                return Err(DataError::new(
                    path.display().to_string(),
                    not_an_input(path),
                ))
            }
            None => self.skipped.push(path.to_path_buf()),
        }
        Ok(())
    }
}

/// The `k` most probable classes of one row of probabilities.
fn top_k(task: &TaskInfo, row: &[f32], k: usize) -> Vec<ClassScore> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order
        .into_iter()
        .take(k)
        .map(|c| ClassScore {
            class: task.classes[c].clone(),
            probability: row[c],
        })
        .collect()
}

/// One file's input for one task as read, or why it could not be.
type ReadInput = DataResult<Input>;

/// One task's predictions for `inputs` (each file and its input as read, or why it could not
/// be), one per file in order: a file that could not be read keeps its error, and the others are
/// still scored; a prediction is `flat` when its input reached the task as one level throughout,
/// `no_sound` when it is a recording of noise alone (see [`Prediction`]). A file whose
/// probabilities are not numbers (a NaN or infinite logit) gets an error, not classes ranked by
/// NaN.
fn score_task(
    trained: &Trained,
    task: &TaskInfo,
    inputs: &[(&Path, &ReadInput)],
    k: usize,
) -> Result<Vec<Result<Prediction, String>>, String> {
    let read = inputs.iter().filter(|(_, d)| d.is_ok()).count();
    let values = inputs
        .iter()
        .filter_map(|(_, d)| d.as_ref().ok())
        .flat_map(|input| &input.values)
        .copied()
        .collect();
    let probabilities = match read {
        0 => Vec::new(),
        _ => trained
            .probabilities(task, values, read)
            .map_err(|e| e.to_string())?,
    };
    let mut rows = probabilities.chunks_exact(task.classes.len());
    Ok((inputs.iter())
        .map(|(file, input)| match input {
            Ok(input) => {
                let row = rows.next().expect("a row per file read");
                if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                    return Err(format!(
                        "task {}: the model's output for it is not a number ({v}): the weights \
                         or the input hold values out of range",
                        task.name
                    ));
                }
                Ok(Prediction {
                    file: file.display().to_string(),
                    task: task.name.clone(),
                    top: top_k(task, row, k),
                    flat: input.values.iter().all(|&v| v == input.values[0]),
                    no_sound: input.no_sound,
                })
            }
            Err(e) => Err(e.to_string()),
        })
        .collect())
}

/// Says that `count` of the files task `task` scored (the first: `first`) reached it as one
/// level throughout, so that its answers for them say nothing about them: a blank picture, or
/// one whose ink lies less than a tenth of full scale from its background (the glyph forms
/// take such a picture for a blank one); silence; a clip of one flat colour.
fn print_flat_note(task: &TaskInfo, count: usize, first: &Path) {
    let what = match task.modality {
        Modality::Image => {
            "blank: nothing stands out from the background (or the ink is fainter than a tenth \
             of full scale: stretch the contrast of a faint picture)"
        }
        Modality::Audio => "silent",
        Modality::Video => "one flat level throughout",
    };
    let name = &task.name;
    match count {
        1 => errln!(
            "note: task {name}: {} is {what}, so its prediction says nothing",
            first.display()
        ),
        _ => errln!(
            "note: task {name}: {count} inputs are {what}, so their predictions say nothing \
             (the first: {})",
            first.display()
        ),
    }
}

/// Says that `count` of the recordings task `task` scored (the first: `first`) hold no sound
/// that stands out of their background, though the task's recordings are words or hits: its
/// answers for them are about noise.
fn print_no_sound_note(task: &TaskInfo, count: usize, first: &Path) {
    let name = &task.name;
    let noise = "(steady noise or a tone throughout)";
    match count {
        1 => errln!(
            "note: task {name}: {} holds no sound that stands out of its background {noise}, so \
             its prediction says little",
            first.display()
        ),
        _ => errln!(
            "note: task {name}: {count} recordings hold no sound that stands out of their \
             background {noise}, so their predictions say little (the first: {})",
            first.display()
        ),
    }
}

/// The tasks (indices into the checkpoint's) that score an input of `modality`: the chosen one
/// (which must take it) or every task of that modality.
fn tasks_for(
    trained: &Trained,
    chosen: Option<usize>,
    file: &Path,
    modality: Modality,
) -> Result<Vec<usize>, String> {
    match chosen.map(|c| (c, &trained.tasks[c])) {
        Some((_, t)) if t.modality != modality => Err(format!(
            "{}: {} input, but task {} takes {} inputs",
            file.display(),
            modality.with_article(),
            t.name,
            t.modality.name()
        )),
        Some((c, _)) => Ok(vec![c]),
        None => {
            let tasks: Vec<usize> = (0..trained.tasks.len())
                .filter(|&t| trained.tasks[t].modality == modality)
                .collect();
            if tasks.is_empty() {
                return Err(format!(
                    "{}: no task of the checkpoint takes {} inputs",
                    file.display(),
                    modality.name()
                ));
            }
            Ok(tasks)
        }
    }
}

/// What scoring the inputs gave: each input's predictions (in the checkpoint's task order), and
/// per task the inputs it read, those that reached it as one level throughout, and the
/// recordings of other inputs in which no sound stands out.
struct Scored<'f> {
    per_file: Vec<Vec<Prediction>>,
    read: Vec<usize>,
    flat: Vec<Vec<&'f Path>>,
    no_sound: Vec<Vec<&'f Path>>,
}

/// Scores each of `files` with its `routes`' tasks (indices into the checkpoint's, whose input
/// formats are `formats`), chunk by chunk: each chunk's files decoded on every core, each file
/// once for all of its tasks (a recording is decoded and resampled once however many audio tasks
/// score it), then scored task by task. A file that cannot be read gets its first error in
/// `failed` (indexed as `files`), and the others are still scored.
fn score_files<'f>(
    trained: &Trained,
    formats: &[InputFormat],
    files: &'f [(PathBuf, Modality)],
    routes: &[Result<Vec<usize>, String>],
    top: usize,
    failed: &mut [Option<String>],
) -> Result<Scored<'f>, String> {
    let tasks = trained.tasks.len();
    let mut scored = Scored {
        per_file: files.iter().map(|_| Vec::new()).collect(),
        read: vec![0; tasks],
        flat: vec![Vec::new(); tasks],
        no_sound: vec![Vec::new(); tasks],
    };
    let routed: Vec<(usize, &[usize])> = (routes.iter().enumerate())
        .filter_map(|(i, r)| r.as_ref().ok().map(|tasks| (i, tasks.as_slice())))
        .collect();
    for chunk in routed.chunks(CHUNK) {
        let decoded: Vec<Vec<ReadInput>> = chunk
            .par_iter()
            .map(|&(i, tasks)| {
                let formats: Vec<&InputFormat> = tasks.iter().map(|&t| &formats[t]).collect();
                InputFormat::load_each(&files[i].0, &formats)
            })
            .collect();
        for (t, task) in trained.tasks.iter().enumerate() {
            let (indices, inputs): (Vec<usize>, Vec<(&Path, &ReadInput)>) = chunk
                .iter()
                .zip(&decoded)
                .filter_map(|(&(i, tasks), loaded)| {
                    let at = tasks.iter().position(|&u| u == t)?;
                    Some((i, (files[i].0.as_path(), &loaded[at])))
                })
                .unzip();
            let predictions = score_task(trained, task, &inputs, top)?;
            scored.read[t] += predictions.iter().filter(|p| p.is_ok()).count();
            for (i, p) in indices.into_iter().zip(predictions) {
                match p {
                    Ok(p) => {
                        if p.flat {
                            scored.flat[t].push(&files[i].0);
                        } else if p.no_sound {
                            scored.no_sound[t].push(&files[i].0);
                        }
                        scored.per_file[i].push(p)
                    }
                    Err(e) => failed[i] = failed[i].take().or(Some(e)),
                }
            }
        }
    }
    Ok(scored)
}

/// The names of `modalities`, joined with "or".
fn modality_names(modalities: &[Modality]) -> String {
    let names: Vec<&str> = modalities.iter().map(|m| m.name()).collect();
    names.join(" or ")
}

/// The notes on what was left out of the inputs named on the command line, or read otherwise
/// than the checkpoint's video task (`video_task`, if any) would read it.
fn print_skipped(inputs: &Inputs, video_task: Option<&str>) {
    if let Some((first, _)) = inputs.elsewhere.first() {
        errln!(
            "skipped {} file(s) that no task here takes (they take {} inputs; the first: {})",
            inputs.elsewhere.len(),
            modality_names(&inputs.considered),
            first.display()
        );
    }
    if let (Some(first), Some(video)) = (inputs.frame_folders.first(), video_task) {
        errln!(
            "note: the pictures in {} folder(s) were each read as one picture, for the image \
             tasks (the first folder: {}); where a folder holds a clip's frames, --task {video} \
             reads it as one clip",
            inputs.frame_folders.len(),
            first.display(),
        );
    }
    // A link whose target is gone is no file of any kind: said as such.
    let (broken, other): (Vec<&PathBuf>, Vec<&PathBuf>) =
        (inputs.skipped.iter()).partition(|p| p.is_symlink() && !p.exists());
    if let Some(first) = other.first() {
        errln!(
            "skipped {} file(s) that are not {} (the first: {})",
            other.len(),
            accepted_inputs(),
            first.display()
        );
    }
    if let Some(first) = broken.first() {
        errln!(
            "skipped {} broken link(s), whose target does not exist (the first: {})",
            broken.len(),
            first.display()
        );
    }
    if let Some(first) = inputs.revisited.first() {
        errln!(
            "skipped {} folder(s) walked once already, named twice or reached again through a \
             link (the first: {})",
            inputs.revisited.len(),
            first.display()
        );
    }
    if let Some(first) = inputs.repeated.first() {
        errln!(
            "predicted {} input(s) once that were named twice, or named and also inside a named \
             folder (the first: {})",
            inputs.repeated.len(),
            first.display()
        );
    }
}

/// The predictions as text, one line per file and task (failures are told on stderr).
fn render_text(predictions: &[&Prediction]) -> String {
    (predictions.iter())
        .map(|p| {
            let top: Vec<String> = (p.top.iter())
                .map(|c| format!("{} {:.3}", c.class, c.probability))
                .collect();
            format!("{} [{}] {}\n", p.file, p.task, top.join(", "))
        })
        .collect()
}

/// The command's outcome for `n` inputs, of which those in `failed` could not be predicted:
/// a lone failing input is the error itself; several are each printed, then counted.
fn outcome(mut failed: Vec<String>, n: usize) -> Result<(), String> {
    match failed.len() {
        0 => Ok(()),
        1 if n == 1 => Err(failed.remove(0)),
        count => {
            for problem in &failed {
                errln!("error: {problem}");
            }
            Err(match n - count {
                0 => format!("none of the {n} inputs could be predicted (each named above)"),
                1 => format!(
                    "{count} of the {n} inputs could not be predicted (each named above); the \
                     other one was"
                ),
                read => format!(
                    "{count} of the {n} inputs could not be predicted (each named above); the \
                     other {read} were"
                ),
            })
        }
    }
}

pub fn predict(args: PredictArgs) -> Result<(), String> {
    if args.top == 0 {
        return Err("--top 0: print at least one class".into());
    }
    let device = Device::parse(&args.device).map_err(|e| e.to_string())?;
    let checkpoint = load_checkpoint_file(&args.checkpoint)?;
    let origin = args.checkpoint.display().to_string();
    let trained = Trained::load(&checkpoint, &origin, &device).map_err(|e| e.to_string())?;
    let chosen = match args.task.as_deref() {
        Some(name) => {
            let task = trained.task(name)?;
            trained.tasks.iter().position(|t| t.name == task.name)
        }
        None => None,
    };
    let mut considered: Vec<Modality> = Vec::new();
    for (t, task) in trained.tasks.iter().enumerate() {
        if chosen.is_none_or(|c| c == t) && !considered.contains(&task.modality) {
            considered.push(task.modality);
        }
    }
    let inputs = Inputs::collect(&args.files, considered).map_err(|e| e.to_string())?;
    let video_task = trained.tasks.iter().find(|t| t.modality == Modality::Video);
    print_skipped(&inputs, video_task.map(|t| t.name.as_str()));
    let started = Instant::now();
    let formats: Vec<InputFormat> = (trained.tasks.iter())
        .map(|t| t.file_format(args.as_is).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    // Each file's tasks, or why none can score it.
    let routes: Vec<Result<Vec<usize>, String>> = (inputs.found.iter())
        .map(|(file, modality)| tasks_for(&trained, chosen, file, *modality))
        .collect();
    let mut failed: Vec<Option<String>> =
        routes.iter().map(|r| r.as_ref().err().cloned()).collect();
    let scored = score_files(
        &trained,
        &formats,
        &inputs.found,
        &routes,
        args.top,
        &mut failed,
    )?;
    for (t, task) in trained.tasks.iter().enumerate() {
        if let Some(preparation) = formats[t].preparation().filter(|_| scored.read[t] > 0) {
            errln!("task {}: {preparation} (--as-is: as they are)", task.name);
        }
        if let Some(first) = scored.flat[t].first() {
            print_flat_note(task, scored.flat[t].len(), first);
        }
        if let Some(first) = scored.no_sound[t].first() {
            print_no_sound_note(task, scored.no_sound[t].len(), first);
        }
    }
    // In input order: each input's predictions and, if it failed, its failure, with each named
    // path that could not be walked in its place among them.
    let mut entries: Vec<Entry> = Vec::new();
    let unreadable = inputs.unreadable.len();
    let mut unread = inputs.unreadable.into_iter().peekable();
    let mut before = |i: usize, entries: &mut Vec<Entry>| {
        while let Some((_, failure)) = unread.next_if(|(place, _)| *place <= i) {
            entries.push(Entry::Failure(failure));
        }
    };
    let found = inputs.found.iter().zip(scored.per_file).zip(failed);
    for (i, (((file, _), predictions), error)) in found.enumerate() {
        before(i, &mut entries);
        entries.extend(predictions.into_iter().map(Entry::Prediction));
        if let Some(error) = error {
            let file = file.display().to_string();
            entries.push(Entry::Failure(Failure { file, error }));
        }
    }
    before(usize::MAX, &mut entries);
    match args.json {
        true => out!(
            "{}\n",
            serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?
        ),
        false => {
            let predictions: Vec<&Prediction> = (entries.iter())
                .filter_map(|e| match e {
                    Entry::Prediction(p) => Some(p),
                    Entry::Failure(_) => None,
                })
                .collect();
            out!("{}", render_text(&predictions));
        }
    }
    let n = inputs.found.len() + unreadable;
    if n >= LARGE_BATCH {
        let seconds = started.elapsed().as_secs_f64();
        errln!(
            "{n} files in {seconds:.1} s ({:.1} files/s)",
            n as f64 / seconds.max(1e-9)
        );
    }
    let failed = (entries.into_iter())
        .filter_map(|e| match e {
            Entry::Failure(f) => Some(f.error),
            Entry::Prediction(_) => None,
        })
        .collect();
    outcome(failed, n)
}
