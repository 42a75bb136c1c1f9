//! A resumed run continues with the configuration stored in its checkpoint, so a `config.toml`
//! edited in the run's folder has no effect: the run says which keys were edited and keeps the
//! edited file beside the one it rewrites, rather than overwriting the edits without a word.

use std::path::{Path, PathBuf};
use toml::Value;

/// A run's configuration, in its output folder.
pub const CONFIG_FILE: &str = "config.toml";
/// Where a resumed run keeps an edited [`CONFIG_FILE`].
pub const EDITED_CONFIG_FILE: &str = "config.toml.edited";

/// The dotted keys (`task[1].lr`) that the TOML document `a` sets otherwise than `b`, or that
/// `b` lacks, in order. Keys `a` leaves out do not count: a file written by an older version
/// lacks the keys added since.
pub fn differing_keys(a: &Value, b: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    collect("", a, b, &mut keys);
    keys
}

fn collect(path: &str, a: &Value, b: &Value, keys: &mut Vec<String>) {
    let child = |key: &str| match path {
        "" => key.to_string(),
        _ => format!("{path}.{key}"),
    };
    match (a, b) {
        (Value::Table(x), Value::Table(y)) => {
            for (name, u) in x {
                match y.get(name) {
                    Some(v) => collect(&child(name), u, v, keys),
                    None => keys.push(child(name)),
                }
            }
        }
        // Arrays of tables (the `[[task]]` list) of the same length: entry by entry.
        (Value::Array(x), Value::Array(y))
            if x.len() == y.len() && x.iter().chain(y).all(Value::is_table) =>
        {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                collect(&format!("{path}[{i}]"), u, v, keys);
            }
        }
        _ if a != b => keys.push(path.to_string()),
        _ => {}
    }
}

/// Before a resumed run rewrites `dir/config.toml` as `resumed` (its checkpoint's configuration,
/// as TOML): if the file there says otherwise (or no longer parses), it is moved to
/// `config.toml.edited` and the edited keys are returned with that path. A missing file is
/// left to be written.
pub fn keep_edited_config(
    dir: &Path,
    resumed: &str,
) -> Result<Option<(Vec<String>, PathBuf)>, String> {
    let path = dir.join(CONFIG_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let resumed: Value = resumed.parse().map_err(|e| format!("{e}"))?;
    let keys = match text.parse::<Value>() {
        Ok(written) => differing_keys(&written, &resumed),
        Err(_) => vec!["the whole file, which no longer parses as TOML".to_string()],
    };
    if keys.is_empty() {
        return Ok(None);
    }
    let kept = dir.join(EDITED_CONFIG_FILE);
    std::fs::rename(&path, &kept).map_err(|e| format!("{}: {e}", kept.display()))?;
    Ok(Some((keys, kept)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edited_keys_are_named_by_their_paths() {
        // The file sets the optimizer, one task's lr and a key of its own; it lacks `clip`,
        // which counts for nothing (an older version did not write it).
        let written: Value = "seed = 0\npreset = \"tiny\"\n[optimizer]\nname = \"adamw\"\n\
                              [[task]]\nname = \"a\"\nlr = 0.5\n[[task]]\nname = \"b\"\nsteps = 3\nextra = 1\n"
            .parse()
            .unwrap();
        let stored: Value = "seed = 0\npreset = \"tiny\"\nclip = 1.0\n[optimizer]\nname = \"sgd\"\n\
                             [[task]]\nname = \"a\"\nlr = 0.001\n[[task]]\nname = \"b\"\nsteps = 3\n"
            .parse()
            .unwrap();
        assert_eq!(
            differing_keys(&written, &stored),
            ["optimizer.name", "task[0].lr", "task[1].extra"]
        );
        assert!(differing_keys(&stored, &stored).is_empty());
        let dir = std::env::temp_dir().join(format!("polyvit-edits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), "seed = [").unwrap();
        let (keys, kept) = keep_edited_config(&dir, "seed = 0\n").unwrap().unwrap();
        assert_eq!(keys, ["the whole file, which no longer parses as TOML"]);
        assert_eq!(std::fs::read_to_string(kept).unwrap(), "seed = [");
        std::fs::remove_dir_all(&dir).ok();
        let fewer: Value = "[[task]]\nname = \"a\"\n".parse().unwrap();
        let more: Value = "[[task]]\nname = \"a\"\n[[task]]\nname = \"b\"\n"
            .parse()
            .unwrap();
        assert_eq!(differing_keys(&fewer, &more), ["task"]);
    }
}
