/*
 * cov.h - what a forked child does so that a coverage build
 * (./configure --enable-coverage, `make coverage`) sees what it ran.
 * gcov writes its counters from an atexit handler, which _exit skips, so
 * workers, the periodic child and the build-context child would all end
 * with nothing written.  Without BERTH_COVERAGE these cost nothing.
 */
#ifndef BERTH_COV_H
#define BERTH_COV_H

#include "config.h"

#include <signal.h>
#include <unistd.h>

#ifdef BERTH_COVERAGE
/* libgcov's own (GCC's gcov.h, clang's profile runtime alike). */
void __gcov_reset(void);
void __gcov_dump(void);
#endif

/*
 * Called first thing in a forked child: it starts from zero, so that what
 * the parent counted before the fork is written once (by the parent), not
 * once more by every child.
 */
static inline void
cov_child_start(void)
{
#ifdef BERTH_COVERAGE
	__gcov_reset();
#endif
}

/*
 * For a child that SIGTERM would kill mid-way, unwritten: a coverage build
 * holds the signal back so the child finishes its round and leaves through
 * cov_exit.  Whoever waits for it still has SIGKILL.
 */
static inline void
cov_hold_term(void)
{
#ifdef BERTH_COVERAGE
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
#endif
}

/*
 * _exit(STATUS) for a forked child.  A coverage build first merges the
 * child's counters into the .gcda files; gcov locks each file while it
 * merges, so children ending together add up rather than overwrite.
 */
static inline _Noreturn void
cov_exit(int status)
{
#ifdef BERTH_COVERAGE
	__gcov_dump();
#endif
	_exit(status);
}

#endif
