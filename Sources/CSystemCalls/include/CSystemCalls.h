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

/// The Swift runtime's hooks on its global executor (libswift_Concurrency exports them, Swift calling convention).
/// A thread inherits its creator's scheduling policy, and libdispatch starts a pool worker on whichever thread
/// enqueues when the pool needs one: a thread under SCHED_IDLE that enqueues a task there may start a worker that
/// runs idle-policy for its life. These hooks hand such enqueues to a sink, for a normal thread to make.
typedef void (__attribute__((swiftcall)) *flap_enqueue_now)(void *job);
typedef void (__attribute__((swiftcall)) *flap_enqueue_after)(unsigned long long delay, void *job);
typedef void (__attribute__((swiftcall)) *flap_enqueue_at)(long long sec, long long nsec, long long tsec, long long tnsec,
                                                           int clock, void *job);
extern void (__attribute__((swiftcall)) *swift_task_enqueueGlobal_hook)(void *job, flap_enqueue_now original);
extern void (__attribute__((swiftcall)) *swift_task_enqueueGlobalWithDelay_hook)(unsigned long long delay, void *job,
                                                                                 flap_enqueue_after original);
extern void (__attribute__((swiftcall)) *swift_task_enqueueGlobalWithDeadline_hook)(long long sec, long long nsec,
    long long tsec, long long tnsec, int clock, void *job, flap_enqueue_at original);

/// One enqueue onto the global executor, held until a normal thread makes it (kind 0 now, 1 after `delay`
/// nanoseconds, 2 at the deadline).
typedef struct {
    int kind;
    void *job;
    void *original;
    unsigned long long delay;
    long long sec, nsec, tsec, tnsec;
    int clock;
} flap_global_enqueue;

typedef void (*flap_global_enqueue_sink)(const flap_global_enqueue *enqueue);

// State kept in function-local statics (Swift does not emit a header's file-scope ones). Each object file that
// uses these functions gets its own copies: call them from one Swift source file only.
static inline int *flap_thread_lowered_flag(void) {
    static __thread int lowered;
    return &lowered;
}

static inline flap_global_enqueue_sink *flap_enqueue_sink_slot(void) {
    static flap_global_enqueue_sink sink;
    return &sink;
}

/// Marks the calling thread as one whose global enqueues go to the sink.
static inline void flap_mark_thread_lowered(void) { *flap_thread_lowered_flag() = 1; }

/// Whether the calling thread's global enqueues go to the sink: marked, or found under SCHED_IDLE the first time it
/// asks (a thread a lowered one created inherited the policy); the answer is kept (1 lowered, 2 normal).
static inline int flap_thread_is_lowered(void) {
    int *flag = flap_thread_lowered_flag();
    if (*flag == 0) *flag = sched_getscheduler(0) == 5 ? 1 : 2;
    return *flag == 1;
}

static inline __attribute__((swiftcall)) void flap_hook_enqueue_now(void *job, flap_enqueue_now original) {
    if (!flap_thread_is_lowered()) return original(job);
    flap_global_enqueue enqueue = { .kind = 0, .job = job, .original = (void *)original };
    (*flap_enqueue_sink_slot())(&enqueue);
}

static inline __attribute__((swiftcall)) void flap_hook_enqueue_after(unsigned long long delay, void *job,
                                                                       flap_enqueue_after original) {
    if (!flap_thread_is_lowered()) return original(delay, job);
    flap_global_enqueue enqueue = { .kind = 1, .job = job, .original = (void *)original, .delay = delay };
    (*flap_enqueue_sink_slot())(&enqueue);
}

static inline __attribute__((swiftcall)) void flap_hook_enqueue_at(long long sec, long long nsec, long long tsec,
                                                                    long long tnsec, int clock, void *job,
                                                                    flap_enqueue_at original) {
    if (!flap_thread_is_lowered()) return original(sec, nsec, tsec, tnsec, clock, job);
    flap_global_enqueue enqueue = { .kind = 2, .job = job, .original = (void *)original,
                                    .sec = sec, .nsec = nsec, .tsec = tsec, .tnsec = tnsec, .clock = clock };
    (*flap_enqueue_sink_slot())(&enqueue);
}

/// Installs the hooks with `sink`; -1 (and nothing changed) if any of them is already someone else's.
static inline int flap_install_enqueue_hooks(flap_global_enqueue_sink sink) {
    if (swift_task_enqueueGlobal_hook == flap_hook_enqueue_now) return 0;
    if (swift_task_enqueueGlobal_hook || swift_task_enqueueGlobalWithDelay_hook || swift_task_enqueueGlobalWithDeadline_hook) {
        return -1;
    }
    *flap_enqueue_sink_slot() = sink;
    swift_task_enqueueGlobalWithDeadline_hook = flap_hook_enqueue_at;
    swift_task_enqueueGlobalWithDelay_hook = flap_hook_enqueue_after;
    swift_task_enqueueGlobal_hook = flap_hook_enqueue_now;
    return 0;
}

/// Makes a held enqueue, as the runtime would have without the hook.
static inline void flap_make_global_enqueue(const flap_global_enqueue *enqueue) {
    switch (enqueue->kind) {
    case 0: ((flap_enqueue_now)enqueue->original)(enqueue->job); break;
    case 1: ((flap_enqueue_after)enqueue->original)(enqueue->delay, enqueue->job); break;
    default:
        ((flap_enqueue_at)enqueue->original)(enqueue->sec, enqueue->nsec, enqueue->tsec, enqueue->tnsec, enqueue->clock,
                                             enqueue->job);
    }
}

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
