//! The trainer's threads yield to the UI: a rayon pool of all cores but one, at the lowest
//! scheduling priority.

/// Runs `work` on the calling thread inside a rayon pool of `cores - 1` threads (at least
/// one), the calling thread and the pool's threads lowered to the lowest priority, so the UI
/// and a software rasterizer drawing it win the CPU whenever both want it.
pub(super) fn run_in_background(work: impl FnOnce() + Send) {
    lower_priority();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.saturating_sub(1).max(1))
        .thread_name(|i| format!("anchorscope-trainer-{i}"))
        .start_handler(|_| lower_priority())
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// Lowers the calling thread's scheduling priority (Linux: `SCHED_IDLE` for this thread only,
/// nice 19 where that is refused), so a trainer never takes a core the UI or the rasterizer
/// wants: an idle-class thread is preempted at once. Best effort; nothing happens elsewhere.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread's id; failure is ignored.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
        }
    }
}
