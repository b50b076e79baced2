//! Back-pressure at the door: a byte budget for write requests being converted and written.
//!
//! Each request takes permits for its encoded size (in KiB, rounded up) before any work starts
//! and returns them when its write has finished. When the budget is used up the request is
//! refused at once with [`ApiError::Busy`] (`RESOURCE_EXHAUSTED` and a retry hint) instead of
//! queueing: memory stays bounded whatever the number of clients. A request larger than the
//! whole budget is admitted when nothing else is in flight, so that the budget never makes a
//! request impossible (the message-size limit bounds it).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use isobar_wire::status::ApiError;

/// Bytes per permit.
const UNIT: u64 = 1024;

/// How long a refused client should wait.
pub const BUSY_RETRY: Duration = Duration::from_millis(200);

/// The write budget shared by every ingest call.
#[derive(Clone, Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    total: u32,
}

/// Budget held by one request; dropping it returns the budget.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

impl Admission {
    /// A budget of `limit_bytes` (at least 1 KiB, at most 4 TiB).
    pub fn new(limit_bytes: u64) -> Self {
        let total = u32::try_from(limit_bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        Self { permits: Arc::new(Semaphore::new(total as usize)), total }
    }

    /// Takes budget for a request of `bytes`, waiting until it is free (for streams whose
    /// producer should be slowed down, not refused).
    pub async fn admit(&self, bytes: usize) -> Admitted {
        let needed = u32::try_from((bytes as u64).div_ceil(UNIT).max(1)).unwrap_or(u32::MAX).min(self.total);
        loop {
            // The semaphore is never closed; a failed acquire would only mean that it was.
            if let Ok(permit) = self.permits.clone().acquire_many_owned(needed).await {
                return Admitted { _permit: permit };
            }
            tokio::task::yield_now().await;
        }
    }

    /// Takes budget for a request of `bytes`, or refuses it.
    pub fn try_admit(&self, bytes: usize) -> Result<Admitted, ApiError> {
        let needed = u32::try_from((bytes as u64).div_ceil(UNIT).max(1)).unwrap_or(u32::MAX).min(self.total);
        match self.permits.clone().try_acquire_many_owned(needed) {
            Ok(permit) => Ok(Admitted { _permit: permit }),
            Err(_) => {
                let free = self.permits.available_permits() as u64;
                Err(ApiError::Busy {
                    inflight: (u64::from(self.total) - free) * UNIT,
                    needed: bytes as u64,
                    limit: u64::from(self.total) * UNIT,
                    retry_after: BUSY_RETRY,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_returned_when_the_request_ends() {
        let admission = Admission::new(10 * 1024);
        let a = admission.try_admit(6 * 1024).expect("fits");
        let err = admission.try_admit(6 * 1024).expect_err("over budget");
        match err {
            ApiError::Busy { inflight, needed, limit, .. } => {
                assert_eq!((inflight, needed, limit), (6 * 1024, 6 * 1024, 10 * 1024));
            }
            other => panic!("unexpected {other}"),
        }
        drop(a);
        assert!(admission.try_admit(6 * 1024).is_ok());
    }

    #[test]
    fn a_request_larger_than_the_budget_runs_alone() {
        let admission = Admission::new(4 * 1024);
        let big = admission.try_admit(100 * 1024).expect("admitted alone");
        assert!(admission.try_admit(1).is_err());
        drop(big);
        assert!(admission.try_admit(1).is_ok());
    }
}
