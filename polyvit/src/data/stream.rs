//! Inputs decoded from their files when a batch needs them, for tasks too large to hold decoded
//! in memory. Files are decoded on a pool of decode threads of their own (so decoding runs next
//! to the training step's own threads, as a PyTorch `DataLoader`'s workers do), and a batch can
//! be asked for ahead of time ([`StreamedInputs::prefetch`]): the training loop asks for the next
//! steps' batches before it computes the current one, so decoding overlaps the step. Decoding is
//! a pure function of the file, so a batch has the same values whether it was prefetched,
//! decoded on the spot, or held in memory.

use super::dataset::Standardization;
use super::error::{DataError, DataResult, Problems};
use super::input_file::InputFormat;
use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex, OnceLock};

/// Batches asked for ahead at most, per split; older requests nobody collected are dropped.
const MAX_PENDING: usize = 8;

/// The decode threads: one per core, created on first use and shared by every streamed split.
fn decode_pool() -> DataResult<&'static ThreadPool> {
    static POOL: OnceLock<Result<ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        ThreadPoolBuilder::new()
            .thread_name(|i| format!("polyvit-decode-{i}"))
            // A prefetch that panics drops its sender instead of aborting the process: `gather`
            // then decodes the batch itself, and the panic reaches its caller as it would in
            // memory mode.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| DataError::new("decode threads", format!("cannot start them: {e}")))
}

/// Decodes `paths` on the decode threads, calling `done` after each file; the results are in
/// the order of `paths`.
pub fn load_in_parallel(
    format: &InputFormat,
    paths: &[&Path],
    done: &(dyn Fn() + Sync),
) -> DataResult<Vec<DataResult<Vec<f32>>>> {
    Ok(decode_pool()?.install(|| {
        paths
            .par_iter()
            .map(|path| {
                let input = format.load(path);
                done();
                input
            })
            .collect()
    }))
}

/// The deepest folder that holds every one of `paths` (empty when they share none).
fn common_folder(paths: &[&Path]) -> PathBuf {
    let mut folder = paths
        .first()
        .and_then(|p| p.parent())
        .unwrap_or(Path::new(""));
    while !paths.iter().all(|p| p.starts_with(folder)) {
        folder = folder.parent().unwrap_or(Path::new(""));
    }
    folder.to_path_buf()
}

/// What decoding one example needs: its file, the input format and the standardization.
#[derive(Debug)]
struct Decoder {
    files: Vec<PathBuf>,
    format: InputFormat,
    standardization: Standardization,
}

impl Decoder {
    /// The standardized inputs of `indices`, one after the other; the files that fail to
    /// decode are the error, named together ([`Problems`]) under the folder that holds them.
    fn decode(&self, indices: &[usize]) -> DataResult<Vec<f32>> {
        let paths: Vec<&Path> = indices.iter().map(|&i| self.files[i].as_path()).collect();
        let inputs = load_in_parallel(&self.format, &paths, &|| {})?;
        let mut out =
            Vec::with_capacity(indices.len() * self.format.shape().iter().product::<usize>());
        let mut problems = Problems::default();
        for input in inputs {
            if let Some(input) = problems.keep(input) {
                out.extend(input);
            }
        }
        problems.into_result(&common_folder(&paths))?;
        self.standardization.apply(&mut out);
        Ok(out)
    }
}

/// A batch being decoded in the background.
struct Pending {
    indices: Vec<usize>,
    result: Receiver<DataResult<Vec<f32>>>,
}

/// The inputs of a split kept as a list of files, decoded (and standardized) on demand.
pub struct StreamedInputs {
    decoder: Arc<Decoder>,
    pending: Mutex<VecDeque<Pending>>,
}

impl StreamedInputs {
    /// The inputs of `files`, read through `format` and standardized by `standardization`.
    pub fn new(files: Vec<PathBuf>, format: InputFormat, standardization: Standardization) -> Self {
        Self {
            decoder: Arc::new(Decoder {
                files,
                format,
                standardization,
            }),
            pending: Mutex::new(VecDeque::new()),
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.decoder.files.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.decoder.files.is_empty()
    }

    /// Number of values in one example.
    pub fn example_len(&self) -> usize {
        self.decoder.format.shape().iter().product()
    }

    /// Starts decoding examples `indices` (all below [`StreamedInputs::len`]) on the decode
    /// threads, unless a request for exactly these is already pending.
    pub fn prefetch(&self, indices: &[usize]) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.iter().any(|p| p.indices == indices) {
            return;
        }
        let Ok(pool) = decode_pool() else {
            // Without decode threads, `gather` reports the error when the batch is needed.
            return;
        };
        let (send, result) = channel();
        let (decoder, wanted) = (Arc::clone(&self.decoder), indices.to_vec());
        // A receiver dropped as stale makes the send fail, which is nothing to report.
        pool.spawn(move || drop(send.send(decoder.decode(&wanted))));
        if pending.len() == MAX_PENDING {
            pending.pop_front();
        }
        pending.push_back(Pending {
            indices: indices.to_vec(),
            result,
        });
    }

    /// The standardized inputs of examples `indices` (all below [`StreamedInputs::len`]): the
    /// pending request for exactly these, waited for (requests older than it are dropped, as
    /// nobody will ask for them any more), else decoded now.
    pub fn gather(&self, indices: &[usize]) -> DataResult<Vec<f32>> {
        let request = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match pending.iter().position(|p| p.indices == indices) {
                Some(k) => {
                    pending.drain(..k);
                    pending.pop_front()
                }
                None => None,
            }
        };
        match request.map(|p| p.result.recv()) {
            Some(Ok(result)) => result,
            // No request, or its decoding thread died: decode here, which reports any error.
            _ => self.decoder.decode(indices),
        }
    }
}

impl fmt::Debug for StreamedInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamedInputs")
            .field("decoder", &self.decoder)
            .finish_non_exhaustive()
    }
}

impl PartialEq for StreamedInputs {
    /// The same files, read and standardized the same way.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.decoder, &other.decoder);
        a.files == b.files
            && a.standardization == b.standardization
            && a.format.modality() == b.format.modality()
            && a.format.shape() == b.format.shape()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Modality;
    use crate::data::image_file::Fit;
    use crate::data::test_util::temp_path;
    use image::{GrayImage, Luma};

    /// Six grey 5×3 PNGs of brightness 0, 40, …, 200 in a fresh folder.
    fn pngs(name: &str) -> Vec<PathBuf> {
        let dir = temp_path(name);
        std::fs::create_dir_all(&dir).unwrap();
        (0..6u8)
            .map(|i| {
                let path = dir.join(format!("{i}.png"));
                GrayImage::from_fn(5, 3, |x, _| Luma([i * 40 + x as u8]))
                    .save(&path)
                    .unwrap();
                path
            })
            .collect()
    }

    fn streamed(files: &[PathBuf]) -> (StreamedInputs, impl Fn(&[usize]) -> Vec<f32> + '_) {
        let format = InputFormat::new(Modality::Image, &[1, 2, 4], Fit::Resize).unwrap();
        let standardization = Standardization {
            mean: 0.5,
            std: 0.25,
        };
        let inputs = StreamedInputs::new(files.to_vec(), format.clone(), standardization);
        let want = move |indices: &[usize]| {
            let mut values: Vec<f32> = indices
                .iter()
                .flat_map(|&i| format.load(&files[i]).unwrap())
                .collect();
            standardization.apply(&mut values);
            values
        };
        (inputs, want)
    }

    fn pending(inputs: &StreamedInputs) -> Vec<Vec<usize>> {
        let pending = inputs.pending.lock().unwrap();
        pending.iter().map(|p| p.indices.clone()).collect()
    }

    #[test]
    fn prefetched_and_direct_batches_are_the_decoded_files() {
        let files = pngs("stream-batches");
        let (inputs, want) = streamed(&files);
        assert_eq!((inputs.len(), inputs.example_len()), (6, 8));
        assert_eq!(inputs.gather(&[3, 1]).unwrap(), want(&[3, 1]));
        inputs.prefetch(&[0, 5]);
        inputs.prefetch(&[2]);
        inputs.prefetch(&[0, 5]);
        assert_eq!(pending(&inputs), [vec![0, 5], vec![2]], "asked once each");
        // Asking for the second drops the first: the loop has gone past it.
        assert_eq!(inputs.gather(&[2]).unwrap(), want(&[2]));
        assert!(pending(&inputs).is_empty());
        for k in 0..MAX_PENDING + 2 {
            inputs.prefetch(&[k % 6, k / 6]);
        }
        let left = pending(&inputs);
        assert_eq!((left.len(), left[0].clone()), (MAX_PENDING, vec![2, 0]));
        assert_eq!(inputs.gather(&[3, 1]).unwrap(), want(&[3, 1]));
        assert_eq!(pending(&inputs).len(), 0);
    }

    #[test]
    fn a_file_that_stops_decoding_is_an_error_naming_it() {
        let files = pngs("stream-broken");
        let (inputs, _) = streamed(&files);
        std::fs::write(&files[4], b"not a png any more").unwrap();
        inputs.prefetch(&[1, 4]);
        for _ in 0..2 {
            let err = inputs.gather(&[1, 4]).unwrap_err();
            assert_eq!(err.origin, files[4].display().to_string());
        }
        // Two in one batch are named together, under their folder.
        std::fs::write(&files[2], b"").unwrap();
        let err = inputs.gather(&[4, 1, 2]).unwrap_err();
        let folder = files[0].parent().unwrap();
        assert_eq!(err.origin, folder.display().to_string());
        assert!(err.problem.starts_with("2 problems:"), "{err}");
        for broken in [&files[4], &files[2]] {
            assert!(err.problem.contains(&broken.display().to_string()), "{err}");
        }
    }

    #[test]
    fn the_common_folder_is_the_deepest_shared_one() {
        let folder = |paths: &[&str]| {
            let paths: Vec<&Path> = paths.iter().map(Path::new).collect();
            common_folder(&paths)
        };
        assert_eq!(folder(&["/d/a/1.png", "/d/a/2.png"]), Path::new("/d/a"));
        assert_eq!(folder(&["/d/a/1.png", "/d/b/2.png"]), Path::new("/d"));
        assert_eq!(folder(&["/d/1.png", "/e/2.png"]), Path::new("/"));
        assert_eq!(folder(&["a/1.png", "/e/2.png"]), Path::new(""));
    }
}
