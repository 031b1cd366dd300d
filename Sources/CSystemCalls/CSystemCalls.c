#define _GNU_SOURCE
#include "CSystemCalls.h"

#if defined(__linux__)
#include <sched.h>

int flap_enter_idle_policy(pid_t thread) {
    struct sched_param parameters = { .sched_priority = 0 };
    return sched_setscheduler(thread, SCHED_IDLE, &parameters);
}

int flap_current_policy(void) { return sched_getscheduler(0); }
#endif
