//! Class names in messages: a folder task may have hundreds, and an error or a note that lists
//! them all buries what it says.

/// Names shown before the rest are counted.
const SHOWN: usize = 12;

/// `names` joined by ", ", the first 12 of them (`SHOWN`) when there are more, then how many more:
/// `"cat, dog"`, or `"a, b, …, l and 288 more"`.
pub fn class_list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(SHOWN).map(AsRef::as_ref).collect();
    match names.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_are_whole_and_long_ones_counted() {
        assert_eq!(class_list::<&str>(&[]), "");
        assert_eq!(class_list(&["cat", "dog"]), "cat, dog");
        let twelve: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
        assert_eq!(class_list(&twelve), twelve.join(", "));
        let many: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
        assert_eq!(
            class_list(&many),
            format!("{} and 288 more", many[..12].join(", "))
        );
    }
}
