//! `polyvit data export`: an embedded task written out as a folder of ordinary files.

use clap::{Args, Subcommand};
use polyvit::data::export::{export_task, task_named};
use std::path::PathBuf;

#[derive(Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
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
        DataCommand::Export { task, dir } => {
            let id = task_named(&task).map_err(|e| e.to_string())?;
            let written = export_task(id, &dir).map_err(|e| e.to_string())?;
            outln!("wrote {written} examples of {task} to {}", dir.display());
            Ok(())
        }
    }
}
