//! Evaluation metrics: top-1 accuracy and mean average precision.

/// The fraction of rows of `scores` (`[n, classes]`, row-major) whose largest entry is at the
/// true label (first maximum on ties).
pub fn top1_accuracy(scores: &[f32], classes: usize, labels: &[usize]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let correct = scores
        .chunks(classes)
        .zip(labels)
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > row[best] { i } else { best });
            best == label
        })
        .count();
    correct as f64 / labels.len() as f64
}

/// Average precision of one class: the mean, over the positive examples, of the precision among
/// the examples scored at least as high as it, tied ones included (so every positive of a group
/// of equal scores gets the group's precision: scikit-learn's `average_precision_score`, and
/// scores that are all equal give the positive rate, the chance level). `None` without
/// positives.
pub fn average_precision(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let positives = positive.iter().filter(|&&p| p).count();
    if positives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut seen, mut hits, mut sum) = (0usize, 0usize, 0.0);
    for group in order.chunk_by(|&a, &b| scores[a].total_cmp(&scores[b]).is_eq()) {
        let group_hits = group.iter().filter(|&&i| positive[i]).count();
        seen += group.len();
        hits += group_hits;
        sum += group_hits as f64 * hits as f64 / seen as f64;
    }
    Some(sum / positives as f64)
}

/// Mean over classes (that have at least one positive) of the average precision, for
/// `[n, classes]` scores and multi-hot targets; NaN, undefined, when no class has a positive.
pub fn mean_average_precision(scores: &[f32], targets: &[f32], classes: usize) -> f64 {
    let n = scores.len() / classes.max(1);
    let per_class: Vec<f64> = (0..classes)
        .filter_map(|c| {
            let s: Vec<f32> = (0..n).map(|i| scores[i * classes + c]).collect();
            let p: Vec<bool> = (0..n).map(|i| targets[i * classes + c] > 0.5).collect();
            average_precision(&s, &p)
        })
        .collect();
    per_class.iter().sum::<f64>() / per_class.len() as f64
}

/// The mAP of scores that carry no information: each class's positive rate, averaged over the
/// classes that have a positive; NaN, undefined, when none has.
pub fn chance_mean_average_precision(targets: &[f32], classes: usize) -> f64 {
    let n = targets.len() / classes.max(1);
    let rates: Vec<f64> = (0..classes)
        .map(|c| {
            (0..n).filter(|&i| targets[i * classes + c] > 0.5).count() as f64 / n.max(1) as f64
        })
        .filter(|&r| r > 0.0)
        .collect();
    rates.iter().sum::<f64>() / rates.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let scores = [
            0.1, 0.9, 0.0, /**/ 0.5, 0.2, 0.3, /**/ 0.0, 0.0, 1.0,
        ];
        assert_eq!(top1_accuracy(&scores, 3, &[1, 0, 0]), 2.0 / 3.0);
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: pos, neg, pos, neg → precisions at the positives: 1/1 and 2/3.
        let ap = average_precision(&[0.9, 0.8, 0.7, 0.1], &[true, false, true, false]).unwrap();
        assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(average_precision(&[0.3, 0.2], &[false, false]), None);
        // A perfect ranking scores 1; a positive tied with a negative shares its precision ½.
        assert_eq!(average_precision(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(average_precision(&[0.5, 0.5], &[true, false]), Some(0.5));
    }

    /// Tied scores share the precision at the end of their group: all equal scores (an untrained
    /// head) give the positive rate, the chance level, whatever the order of the examples (the
    /// negatives-first order gave 0.22 here); a positive tied with two negatives at the top gets
    /// 1/3.
    #[test]
    fn tied_scores_share_their_groups_precision() {
        let positive = [
            false, true, false, false, true, false, false, false, false, true,
        ];
        let ap = average_precision(&[0.5; 10], &positive).unwrap();
        assert!((ap - 0.3).abs() < 1e-12, "{ap}");
        let mut reversed = positive;
        reversed.reverse();
        assert_eq!(average_precision(&[0.5; 10], &reversed), Some(ap));
        // Ranked: {pos, neg, neg} tied, then pos: precisions 1/3 and 2/4.
        let ap = average_precision(&[0.9, 0.9, 0.9, 0.8], &[false, true, false, true]).unwrap();
        assert!((ap - (1.0 / 3.0 + 2.0 / 4.0) / 2.0).abs() < 1e-12, "{ap}");
        // Untrained heads: the mAP of equal scores is the chance mAP.
        let targets = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let chance = chance_mean_average_precision(&targets, 2);
        assert!((mean_average_precision(&[0.5; 8], &targets, 2) - chance).abs() < 1e-12);
    }

    #[test]
    fn map_averages_classes_with_positives() {
        let scores = [0.9, 0.1, /**/ 0.2, 0.8, /**/ 0.1, 0.7];
        let targets = [1.0, 0.0, /**/ 0.0, 1.0, /**/ 0.0, 0.0];
        assert!((mean_average_precision(&scores, &targets, 2) - 1.0).abs() < 1e-12);
        assert!((chance_mean_average_precision(&targets, 2) - 1.0 / 3.0).abs() < 1e-12);
        // Without a positive there is nothing to rank: undefined, not a score of 0.
        let none = [0.0; 6];
        assert!(mean_average_precision(&scores, &none, 2).is_nan());
        assert!(chance_mean_average_precision(&none, 2).is_nan());
    }
}
