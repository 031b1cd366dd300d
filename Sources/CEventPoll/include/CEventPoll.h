// The readiness APIs Swift's Glibc module leaves out: epoll and eventfd on Linux, kqueue on macOS.
// HTTPWire's event loop is the only user.
#ifndef C_EVENT_POLL_H
#define C_EVENT_POLL_H

#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#elif defined(__APPLE__)
#include <sys/event.h>
#endif

#endif
