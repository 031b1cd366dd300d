// Kernel interfaces Swift's Glibc module leaves out: epoll, eventfd, sched_setattr and SCHED_IDLE on Linux, kqueue on macOS;
// glibc's malloc_trim.
#ifndef C_SYSTEM_CALLS_H
#define C_SYSTEM_CALLS_H

#if defined(__linux__)
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <malloc.h>
#include <unistd.h>
#include <stdint.h>

/// Asks the fair scheduler (EEVDF, Linux 6.12+) for a shorter time slice for the calling thread, so it preempts
/// the running thread when it wakes instead of waiting out that thread's slice. Needs no privilege and changes no
/// priority. Returns 0, or -1 with errno set (older kernels refuse with EINVAL).
static inline int flap_request_scheduler_slice(uint64_t nanoseconds) {
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
    } attributes = { sizeof(attributes), 0 /* SCHED_OTHER */, 0, 0, 0, nanoseconds, 0, 0 };
    return (int)syscall(SYS_sched_setattr, 0, &attributes, 0);
}

/// Puts a thread (0: the calling one) under SCHED_IDLE, the fair scheduler's lowest class: it runs on CPU no normal
/// thread wants, and a normal thread that wakes preempts it at once instead of waiting for the next tick. Lowering
/// needs no privilege; threads it creates inherit it. Returns 0, or -1 with errno set.
static inline int flap_enter_idle_policy(pid_t thread) {
    struct sched_param parameters = { .sched_priority = 0 };
    return sched_setscheduler(thread, 5 /* SCHED_IDLE, which <sched.h> shows only to _GNU_SOURCE */, &parameters);
}

/// The calling thread's scheduling policy (SCHED_IDLE is 5), or -1 with errno set.
static inline int flap_current_policy(void) { return sched_getscheduler(0); }

/// Gives the heap memory glibc keeps for reuse back to the system; 1 if any was given back.
static inline int flap_return_free_heap(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
#elif defined(__APPLE__)
#include <sys/event.h>
#endif

#endif
