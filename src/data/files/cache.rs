//! A bounded cache of decoded images (least recently used out first), shared by every view of
//! a dataset, so images are decoded lazily, when shown or batched, and memory stays bounded.

use image::RgbImage;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Decoded images by dataset image index, at most `capacity` of them.
pub struct ImageCache {
    inner: Mutex<LruCache<usize, Arc<RgbImage>>>,
}

impl ImageCache {
    /// A cache holding at most `capacity` images (at least 1).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).expect("capacity >= 1");
        Self {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The cached image `index`, or the result of `decode` (cached when it succeeds).
    /// Decoding happens outside the lock, so other threads are not held up by it.
    pub fn get_or_decode<E>(
        &self,
        index: usize,
        decode: impl FnOnce() -> Result<RgbImage, E>,
    ) -> Result<Arc<RgbImage>, E> {
        if let Some(img) = self.lock().get(&index) {
            return Ok(img.clone());
        }
        let img = Arc::new(decode()?);
        self.lock().put(index, img.clone());
        Ok(img)
    }

    /// Number of images held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<usize, Arc<RgbImage>>> {
        // A panic while holding the lock cannot leave the cache inconsistent: take it back.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
