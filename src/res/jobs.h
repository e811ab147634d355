/*
 * jobs.h - run-to-completion jobs.  A job is a container labelled
 * berth.job=<id> plus a record jobs/<id>.json.  While the container exists
 * its status is derived from dockerd (so no worker holds state); once the
 * sweeper has removed it, the record keeps the final status and a tail of
 * the logs.  Times in records are epoch milliseconds.
 */
#ifndef BERTH_JOBS_H
#define BERTH_JOBS_H

#include "berth.h"
#include "lib/schema.h"

#include <json-c/json.h>
#include <stdint.h>

struct op;

/* The state directory's folder of job records. */
#define ST_JOBS "jobs"

#define JOB_ID_LEN 16          /* hex characters */
#define JOB_TAIL   (64 * 1024) /* bytes of logs kept in the record after the sweep */

/* The body of POST /api/v1/jobs. */
extern const struct sc_schema job_schema;

/*
 * Starts a job from BODY, which must be valid for job_schema (borrowed).
 * The members of EXTRA (borrowed, may be NULL) are copied into the record.
 * Policy applies with the caller's role.  On B_OK, ID holds the new id;
 * on failure nothing is left behind.
 */
enum berr job_submit(struct op *o, json_object *body, json_object *extra, char id[JOB_ID_LEN + 1]);

/*
 * Finds job ID as O's caller may see it (others' jobs are 404) and brings
 * its status up to date.  *REC is the record (new reference): status (one
 * of queued running succeeded failed canceled timed_out), since, started,
 * finished (0 = not yet), exit_code and oom_killed once it exited.
 */
enum berr job_find(struct op *o, const char *id, json_object **rec);

/* The module. */
struct bmod;
extern const struct bmod mod_jobs;

/* 1 when S is a job id: JOB_ID_LEN hex characters. */
int job_id_valid(const char *s);

/*
 * One round of upkeep: kills jobs past their timeout (status timed_out),
 * removes the containers of jobs finished more than jobs.retention seconds
 * ago (keeping status and logs tail in the record) and rebuilds records lost
 * in a crash from container labels.  0, or -1 when some job failed.
 */
int job_sweep(void);

#endif
