/*
 * lease.h - seed 000's lease queue as the stream relay sees it.  A locked
 * start that finds the lease held takes a queue place (a ticket number T)
 * in the worker, then hands the wait to the relay (relay/wait.c), which
 * holds no worker while it waits: it polls the queue with lease_turn, gives
 * the place up with lease_leave when the client leaves, and on its turn
 * saves the request (lease_resume_save) and redirects nginx to
 * /.berth-resume/<token>, where a worker claims it (lease_resume_claim) and
 * finishes the start with the lease already held.  The queue record is
 * leases/<key>.json (doors/seed000.c); KEY is the entry in the owner's
 * namespace.
 */
#ifndef BERTH_DOORS_LEASE_H
#define BERTH_DOORS_LEASE_H

#include <json-c/json.h>
#include <stdint.h>

#define LEASE_WAIT_S   (10 * 60) /* seconds a locked start may queue */
#define LEASE_RESUME_S 60        /* seconds a saved request waits for its worker */
#define LEASE_STALE_S  30        /* a turn nobody took for this long is skipped */
#define LEASE_RESUME   "/.berth-resume/"

/* 1 when ticket T holds KEY's lease from now on, 0 when it is not its turn, -1 on error. */
int lease_turn(const char *key, int64_t t);
/* Gives ticket T's place up (its requester left or timed out); the queue moves past it. */
void lease_leave(const char *key, int64_t t);
/*
 * Saves what the waiting request needs to finish (REC: user, entry, body)
 * under TOKEN for the worker the redirect reaches.  0, or -1.
 */
int lease_resume_save(const char *token, json_object *rec);
/*
 * Takes the saved request TOKEN (once: whoever claims it owns ticket T's
 * lease): *REC (the caller's reference) and 0, or -1 when it is gone.
 */
int lease_resume_claim(const char *token, json_object **rec);
/*
 * A saved request nobody claimed within LEASE_RESUME_S (the client left
 * during the redirect): claims it and releases its lease.
 */
void lease_resume_orphan(const char *token);

#endif
