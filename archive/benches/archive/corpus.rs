//! Clip text for the archive bench that looks like what people copy: words
//! of a Zipf-distributed vocabulary (a few very common words, a long tail of
//! rare ones, as in any natural text), URLs, file paths, code lines and
//! identifiers, numbers and hashes, at realistic clip sizes.
//!
//! A small vocabulary would make every word match most clips, which no real
//! history does; the rare words and unique tokens also give the full-text
//! index its real size.

use std::fmt::Write as _;

/// A deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The most frequent English words, at the top of the vocabulary.
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "on", "with", "as", "was",
    "be", "this", "by", "are", "or", "from", "at", "not", "have", "an", "but", "you", "all", "can",
    "your", "more", "will", "one", "which", "their", "has", "if", "about", "my", "they", "new",
    "we", "time", "out", "up", "so", "some", "what", "use", "other", "when",
];
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "qu", "r", "s", "t", "v", "w", "z",
    "br", "cr", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr", "ch", "sp",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"];
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck", "x",
];
const TLDS: &[&str] = &["com", "org", "io", "net", "dev"];
const EXTENSIONS: &[&str] = &["rs", "py", "txt", "md", "toml", "json"];

/// How many words the vocabulary holds.
pub const VOCABULARY: usize = 8000;

/// The vocabulary and its Zipf weights (s = 1.07, as measured for English).
pub struct Corpus {
    pub words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Corpus {
    /// The vocabulary: the common words, then pronounceable made-up words
    /// of one to three syllables, all distinct.
    pub fn new() -> Corpus {
        let mut rng = Rng(99);
        let mut words: Vec<String> = COMMON.iter().map(|w| (*w).to_owned()).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        while words.len() < VOCABULARY {
            let mut w = String::new();
            for _ in 0..=rng.below(3) {
                w.push_str(ONSETS[rng.below(ONSETS.len())]);
                w.push_str(VOWELS[rng.below(VOWELS.len())]);
                w.push_str(CODAS[rng.below(CODAS.len())]);
            }
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.07);
                total
            })
            .collect();
        Corpus { words, cumulative }
    }

    /// One word, drawn by its Zipf weight.
    pub fn word(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative[self.cumulative.len() - 1];
        let u = (rng.next() % 1_000_000_007) as f64 / 1_000_000_007.0 * total;
        let i = self.cumulative.partition_point(|c| *c < u);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn capitalized(&self, rng: &mut Rng) -> String {
        let w = self.word(rng);
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    /// A clip: its size is drawn first (most clips are a word to a line,
    /// some paragraphs, a few pages), then its kind.
    pub fn clip(&self, rng: &mut Rng) -> String {
        let len = match rng.below(100) {
            0..=59 => 20 + rng.below(100),
            60..=94 => 200 + rng.below(800),
            _ => 2000 + rng.below(6000),
        };
        match rng.below(100) {
            0..=54 => self.prose(rng, len),
            55..=66 => self.url(rng),
            67..=74 => self.path(rng),
            75..=91 => self.code(rng, len),
            _ => format!(
                "{:08x}-{:04x} {} {}",
                rng.next() % (1 << 32),
                rng.below(1 << 16),
                rng.below(1_000_000_000),
                self.word(rng)
            ),
        }
    }

    /// Sentences of about `len` bytes, with capitals, punctuation, line
    /// breaks and numbers.
    pub fn prose(&self, rng: &mut Rng, len: usize) -> String {
        let mut s = String::with_capacity(len + 16);
        while s.len() < len {
            if !s.is_empty() {
                s.push(' ');
            }
            match rng.below(20) {
                0 => {
                    let _ = write!(s, "{}", rng.below(10_000));
                }
                1 => s.push_str(&self.capitalized(rng)),
                _ => s.push_str(self.word(rng)),
            }
            match rng.below(20) {
                0 => s.push('.'),
                1 => s.push(','),
                2 => s.push('\n'),
                _ => {}
            }
        }
        s
    }

    fn url(&self, rng: &mut Rng) -> String {
        let mut s = format!(
            "https://{}{}.{}/{}/",
            self.word(rng),
            self.word(rng),
            TLDS[rng.below(TLDS.len())],
            self.word(rng)
        );
        for i in 0..=rng.below(3) {
            if i > 0 {
                s.push('-');
            }
            s.push_str(self.word(rng));
        }
        let _ = write!(s, "?id={}", rng.below(1_000_000));
        s
    }

    fn path(&self, rng: &mut Rng) -> String {
        format!(
            "/home/user/{}/{}/{}_{}.{}",
            self.word(rng),
            self.word(rng),
            self.word(rng),
            self.word(rng),
            EXTENSIONS[rng.below(EXTENSIONS.len())]
        )
    }

    /// Lines of Rust-like code: `snake_case` functions, `CamelCase` types,
    /// numbers and hex constants.
    fn code(&self, rng: &mut Rng, len: usize) -> String {
        let mut s = String::with_capacity(len + 80);
        while s.len() < len {
            let f = format!("{}_{}", self.word(rng), self.word(rng));
            let a = self.word(rng).to_owned();
            let t = format!("{}{}", self.capitalized(rng), self.capitalized(rng));
            let _ = match rng.below(4) {
                0 => writeln!(s, "    let {a} = {f}({t}, {})?;", rng.below(4096)),
                1 => writeln!(
                    s,
                    "fn {f}({a}: &{t}) -> Result<u{}> {{",
                    [8, 16, 32, 64][rng.below(4)]
                ),
                2 => writeln!(
                    s,
                    "    if {a}.{}() > {:#x} {{ return Err({t}::{}); }}",
                    self.word(rng),
                    rng.below(1 << 16),
                    self.capitalized(rng)
                ),
                _ => writeln!(s, "}}"),
            };
        }
        s
    }
}
