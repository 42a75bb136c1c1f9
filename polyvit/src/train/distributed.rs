//! Data parallelism over the ranks of a [`Collective`]: the per-step gradient sum in one fused
//! buffer, the replicas' agreement checks (on the run at the start, on the parameters since),
//! and evaluation split over the ranks.

use super::batch;
use super::collective::{agreed, first_disagreement, same_on_every_rank, shard, Collective};
use super::config::TrainConfig;
use super::evaluate::{eval_batch_size, logits_of_rows};
use crate::data::folder::Cache;
use crate::data::task_info::TaskInfo;
use crate::data::{DataError, Dataset, Split};
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

/// What the ranks of one run must share to take the same steps, as `(name, value)` pairs in a
/// fixed order: every setting of `config` (`seed`, `model.width`, `task[mnist].lr`, ...) but where
/// files are and how they are cached (each machine may keep the data, the suite and the
/// pretrained file in its own place and decide on its own memory), the order of the tasks
/// (settings are named by task, so an order is no one setting's) and the `step` the run starts
/// from.
fn shared_settings(
    config: &TrainConfig,
    step: u64,
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut shared = config.clone();
    shared.suite_dir = None;
    shared.init_from = None;
    for data in shared.tasks.iter_mut().filter_map(|t| t.data.as_mut()) {
        data.path.clear();
        data.cache = Cache::default();
        data.memory_budget_mib = None;
    }
    let mut settings = Vec::new();
    flatten(
        "",
        &toml::Value::try_from(&shared).map_err(|e| e.to_string())?,
        &mut settings,
    );
    let order: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
    settings.push(("the order of the tasks".into(), order.join(", ")));
    settings.push(("the step the run starts from".into(), step.to_string()));
    Ok(settings)
}

/// `value`'s settings, each under its dotted name below `prefix` (an array of tables by each
/// table's `name`, else by index: `task[mnist].steps`).
fn flatten(prefix: &str, value: &toml::Value, settings: &mut Vec<(String, String)>) {
    let name = |key: &str| match prefix {
        "" => key.to_string(),
        _ => format!("{prefix}.{key}"),
    };
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                flatten(&name(key), value, settings);
            }
        }
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(|v| v.is_table()) => {
            for (i, item) in items.iter().enumerate() {
                let key = match item.get("name").and_then(|n| n.as_str()) {
                    Some(name) => name.to_string(),
                    None => i.to_string(),
                };
                flatten(&format!("{prefix}[{key}]"), item, settings);
            }
        }
        other => settings.push((prefix.to_string(), other.to_string())),
    }
}

/// A 64-bit fingerprint (FNV-1a) of the settings the ranks of one run must share: every setting
/// of `config` but where files are and how they are cached, and the `step` the run starts from.
pub fn run_fingerprint(config: &TrainConfig, step: u64) -> std::result::Result<u64, String> {
    let settings = shared_settings(config, step)?;
    let parts: Vec<&[u8]> = (settings.iter())
        .flat_map(|(name, value)| [name.as_bytes(), b"=", value.as_bytes(), b"\0"])
        .collect();
    Ok(fingerprint(&parts))
}

/// For ranks whose [`run_fingerprint`]s differ: the first of rank 0's shared settings that some
/// rank holds otherwise, as its name and this rank's value (`None` when the ranks differ only
/// in settings rank 0 does not have). Rank 0 sends the settings' names; every rank must call it.
pub fn first_differing_setting(
    collective: &dyn Collective,
    config: &TrainConfig,
    step: u64,
) -> std::result::Result<Option<(String, String)>, String> {
    let settings = shared_settings(config, step)?;
    let mut names: Vec<u8> = (settings.iter().map(|(n, _)| n.as_str()))
        .collect::<Vec<_>>()
        .join("\0")
        .into_bytes();
    collective.broadcast_bytes(&mut names);
    let names = String::from_utf8_lossy(&names).into_owned();
    let names: Vec<&str> = names.split('\0').collect();
    let values = setting_values(&names, &settings);
    Ok(first_disagreement(collective, &values).map(|i| {
        (
            names[i].to_string(),
            value_of(&settings, names[i]).to_string(),
        )
    }))
}

/// This rank's value of the setting `name`, or "(not set)".
fn value_of<'s>(settings: &'s [(String, String)], name: &str) -> &'s str {
    (settings.iter().find(|(n, _)| n == name)).map_or("(not set)", |(_, v)| v.as_str())
}

/// A fingerprint of this rank's value of each setting of `names` ([`value_of`]).
fn setting_values(names: &[&str], settings: &[(String, String)]) -> Vec<u64> {
    (names.iter())
        .map(|name| fingerprint(&[value_of(settings, name).as_bytes()]))
        .collect()
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
/// leaves each row's values exactly as its rank computed them. A rank that cannot compute its
/// shard (a streamed file only it reads, gone) makes it an error on every rank ([`agreed`]).
pub fn sharded_logits(
    collective: &dyn Collective,
    model: &PolyVit,
    dataset: &Dataset,
    split: &Split,
    device: &Device,
) -> batch::Result<Vec<f32>> {
    let rows = shard(split.len(), collective.rank(), collective.size());
    let size = eval_batch_size(model, &dataset.name)?;
    let mine = agreed(
        collective,
        logits_of_rows(model, dataset, split, rows.clone(), size, device),
        || another_rank_failed(&dataset.name),
    )?;
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

/// The error of a rank whose own part of `task`'s data read, when another rank's did not: a
/// data error, so the run is saved as it stands and can go on once the files read again.
pub fn another_rank_failed(task: &str) -> super::RunError {
    super::RunError::Data(DataError::new(
        format!("task {task}"),
        "another rank could not read its part of the data (its message names the file)",
    ))
}

#[cfg(test)]
mod tests {
    use super::super::collective::BesideAnotherRank;
    use super::*;

    /// What `first_differing_setting` on rank 0 with `here` meets when the other rank runs
    /// `there` from step `there_step`.
    fn against(
        here: &TrainConfig,
        there: &TrainConfig,
        there_step: u64,
    ) -> Option<(String, String)> {
        let ours = shared_settings(here, 0).unwrap();
        let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
        let values = setting_values(&names, &shared_settings(there, there_step).unwrap());
        let other = BesideAnotherRank {
            other: values
                .iter()
                .copied()
                .chain(values.iter().map(|v| !v))
                .collect(),
        };
        first_differing_setting(&other, here, 0).unwrap()
    }

    /// Ranks that differ in a setting are told which; paths and caching may differ.
    #[test]
    fn the_setting_that_differs_between_ranks_is_named() {
        let config = TrainConfig::default();
        let mut moved = config.clone();
        moved.suite_dir = Some("elsewhere".into());
        assert_eq!(
            run_fingerprint(&config, 0).unwrap(),
            run_fingerprint(&moved, 0).unwrap()
        );
        assert_eq!(against(&config, &moved, 0), None);
        let seeded = TrainConfig {
            seed: config.seed + 1,
            ..config.clone()
        };
        assert_ne!(
            run_fingerprint(&config, 0).unwrap(),
            run_fingerprint(&seeded, 0).unwrap()
        );
        assert_eq!(
            against(&config, &seeded, 0),
            Some(("seed".into(), config.seed.to_string()))
        );
        let mut steps = config.clone();
        steps.tasks[1].steps += 1;
        let (name, _) = against(&config, &steps, 0).unwrap();
        assert_eq!(name, format!("task[{}].steps", config.tasks[1].name));
        assert_eq!(
            against(&config, &config, 700),
            Some(("the step the run starts from".into(), "0".into()))
        );
        // The same tasks in another order: a plan of other steps.
        let mut swapped = config.clone();
        swapped.tasks.swap(0, 1);
        let order = |c: &TrainConfig| c.tasks.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            against(&config, &swapped, 0),
            Some(("the order of the tasks".into(), order(&config).join(", ")))
        );
    }
}
