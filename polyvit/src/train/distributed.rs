//! Data parallelism over the ranks of a [`Collective`]: the per-step gradient sum in one fused
//! buffer, the replicas' agreement checks (on the run at the start, on the parameters since),
//! and evaluation split over the ranks.

use super::batch;
use super::collective::{same_on_every_rank, shard, Collective};
use super::config::TrainConfig;
use super::evaluate::{eval_batch_size, logits_of_rows};
use crate::data::folder::Cache;
use crate::data::task_info::TaskInfo;
use crate::data::{Dataset, Split};
use crate::model::PolyVit;
use autograd::Gradients;
use nn::fnv::Fnv1a;
use nn::Parameters;
use tensor::{Device, Result, Tensor};

/// Sums `grads` and `losses` over the ranks with one collective call on one flat buffer: every
/// gradient (in the model's parameter order) followed by the losses. Each rank passes the
/// gradients and losses of its share of the batch weighted by that share, so the sums are the
/// gradients and losses of the whole batch. A single process keeps its values as they are.
pub fn sum_over_ranks(
    collective: &dyn Collective,
    model: &PolyVit,
    grads: &mut Gradients,
    losses: &mut [f64],
) -> Result<()> {
    if collective.size() == 1 {
        return Ok(());
    }
    let parameters = model.named_parameters();
    let mut send = Vec::new();
    for (_, p) in &parameters {
        if let Some(g) = grads.get(p.leaf()) {
            send.extend(g.to_vec::<f32>()?);
        }
    }
    let gradient_len = send.len();
    send.extend(losses.iter().map(|&l| l as f32));
    let mut sum = vec![0.0; send.len()];
    collective.sum_f32(&send, &mut sum);
    drop(send);
    let mut offset = 0;
    for (_, p) in &parameters {
        if let Some(g) = grads.get_mut(p.leaf()) {
            let len = g.numel();
            let summed = sum[offset..offset + len].to_vec();
            *g = Tensor::from_vec_on(summed, g.shape(), &g.device())?;
            offset += len;
        }
    }
    for (loss, &sum) in losses.iter_mut().zip(&sum[gradient_len..]) {
        *loss = sum as f64;
    }
    Ok(())
}

/// A 64-bit checksum (FNV-1a) of the bits of every parameter, in the model's order: replicas
/// that applied the same updates to the same start agree on it exactly.
pub fn parameter_checksum(model: &PolyVit) -> Result<u64> {
    let mut hash = Fnv1a::default();
    for (_, p) in model.named_parameters() {
        for value in p.value().to_vec::<f32>()? {
            hash.bytes(&value.to_bits().to_le_bytes());
        }
    }
    Ok(hash.value())
}

/// A 64-bit fingerprint (FNV-1a) of what the ranks of one run must share to take the same
/// steps: every setting of `config` but where files are and how they are cached (each machine
/// may keep the data, the suite and the pretrained file in its own place and decide on its own
/// memory), and the `step` the run starts from.
pub fn run_fingerprint(config: &TrainConfig, step: u64) -> std::result::Result<u64, String> {
    let mut shared = config.clone();
    shared.suite_dir = None;
    shared.init_from = None;
    for data in shared.tasks.iter_mut().filter_map(|t| t.data.as_mut()) {
        data.path.clear();
        data.cache = Cache::default();
        data.memory_budget_mib = None;
    }
    let text = toml::to_string(&shared).map_err(|e| e.to_string())?;
    Ok(fingerprint(&[text.as_bytes(), &step.to_le_bytes()]))
}

/// A 64-bit fingerprint (FNV-1a) of a task as its data made it: classes, labels, input form
/// and statistics ([`TaskInfo`]), which ranks reading the same files agree on.
pub fn task_fingerprint(info: &TaskInfo) -> std::result::Result<u64, String> {
    let text = serde_json::to_string(info).map_err(|e| e.to_string())?;
    Ok(fingerprint(&[text.as_bytes()]))
}

/// The FNV-1a hash of `parts`, one after the other.
fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash = Fnv1a::default();
    for part in parts {
        hash.bytes(part);
    }
    hash.value()
}

/// Whether every rank holds the same parameters (one collective call; a single process always
/// does).
pub fn replicas_agree(collective: &dyn Collective, model: &PolyVit) -> Result<bool> {
    if collective.size() == 1 {
        return Ok(true);
    }
    Ok(same_on_every_rank(collective, parameter_checksum(model)?))
}

/// The logits of every row of `split` on every rank, each rank computing its shard of the rows:
/// the shards are placed in a zeroed `[n, classes]` buffer and summed over the ranks, which
/// leaves each row's values exactly as its rank computed them.
pub fn sharded_logits(
    collective: &dyn Collective,
    model: &PolyVit,
    dataset: &Dataset,
    split: &Split,
    device: &Device,
) -> batch::Result<Vec<f32>> {
    let rows = shard(split.len(), collective.rank(), collective.size());
    let size = eval_batch_size(model, &dataset.name)?;
    let mine = logits_of_rows(model, dataset, split, rows.clone(), size, device)?;
    if collective.size() == 1 {
        return Ok(mine);
    }
    let classes = dataset.num_classes;
    let mut send = vec![0.0; split.len() * classes];
    send[rows.start * classes..rows.end * classes].copy_from_slice(&mine);
    let mut all = vec![0.0; send.len()];
    collective.sum_f32(&send, &mut all);
    Ok(all)
}
