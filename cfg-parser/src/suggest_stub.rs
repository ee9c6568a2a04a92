//! Temporary: replaced by suggest.rs.
pub fn suggest<'a, I: IntoIterator<Item = &'a str>>(
    _word: &str,
    _candidates: I,
) -> Option<&'a str> {
    None
}
