//! The class names of the built-in tasks, in label order (what `polyvit predict` prints). Each
//! name is also a valid folder name, so a task's data exports to one folder per class.

use super::{SuiteConfig, TaskId, DRUM_CLASSES, LANGUAGES};

/// Fashion-MNIST's ten classes ("T-shirt/top" without the slash, which a folder name cannot hold).
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt or top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Compass names of the eight Moving-MNIST directions (direction `k` is `45°·k` counter-clockwise
/// from "right").
const EIGHT_DIRECTIONS: [&str; 8] = [
    "right",
    "up-right",
    "up",
    "up-left",
    "left",
    "down-left",
    "down",
    "down-right",
];

/// The names of `task`'s classes under `cfg`, in label order.
pub fn class_names(task: TaskId, cfg: &SuiteConfig) -> Vec<String> {
    let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    match task {
        TaskId::Mnist | TaskId::MovingMnistClass | TaskId::SpokenDigits => {
            (0..10).map(|d| d.to_string()).collect()
        }
        TaskId::FashionMnist => owned(&FASHION_CLASSES),
        TaskId::MovingMnistDirection if cfg.video.directions == EIGHT_DIRECTIONS.len() => {
            owned(&EIGHT_DIRECTIONS)
        }
        TaskId::MovingMnistDirection => {
            let n = cfg.video.directions;
            (0..n)
                .map(|k| format!("{} degrees", 360.0 * k as f64 / n as f64))
                .collect()
        }
        TaskId::Drums => owned(&DRUM_CLASSES),
        TaskId::ArrowOfTime => owned(&["forward", "backward"]),
        TaskId::LanguageId => owned(&LANGUAGES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_other_than_eight_are_named_by_angle() {
        let mut cfg = SuiteConfig::default();
        assert_eq!(class_names(TaskId::MovingMnistDirection, &cfg)[2], "up");
        cfg.video.directions = 4;
        assert_eq!(
            class_names(TaskId::MovingMnistDirection, &cfg),
            ["0 degrees", "90 degrees", "180 degrees", "270 degrees"]
        );
        assert_eq!(class_names(TaskId::FashionMnist, &cfg)[9], "Ankle boot");
    }
}
