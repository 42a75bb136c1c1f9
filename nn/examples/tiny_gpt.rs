//! A tiny character-level GPT: token and position `Embedding`s, transformer blocks with a causal
//! attention mask, a linear read-out, cross-entropy on every next character, AdamW.
//!
//! `cargo run --release --example tiny_gpt`
//!
//! The text counts in words, "one two three ... twelve one two ...": which letter comes next is
//! a matter of the letters before it ("t" starts "two", "three", "ten" and "twelve"). The
//! letters' entropy is 2.43 nats; a model that sees only the current letter can reach 1.16 (the
//! next letter's entropy given the current one), and one that attends to the earlier letters
//! can predict nearly every one. The mask keeps position `i` from
//! seeing the letters after it, which it is trained to predict.

use autograd::Var;
use nn::layers::{
    AttentionMask, Embedding, Encoder, EncoderConfig, Gelu, LayerNorm, Linear, LinearInit,
};
use nn::loss::cross_entropy_with_labels;
use nn::optim::{AdamW, Optimizer};
use nn::{impl_parameters, Context, Module};
use tensor::{DType, Result, Rng, Tensor};

/// Characters each position sees (itself and the ones before it).
const CONTEXT: usize = 24;
const WIDTH: usize = 32;
const BATCH: usize = 16;
const STEPS: usize = 400;

/// The training text and its alphabet.
struct Corpus {
    text: Vec<usize>,
    alphabet: Vec<char>,
}

impl Corpus {
    fn counting() -> Corpus {
        const WORDS: [&str; 12] = [
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve",
        ];
        let text: String = (0..40).map(|_| WORDS.join(" ") + " ").collect();
        let mut alphabet: Vec<char> = text.chars().collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        let text = text
            .chars()
            .map(|c| alphabet.binary_search(&c).unwrap())
            .collect();
        Corpus { text, alphabet }
    }

    /// `BATCH` windows of `CONTEXT + 1` characters at random places: inputs and next letters.
    fn batch(&self, rng: &mut Rng) -> (Tensor, Vec<usize>) {
        let (mut ids, mut next) = (Vec::new(), Vec::new());
        for _ in 0..BATCH {
            let start = rand::Rng::gen_range(rng, 0..self.text.len() - CONTEXT - 1);
            let window = &self.text[start..start + CONTEXT + 1];
            ids.extend(window[..CONTEXT].iter().map(|&c| c as f64));
            next.extend(&window[1..]);
        }
        let ids = Tensor::from_f64s(&ids, &[BATCH, CONTEXT], DType::F32).unwrap();
        (ids, next)
    }

    /// The entropy of the letters' frequencies, in nats: the loss of a model that knows how
    /// often each letter comes, and nothing of what came before.
    fn letter_entropy(&self) -> f64 {
        let mut counts = vec![0.0; self.alphabet.len()];
        for &c in &self.text {
            counts[c] += 1.0;
        }
        let n = self.text.len() as f64;
        counts
            .iter()
            .filter(|&&k| k > 0.0)
            .map(|&k| -(k / n) * (k / n).ln())
            .sum()
    }
}

/// Letters and positions in, one score per letter of the alphabet out, at every position.
struct TinyGpt {
    letters: Embedding,
    positions: Embedding,
    encoder: Encoder,
    head: Linear,
}

impl_parameters!(TinyGpt {
    letters,
    positions,
    encoder,
    head
});

impl TinyGpt {
    fn new(alphabet: usize, rng: &mut Rng) -> Result<TinyGpt> {
        let config = EncoderConfig {
            width: WIDTH,
            depth: 2,
            heads: 2,
            mlp_width: 4 * WIDTH,
            gelu: Gelu::Tanh,
            dropout: 0.0,
            attention_dropout: 0.0,
            stochastic_depth: 0.0,
            layer_norm_eps: LayerNorm::DEFAULT_EPS,
        };
        Ok(TinyGpt {
            letters: Embedding::new(alphabet, WIDTH, DType::F32, rng),
            positions: Embedding::new(CONTEXT, WIDTH, DType::F32, rng),
            encoder: Encoder::new(&config, DType::F32, rng)?,
            head: Linear::new(WIDTH, alphabet, LinearInit::XavierUniform, DType::F32, rng),
        })
    }

    /// `[batch, tokens]` letter ids to `[batch, tokens, alphabet]` scores.
    fn forward(&self, ids: &Tensor, ctx: &mut Context) -> Result<Var> {
        let tokens = ids.shape()[1];
        let places = Tensor::arange(0.0, tokens as f64, 1.0, DType::F32)?;
        let x = self
            .letters
            .lookup(ids)?
            .add(&self.positions.lookup(&places)?)?;
        let x = self
            .encoder
            .forward_masked(&x, Some(&AttentionMask::Causal), ctx)?;
        self.head.forward(&x, ctx)
    }
}

/// Trains the model; returns the final loss, the letters' entropy and a greedy continuation.
fn run() -> Result<(f64, f64, String)> {
    let corpus = Corpus::counting();
    let mut rng = tensor::rng(0);
    let mut model = TinyGpt::new(corpus.alphabet.len(), &mut rng)?;
    let mut optimizer = AdamW::new(0.9, 0.99, 1e-8, 0.01);
    let entropy = corpus.letter_entropy();
    println!(
        "{} letters, alphabet of {}, their entropy {entropy:.3} nats",
        corpus.text.len(),
        corpus.alphabet.len()
    );
    let mut loss_value = f64::NAN;
    for step in 0..STEPS {
        let (ids, next) = corpus.batch(&mut rng);
        let logits = model.forward(&ids, &mut Context::train(step as u64))?;
        let logits = logits.reshape(&[BATCH * CONTEXT, corpus.alphabet.len()])?;
        let loss = cross_entropy_with_labels(&logits, &next, 0.0)?;
        loss_value = loss.value().to_scalar()?;
        if step % 50 == 0 {
            println!("step {step:3}  loss {loss_value:.3}");
        }
        let grads = loss.backward()?;
        optimizer.step(&mut model, &grads, 3e-3)?;
    }
    // Greedy continuation of a prompt, one letter at a time, the window sliding along.
    let prompt = "one two ";
    let mut letters: Vec<usize> = prompt
        .chars()
        .map(|c| corpus.alphabet.binary_search(&c).unwrap())
        .collect();
    for _ in 0..40 {
        let window = &letters[letters.len().saturating_sub(CONTEXT)..];
        let ids: Vec<f64> = window.iter().map(|&c| c as f64).collect();
        let ids = Tensor::from_f64s(&ids, &[1, window.len()], DType::F32)?;
        let scores = model.forward(&ids, &mut Context::eval())?;
        let last = scores.value().narrow(1, window.len() - 1, 1)?;
        letters.push(last.argmax(2, false)?.to_vec_f64()?[0] as usize);
    }
    let text: String = letters.iter().map(|&c| corpus.alphabet[c]).collect();
    println!("final loss {loss_value:.3} nats per letter (the letters' entropy: {entropy:.3})");
    println!("greedy continuation of {prompt:?}: {text:?}");
    Ok((loss_value, entropy, text))
}

fn main() -> Result<()> {
    run().map(|_| ())
}

#[test]
fn the_model_learns_to_count() {
    let (loss, entropy, text) = run().unwrap();
    assert!(
        loss < 0.2 * entropy,
        "loss {loss} against an entropy of {entropy}"
    );
    assert!(
        text.starts_with("one two three four five six seven"),
        "{text:?}"
    );
}
