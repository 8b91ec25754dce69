//! `gen_ai.client.operation.time_per_output_chunk` of one streamed answer: the time from
//! each output chunk to the next, counted into the histogram's buckets as chunks go out
//! (a fixed-size record, whatever the stream's length), added to the request's series
//! when it is accounted.

use super::histogram::{Record, PER_CHUNK, PER_CHUNK_BOUNDS};

const BUCKETS: usize = PER_CHUNK_BOUNDS.len() + 1;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChunkGaps {
    last_ms: Option<u64>,
    counts: [u64; BUCKETS],
    sum_us: u64,
}

impl ChunkGaps {
    /// A chunk of output went to the client at `now_ms`.
    pub fn chunk(&mut self, now_ms: u64) {
        if let Some(last) = self.last_ms {
            let us = now_ms.saturating_sub(last).saturating_mul(1000);
            let bucket = PER_CHUNK_BOUNDS
                .iter()
                .position(|&b| us <= b)
                .unwrap_or(PER_CHUNK_BOUNDS.len());
            if let Some(c) = self.counts.get_mut(bucket) {
                *c = c.saturating_add(1);
            }
            self.sum_us = self.sum_us.saturating_add(us);
        }
        self.last_ms = Some(now_ms);
    }

    /// Gaps counted (chunks after the first).
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn record_into(&self, r: &mut Record) {
        if self.count() > 0 {
            r.add_counts(PER_CHUNK, &self.counts, self.sum_us);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_after_the_first_chunk_land_in_their_buckets() {
        let mut g = ChunkGaps::default();
        g.chunk(1_000);
        assert_eq!(g.count(), 0);
        g.chunk(1_010); // 10 ms: on the first bound
        g.chunk(1_030); // 20 ms
        g.chunk(5_000); // 3.97 s: above every bound
        assert_eq!(g.count(), 3);
        let mut r = Record::default();
        g.record_into(&mut r);
        let (buckets, sum) = r.instrument(PER_CHUNK);
        assert_eq!((buckets[0], buckets[1], buckets[BUCKETS - 1]), (1, 1, 1));
        assert_eq!(sum, 4_000_000);
        // nothing else touched
        assert_eq!(r.instrument(super::super::histogram::DURATION).1, 0);
    }
}
