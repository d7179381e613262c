//! The latent-factor interaction generator.

use super::*;

/// Configuration of the latent-factor interaction generator ([`LatentFactorConfig::generate`]).
///
/// User `u` and item `i` have factors `p_u`, `q_i` (Gaussian, scaled so that `p_u · q_i` has
/// unit variance) and item `i` a popularity `(r_i + 1)^-skew` for a random rank `r_i`. Each
/// user draws a log-normal number of distinct items (mean `interactions_per_user`, at least 1,
/// at most `items`) without replacement, with probability ∝ `exp(p_u · q_i / temperature) ×
/// popularity_i`. The same configuration gives the same data. Sampling scores every item for
/// every user, so it costs `users × items × dim`: sized for synthetic experiments (2000 × 5000
/// takes about a second).
#[derive(Config, Debug)]
pub struct LatentFactorConfig {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Dimension of the latent factors.
    #[config(default = 8)]
    pub dim: usize,
    /// Mean number of interactions per user (at least 1).
    #[config(default = 10.0)]
    pub interactions_per_user: f32,
    /// Zipf exponent of item popularity: 0 makes all items equally popular, 1 is a typical
    /// long tail.
    #[config(default = 1.0)]
    pub popularity_skew: f32,
    /// Softmax temperature of the affinity: lower makes users pickier (more learnable).
    #[config(default = 0.5)]
    pub temperature: f32,
    /// Seed.
    #[config(default = 0)]
    pub seed: u64,
}

/// Interactions sampled from latent factors, with the factors that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentFactors {
    /// The sampled interactions (no ratings, no id maps), items of a user in ascending order.
    pub interactions: Interactions,
    /// `[users][dim]` row-major.
    pub user_factors: Vec<f32>,
    /// `[items][dim]` row-major.
    pub item_factors: Vec<f32>,
    /// Log popularity of each item.
    pub log_popularity: Vec<f32>,
    /// Factor dimension.
    pub dim: usize,
    /// Affinity temperature.
    pub temperature: f32,
}

impl LatentFactors {
    /// The log sampling weight of `item` for `user`, `p_u · q_i / temperature + log
    /// popularity_i`: the true score a recommender should learn to rank by. `None` out of
    /// range.
    pub fn score(&self, user: usize, item: usize) -> Option<f32> {
        (user < self.interactions.num_users && item < self.interactions.num_items)
            .then(|| self.logit(user, item))
    }

    fn logit(&self, user: usize, item: usize) -> f32 {
        let p = &self.user_factors[user * self.dim..(user + 1) * self.dim];
        let q = &self.item_factors[item * self.dim..(item + 1) * self.dim];
        p.iter().zip(q).map(|(a, b)| a * b).sum::<f32>() / self.temperature
            + self.log_popularity[item]
    }
}

impl LatentFactorConfig {
    /// Samples the interactions; fails on an empty or out-of-range setting.
    pub fn generate(&self) -> Result<LatentFactors> {
        let invalid = |what: &str, reason: String| {
            Error::invalid(format!("latent factor config {what}"), reason)
        };
        for (count, what) in [(self.users, "users"), (self.items, "items")] {
            if count == 0 || count > MAX_COUNT {
                return Err(invalid(
                    what,
                    format!("must be in 1..={MAX_COUNT}, got {count}"),
                ));
            }
        }
        if self.dim == 0 {
            return Err(invalid("dim", "must be at least 1".into()));
        }
        let mean = self.interactions_per_user;
        if !(mean >= 1.0 && mean.is_finite()) {
            return Err(invalid(
                "interactions_per_user",
                format!("must be at least 1, got {mean}"),
            ));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(invalid(
                "temperature",
                format!("must be positive, got {}", self.temperature),
            ));
        }
        if !(self.popularity_skew >= 0.0 && self.popularity_skew.is_finite()) {
            return Err(invalid(
                "popularity_skew",
                format!("must be at least 0, got {}", self.popularity_skew),
            ));
        }
        let factor_len = |count: usize| {
            count
                .checked_mul(self.dim)
                .ok_or_else(|| invalid("dim", format!("{count} × {} factors overflow", self.dim)))
        };
        let (user_len, item_len) = (factor_len(self.users)?, factor_len(self.items)?);

        let mut rng = StdRng::seed_from_u64(self.seed);
        let scale = (self.dim as f32).powf(-0.25);
        let user_factors = (0..user_len).map(|_| scale * gaussian(&mut rng)).collect();
        let item_factors = (0..item_len).map(|_| scale * gaussian(&mut rng)).collect();
        let mut ranks: Vec<usize> = (0..self.items).collect();
        ranks.shuffle(&mut rng);
        let log_popularity = ranks
            .iter()
            .map(|&r| -self.popularity_skew * ((r + 1) as f32).ln())
            .collect();
        let mut data = LatentFactors {
            interactions: Interactions::new(self.users, self.items, Vec::new(), Vec::new())?,
            user_factors,
            item_factors,
            log_popularity,
            dim: self.dim,
            temperature: self.temperature,
        };

        let (mut users, mut items) = (Vec::new(), Vec::new());
        let mut keys: Vec<(f32, u32)> = Vec::with_capacity(self.items);
        for user in 0..self.users {
            let mut rng = item_rng(self.seed, user);
            // Log-normal with σ = 0.5 and mean `mean` (the -σ²/2 term).
            let degree = ((mean * (0.5 * gaussian(&mut rng) - 0.125).exp()).round() as usize)
                .clamp(1, self.items);
            // Sampling without replacement ∝ w_i: the `degree` smallest E_i / w_i for
            // exponential E_i (Efraimidis–Spirakis), in log space so no weight overflows.
            keys.clear();
            keys.extend((0..self.items).map(|item| {
                let exponential = -(1.0 - rng.random::<f32>()).ln();
                (exponential.ln() - data.logit(user, item), item as u32)
            }));
            keys.select_nth_unstable_by(degree - 1, |a, b| a.0.total_cmp(&b.0));
            let mut chosen: Vec<u32> = keys[..degree].iter().map(|&(_, item)| item).collect();
            chosen.sort_unstable();
            users.extend(std::iter::repeat_n(user as u32, degree));
            items.extend(chosen);
        }
        data.interactions = Interactions::new(self.users, self.items, users, items)?;
        Ok(data)
    }
}
