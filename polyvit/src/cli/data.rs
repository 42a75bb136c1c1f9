//! `polyvit data tasks`: the built-in tasks; `polyvit data export`: an embedded task written
//! out as a folder of ordinary files.

use clap::{Args, Subcommand};
use polyvit::data::class_list;
use polyvit::data::export::{export_task, task_named};
use polyvit::data::suite::class_names::class_names;
use polyvit::data::{SuiteConfig, TaskId};
use polyvit::train::TrainConfig;
use std::path::PathBuf;

#[derive(Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
    /// List the built-in tasks (`--tasks` names them): each one's modality, classes, and its
    /// budget in the default run.
    Tasks,
    /// Write an embedded task (mnist, fashion_mnist, the video tasks, spoken_digits) into a new
    /// folder: train/, val/ and test/ with one subfolder per class of PNG images or clip
    /// folders of PNG frames; for spoken_digits, train/ (the synthetic voices) and test/ (the
    /// real recordings) of WAV clips, validation being carved from train/ when read back.
    /// `polyvit train --task NAME=DIR` reads it back.
    Export {
        /// The embedded task.
        task: String,
        /// The folder to create.
        dir: PathBuf,
    },
}

pub fn data(args: DataArgs) -> Result<(), String> {
    match args.command {
        DataCommand::Tasks => {
            print_tasks();
            Ok(())
        }
        DataCommand::Export { task, dir } => {
            let id = task_named(&task).map_err(|e| e.to_string())?;
            let written = export_task(id, &dir).map_err(|e| e.to_string())?;
            outln!("wrote {written} examples of {task} to {}", dir.display());
            Ok(())
        }
    }
}

/// Prints a table of the built-in tasks: name, modality, the default run's budget for each (or
/// why it is not in it) and classes.
fn print_tasks() {
    let default_run = TrainConfig::default();
    outln!(
        "{:<24} {:<6} {:<36} classes",
        "task",
        "input",
        "in the default run"
    );
    for id in TaskId::ALL {
        let names = class_names(id, &SuiteConfig::default());
        let classes = format!("{} ({})", names.len(), class_list(&names));
        let budget = match default_run.tasks.iter().find(|t| t.name == id.name()) {
            Some(t) => format!("{} steps × {}", t.steps, t.batch_size),
            None if id.needs_full_suite() => "no: the full suite's (--suite full)".into(),
            None => "no (train it with --tasks)".into(),
        };
        outln!(
            "{:<24} {:<6} {budget:<36} {classes}",
            id.name(),
            id.modality().name()
        );
    }
}
