use std::collections::HashMap;

/// Counts holds how often each word (lower case, letters and apostrophes) was seen.
#[derive(Default)]
pub struct Counts {
    words: HashMap<String, usize>,
    total: usize,
}

impl Counts {
    pub fn add_text(&mut self, text: &str) {
        for raw in text.split(|c: char| !(c.is_alphabetic() || c == '\'')) {
            let word = raw.trim_matches('\'').to_lowercase();
            if word.is_empty() {
                continue;
            }
            *self.words.entry(word).or_insert(0) += 1;
            self.total += 1;
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn distinct(&self) -> usize {
        self.words.len()
    }

    /// most_frequent lists the n most frequent words, ties in alphabetical order.
    pub fn most_frequent(&self, n: usize) -> Vec<(&str, usize)> {
        let mut all: Vec<(&str, usize)> = self.words.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn counts_words_case_blind() {
        let mut c = Counts::default();
        c.add_text("The cat and the hat. THE END");
        assert_eq!(c.total(), 7);
        assert_eq!(c.most_frequent(1), vec![("the", 3)]);
    }
}
